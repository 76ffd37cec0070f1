import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { policiesAndConsumers } from '../migrations/0003_policies_consumers.js';
import { policyBlobPolicies } from '../policies/policies-api.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerPolicyRoutes } from './policies-api.js';

type Json = Record<string, unknown>;

/** The identity API with this group's routes and rules (every migration applied). */
function harness(): Promise<IdentityHarness> {
  return identityHarness({ routes: [registerPolicyRoutes], policies: policyBlobPolicies });
}

describe('identity policy-blob API (/v3/policies)', () => {
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
  const create = async (policy: Json): Promise<Json> => {
    const res = await call('POST', '/v3/policies', { policy });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().policy as Json;
  };

  it('creates, shows, updates and deletes a policy as Tempest does', async () => {
    const created = await call('POST', '/v3/policies', {
      policy: { blob: '{"rule": "x"}', type: 'application/json', owner: 'ops' },
    });
    assert.equal(created.statusCode, 201);
    const p = created.json().policy as Json & { id: string };
    assert.match(p.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(p, {
      id: p.id,
      blob: '{"rule": "x"}',
      type: 'application/json',
      owner: 'ops',
      links: { self: `http://localhost:80/v3/policies/${p.id}` },
    });

    const shown = await call('GET', `/v3/policies/${p.id}`);
    assert.equal(shown.statusCode, 200);
    assert.deepEqual(shown.json().policy, p);

    const updated = await call('PATCH', `/v3/policies/${p.id}`, {
      policy: { type: 'text/plain', color: 'blue' },
    });
    assert.equal(updated.statusCode, 200);
    assert.deepEqual(updated.json().policy, { ...p, type: 'text/plain', color: 'blue' });
    const fetched = (await call('GET', `/v3/policies/${p.id}`)).json().policy as Json;
    assert.equal(fetched['type'], 'text/plain');
    assert.equal(fetched['blob'], p['blob'], 'the blob is kept when only the type changes');
    assert.equal(fetched['owner'], 'ops', 'earlier extra attributes are kept');

    const blobOnly = await call('PATCH', `/v3/policies/${p.id}`, {
      policy: { id: p.id, blob: 'new' },
    });
    assert.equal(blobOnly.statusCode, 200, 'repeating the same id is allowed');
    assert.equal(blobOnly.json().policy.blob, 'new');
    assert.equal(blobOnly.json().policy.type, 'text/plain');

    assert.equal((await call('DELETE', `/v3/policies/${p.id}`)).statusCode, 204);
    const gone = await call('GET', `/v3/policies/${p.id}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.message, `Could not find policy: ${p.id}.`);
  });

  it('lists policies, filtered by type', async () => {
    const a = await create({ blob: 'a', type: 'list-type-a' });
    const b = await create({ blob: 'b', type: 'list-type-a' });
    const c = await create({ blob: 'c', type: 'list-type-b' });
    const all = await call('GET', '/v3/policies');
    assert.equal(all.statusCode, 200);
    const ids = (all.json().policies as Json[]).map((p) => p['id']);
    for (const p of [a, b, c]) assert.ok(ids.includes(p['id']));
    assert.deepEqual(all.json().links, {
      self: 'http://localhost:80/v3/policies',
      previous: null,
      next: null,
    });
    const filtered = await call('GET', '/v3/policies?type=list-type-a');
    assert.deepEqual(
      (filtered.json().policies as Json[]).map((p) => p['id']).sort(),
      [a['id'], b['id']].sort(),
    );
    assert.deepEqual((filtered.json().policies as Json[])[0]?.['links'], {
      self: `http://localhost:80/v3/policies/${String((filtered.json().policies as Json[])[0]?.['id'])}`,
    });
    const none = await call('GET', '/v3/policies?type=no-such-type');
    assert.deepEqual(none.json().policies, []);
  });

  it('ignores an id in the create body: the server picks it', async () => {
    const p = await create({ id: 'chosen', blob: 'x', type: 't' });
    assert.notEqual(p['id'], 'chosen');
    assert.equal((await call('GET', '/v3/policies/chosen')).statusCode, 404);
  });

  it('answers 400 for bad bodies and 404 for missing policies', async () => {
    const p = await create({ blob: 'x', type: 't' });
    const bad: Array<[string, string, unknown, RegExp]> = [
      ['POST', '/v3/policies', {}, /'policy' is a required property/],
      ['POST', '/v3/policies', { policy: { type: 't' } }, /'blob' is a required property/],
      ['POST', '/v3/policies', { policy: { blob: 'x' } }, /'type' is a required property/],
      ['POST', '/v3/policies', { policy: { blob: 5, type: 't' } }, /'blob'.*not of type 'string'/],
      ['POST', '/v3/policies', { policy: { blob: 'x', type: 't'.repeat(256) } }, /too long/],
      ['POST', '/v3/policies', { policy: 'x' }, /not of type 'object'/],
      ['PATCH', `/v3/policies/${String(p['id'])}`, { policy: {} }, /not have enough properties/],
      ['PATCH', `/v3/policies/${String(p['id'])}`, { policy: { type: null } }, /'type'/],
      ['PATCH', `/v3/policies/${String(p['id'])}`, { policy: { id: 'other' } }, /Cannot change/],
    ];
    for (const [method, url, body, message] of bad) {
      const res = await call(method, url, body);
      assert.equal(res.statusCode, 400, `${method} ${JSON.stringify(body)}`);
      assert.match(res.json().error.message, message);
    }
    const unchanged = (await call('GET', `/v3/policies/${String(p['id'])}`)).json().policy;
    assert.deepEqual(unchanged, p, 'refused updates change nothing');
    assert.equal(
      (await call('PATCH', '/v3/policies/nope', { policy: { type: 'x' } })).statusCode,
      404,
    );
    assert.equal((await call('DELETE', '/v3/policies/nope')).statusCode, 404);
    assert.equal((await call('GET', '/v3/policies/nope')).statusCode, 404);
  });

  it('refuses every call to a project member (403)', async () => {
    const p = await create({ blob: 'x', type: 'rbac' });
    const id = String(p['id']);
    const refused: Array<[string, string, unknown, string]> = [
      ['POST', '/v3/policies', { policy: { blob: 'y', type: 'rbac' } }, 'create_policy'],
      ['PATCH', `/v3/policies/${id}`, { policy: { type: 'z' } }, 'update_policy'],
      ['DELETE', `/v3/policies/${id}`, undefined, 'delete_policy'],
      ['GET', '/v3/policies', undefined, 'list_policies'],
      ['GET', `/v3/policies/${id}`, undefined, 'get_policy'],
    ];
    for (const [method, url, body, action] of refused) {
      const res = await call(method, url, body, memberToken);
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.equal(
        res.json().error.message,
        `Policy doesn't allow identity:${action} to be performed.`,
      );
    }
    const after = (await call('GET', `/v3/policies/${id}`)).json().policy;
    assert.deepEqual(after, p, 'the refused writes changed nothing');
    const list = (await call('GET', '/v3/policies?type=rbac')).json().policies as Json[];
    assert.equal(list.length, 1, 'the refused create made nothing');
  });

  it('lets a system reader list and show, but not write', async () => {
    const p = await create({ blob: 'x', type: 'sysread' });
    const id = String(p['id']);
    const list = await call('GET', '/v3/policies?type=sysread', undefined, systemReader);
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().policies, [p]);
    const shown = await call('GET', `/v3/policies/${id}`, undefined, systemReader);
    assert.equal(shown.statusCode, 200);
    assert.deepEqual(shown.json().policy, p);
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/v3/policies', { policy: { blob: 'y', type: 'sysread' } }],
      ['PATCH', `/v3/policies/${id}`, { policy: { type: 'z' } }],
      ['DELETE', `/v3/policies/${id}`, undefined],
    ];
    for (const [method, url, body] of writes) {
      assert.equal((await call(method, url, body, systemReader)).statusCode, 403, method);
    }
  });
});

describe('migration 0003_policies_consumers', () => {
  it('creates the policy and consumer tables, and drops them again', async () => {
    const h = await identityHarness();
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration takes any schema
      const db = h.db as Kysely<any>;
      // The harness applied every migration; undo this one and apply it again.
      await policiesAndConsumers.down?.(db, 'sqlite');
      await policiesAndConsumers.up(db, 'sqlite');
      const names = async () =>
        (await db.introspection.getTables())
          .map((t) => t.name)
          .filter((n) => n === 'policy' || n === 'consumer');
      assert.deepEqual((await names()).sort(), ['consumer', 'policy']);
      const policy = (await db.introspection.getTables()).find((t) => t.name === 'policy');
      assert.deepEqual(
        policy?.columns.map((c) => c.name),
        ['id', 'type', 'blob', 'extra'],
      );
      for (const column of ['type', 'blob', 'extra']) {
        assert.equal(policy?.columns.find((c) => c.name === column)?.isNullable, false, column);
      }
      const consumer = (await db.introspection.getTables()).find((t) => t.name === 'consumer');
      assert.deepEqual(
        consumer?.columns.map((c) => c.name),
        ['id', 'description', 'secret_hash', 'extra'],
      );
      assert.equal(consumer?.columns.find((c) => c.name === 'description')?.isNullable, true);
      assert.equal(consumer?.columns.find((c) => c.name === 'secret_hash')?.isNullable, false);
      assert.ok(policiesAndConsumers.down, 'the migration can be undone');
      await policiesAndConsumers.down(db, 'sqlite');
      assert.deepEqual(await names(), []);
    } finally {
      await h.close();
    }
  });
});
