import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oauth1Policies } from '../policies/oauth1.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerOAuth1Routes, type ConsumerRow } from './oauth1.js';

type Json = Record<string, unknown>;
const CONSUMERS = '/v3/OS-OAUTH1/consumers';

/** The identity API with this group's routes and rules (every migration applied). */
function harness(): Promise<IdentityHarness> {
  return identityHarness({ routes: [registerOAuth1Routes], policies: oauth1Policies });
}

describe('identity OAuth1 consumers API (/v3/OS-OAUTH1/consumers)', () => {
  let h: IdentityHarness;
  let admin: string;
  let memberToken: string;
  let systemReader: string;
  before(async () => {
    h = await harness();
    admin = h.adminToken;
    const project = await h.project();
    const memberUser = await h.user();
    await h.grant({ userId: memberUser.id }, 'member', { projectId: project });
    memberToken = await h.token(memberUser, { project: { id: project } });
    const reader = await h.user();
    await h.grant({ userId: reader.id }, 'reader', { system: true });
    systemReader = await h.token(reader, { system: { all: true } });
  });
  after(() => h.close());

  const call = (method: string, url: string, payload?: unknown, token = admin) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-auth-token': token },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const create = async (consumer: Json = { description: 'c' }): Promise<Json & { id: string }> => {
    const res = await call('POST', CONSUMERS, { consumer });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().consumer as Json & { id: string };
  };
  const stored = (id: string): Promise<ConsumerRow | undefined> =>
    h.db
      .withTables<{ consumer: ConsumerRow }>()
      .selectFrom('consumer')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();

  it('creates a consumer, showing its secret once, and stores only a hash of it', async () => {
    const res = await call('POST', CONSUMERS, { consumer: { description: 'my app' } });
    assert.equal(res.statusCode, 201);
    const c = res.json().consumer as Json & { id: string; secret: string };
    assert.match(c.id, /^[0-9a-f]{32}$/);
    assert.match(c.secret, /^[0-9a-f]{32}$/);
    assert.deepEqual(c, {
      id: c.id,
      description: 'my app',
      secret: c.secret,
      links: { self: `http://localhost:80/v3/OS-OAUTH1/consumers/${c.id}` },
    });

    const row = await stored(c.id);
    assert.ok(row);
    assert.notEqual(row.secret_hash, c.secret);
    assert.ok(!row.secret_hash.includes(c.secret));
    assert.equal(await h.identity.hasher.verify(c.secret, row.secret_hash), true);
    assert.equal(await h.identity.hasher.verify('wrong', row.secret_hash), false);
    assert.equal(row.extra, '{}');

    // Shown, it matches what create answered (Tempest compares description, id, links),
    // without the secret.
    const shown = await call('GET', `${CONSUMERS}/${c.id}`);
    assert.equal(shown.statusCode, 200);
    const { secret: _secret, ...withoutSecret } = c;
    assert.deepEqual(shown.json().consumer, withoutSecret);
  });

  it('makes its own secret and id, whatever the body says', async () => {
    const c = await create({ id: 'mine', secret: 'chosen-secret', description: 'x', kind: 'cli' });
    assert.notEqual(c.id, 'mine');
    assert.notEqual(c['secret'], 'chosen-secret');
    assert.equal(c['kind'], 'cli', 'other attributes are kept');
    const row = await stored(c.id);
    assert.ok(row);
    assert.equal(await h.identity.hasher.verify(String(c['secret']), row.secret_hash), true);
    assert.equal(await h.identity.hasher.verify('chosen-secret', row.secret_hash), false);
    assert.deepEqual(JSON.parse(row.extra), { kind: 'cli' }, 'no secret lands in extra');
  });

  it('accepts a null description (what Tempest sends by default) or none at all', async () => {
    const nulled = await create({ description: null });
    assert.equal(nulled['description'], null);
    const empty = await call('POST', CONSUMERS, {});
    assert.equal(empty.statusCode, 201);
    assert.equal(empty.json().consumer.description, null);
    assert.match(empty.json().consumer.secret, /^[0-9a-f]{32}$/);
  });

  it('lists consumers without their secrets', async () => {
    const one = await create({ description: 'one' });
    const two = await create({ description: 'two' });
    const res = await call('GET', CONSUMERS);
    assert.equal(res.statusCode, 200);
    const listed = res.json().consumers as Json[];
    const ids = listed.map((c) => c['id']);
    assert.ok(ids.includes(one.id) && ids.includes(two.id));
    for (const c of listed) assert.equal('secret' in c, false);
    assert.deepEqual(
      listed.find((c) => c['id'] === one.id),
      { id: one.id, description: 'one', links: one['links'] },
    );
    assert.deepEqual(res.json().links, {
      self: 'http://localhost:80/v3/OS-OAUTH1/consumers',
      previous: null,
      next: null,
    });
  });

  it('updates the description and keeps the secret', async () => {
    const c = await create({ description: 'before', kind: 'cli' });
    const hashBefore = (await stored(c.id))?.secret_hash;
    const res = await call('PATCH', `${CONSUMERS}/${c.id}`, {
      consumer: { description: 'after', id: c.id, tier: 'gold' },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().consumer, {
      id: c.id,
      description: 'after',
      kind: 'cli',
      tier: 'gold',
      links: c['links'],
    });
    const shown = (await call('GET', `${CONSUMERS}/${c.id}`)).json().consumer as Json;
    assert.equal(shown['description'], 'after');
    assert.equal((await stored(c.id))?.secret_hash, hashBefore);

    const cleared = await call('PATCH', `${CONSUMERS}/${c.id}`, {
      consumer: { description: null },
    });
    assert.equal(cleared.statusCode, 200);
    assert.equal(cleared.json().consumer.description, null);
  });

  it('refuses to change the secret or id, and other bad bodies, with 400', async () => {
    const c = await create({ description: 'fixed' });
    const hashBefore = (await stored(c.id))?.secret_hash;
    const bad: Array<[unknown, RegExp]> = [
      [{ consumer: { description: 'x', secret: 'new' } }, /secret/],
      [{ consumer: { secret: c['secret'] } }, /secret/],
      [{ consumer: {} }, /not have enough properties/],
      [{}, /not have enough properties/],
      [{ consumer: { id: 'other' } }, /Cannot change ID/],
      [{ consumer: { description: 5 } }, /'description'.*not of type 'string', 'null'/],
      [{ consumer: 'x' }, /not of type 'object'/],
    ];
    for (const [body, message] of bad) {
      const res = await call('PATCH', `${CONSUMERS}/${c.id}`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.match(res.json().error.message, message);
    }
    const after = (await call('GET', `${CONSUMERS}/${c.id}`)).json().consumer as Json;
    assert.equal(after['description'], 'fixed', 'refused updates change nothing');
    assert.equal((await stored(c.id))?.secret_hash, hashBefore);
    const badCreate = await call('POST', CONSUMERS, { consumer: { description: ['x'] } });
    assert.equal(badCreate.statusCode, 400);
  });

  it('deletes a consumer (204), then answers 404 for it', async () => {
    const c = await create();
    assert.equal((await call('DELETE', `${CONSUMERS}/${c.id}`)).statusCode, 204);
    const gone = await call('GET', `${CONSUMERS}/${c.id}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.message, 'Consumer not found');
    assert.equal(await stored(c.id), undefined);
    assert.equal((await call('DELETE', `${CONSUMERS}/${c.id}`)).statusCode, 404);
    assert.equal(
      (await call('PATCH', `${CONSUMERS}/${c.id}`, { consumer: { description: 'x' } })).statusCode,
      404,
    );
  });

  it('refuses every call to a project member (403)', async () => {
    const c = await create({ description: 'guarded' });
    const refused: Array<[string, string, unknown, string]> = [
      ['POST', CONSUMERS, { consumer: { description: 'm' } }, 'create_consumer'],
      ['PATCH', `${CONSUMERS}/${c.id}`, { consumer: { description: 'm' } }, 'update_consumer'],
      ['DELETE', `${CONSUMERS}/${c.id}`, undefined, 'delete_consumer'],
      ['GET', CONSUMERS, undefined, 'list_consumers'],
      ['GET', `${CONSUMERS}/${c.id}`, undefined, 'get_consumer'],
    ];
    const countBefore = ((await call('GET', CONSUMERS)).json().consumers as Json[]).length;
    for (const [method, url, body, action] of refused) {
      const res = await call(method, url, body, memberToken);
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.equal(
        res.json().error.message,
        `Policy doesn't allow identity:${action} to be performed.`,
      );
    }
    const after = (await call('GET', `${CONSUMERS}/${c.id}`)).json().consumer as Json;
    assert.equal(after['description'], 'guarded', 'the refused writes changed nothing');
    const countAfter = ((await call('GET', CONSUMERS)).json().consumers as Json[]).length;
    assert.equal(countAfter, countBefore, 'the refused create made nothing');
  });

  it('lets a system reader list and show, but not write', async () => {
    const c = await create({ description: 'visible' });
    const list = await call('GET', CONSUMERS, undefined, systemReader);
    assert.equal(list.statusCode, 200);
    assert.ok((list.json().consumers as Json[]).some((x) => x['id'] === c.id));
    const shown = await call('GET', `${CONSUMERS}/${c.id}`, undefined, systemReader);
    assert.equal(shown.statusCode, 200);
    assert.equal(shown.json().consumer.description, 'visible');
    const writes: Array<[string, string, unknown]> = [
      ['POST', CONSUMERS, { consumer: { description: 'r' } }],
      ['PATCH', `${CONSUMERS}/${c.id}`, { consumer: { description: 'r' } }],
      ['DELETE', `${CONSUMERS}/${c.id}`, undefined],
    ];
    for (const [method, url, body] of writes) {
      assert.equal((await call(method, url, body, systemReader)).statusCode, 403, method);
    }
  });
});
