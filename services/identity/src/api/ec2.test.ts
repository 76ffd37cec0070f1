import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { credentialPolicies } from '../policies/credentials.js';
import { ec2Policies } from '../policies/ec2.js';
import { identityHarness, type IdentityHarness, type TestUser } from '../testing/harness.js';
import { registerCredentialRoutes } from './credentials.js';
import { registerEc2Routes } from './ec2.js';

type Json = Record<string, unknown>;
const HEX32 = /^[0-9a-f]{32}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const ec2Path = (userId: string, access?: string) =>
  `/v3/users/${userId}/credentials/OS-EC2${access !== undefined ? `/${access}` : ''}`;

describe('identity OS-EC2 credentials API (/v3/users/{user_id}/credentials/OS-EC2)', () => {
  let h: IdentityHarness;
  let projectId: string;
  let alice: TestUser;
  let bob: TestUser;
  let aliceToken: string;
  let bobToken: string;
  before(async () => {
    h = await identityHarness({
      routes: [registerEc2Routes, registerCredentialRoutes],
      policies: [...ec2Policies, ...credentialPolicies],
    });
    projectId = await h.project();
    alice = await h.user();
    bob = await h.user();
    await h.grant({ userId: alice.id }, 'member', { projectId });
    await h.grant({ userId: bob.id }, 'member', { projectId });
    aliceToken = await h.token(alice, { project: { id: projectId } });
    bobToken = await h.token(bob, { project: { id: projectId } });
  });
  after(() => h.close());

  const call = (method: string, url: string, token: string | undefined, payload?: unknown) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers: token !== undefined ? { 'x-auth-token': token } : {},
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const create = async (userId: string, token: string, tenantId = projectId): Promise<Json> => {
    const res = await call('POST', ec2Path(userId), token, { tenant_id: tenantId });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { credential: Json }).credential;
  };
  const message = (res: { json(): unknown }) =>
    (res.json() as { error: { message: string } }).error.message;

  it('creates a credential for the caller: 32-hex access and secret, Keystone shape', async () => {
    const res = await call('POST', ec2Path(alice.id), aliceToken, { tenant_id: projectId });
    assert.equal(res.statusCode, 201, res.body);
    const cred = (res.json() as { credential: Json }).credential;
    const access = cred['access'] as string;
    const secret = cred['secret'] as string;
    assert.match(access, HEX32);
    assert.match(secret, HEX32);
    assert.notEqual(access, secret);
    assert.deepEqual(res.json(), {
      credential: {
        user_id: alice.id,
        tenant_id: projectId,
        access,
        secret,
        trust_id: null,
        links: { self: `http://localhost:80${ec2Path(alice.id, access)}` },
      },
    });
    // Stored as an ordinary ec2 credential, id = sha256(access), blob encrypted at rest.
    const row = await h.db
      .selectFrom('credential')
      .selectAll()
      .where('id', '=', sha256(access))
      .executeTakeFirstOrThrow();
    assert.equal(row.type, 'ec2');
    assert.equal(row.user_id, alice.id);
    assert.equal(row.project_id, projectId);
    assert.ok(!row.encrypted_blob.includes(secret), 'the secret is not stored in clear');
    assert.equal(row.extra, '{}');
  });

  it('shows up in /v3/credentials with type ec2 and the blob Keystone stores', async () => {
    const cred = await create(alice.id, aliceToken);
    const access = cred['access'] as string;
    const id = sha256(access);
    const res = await call('GET', `/v3/credentials?type=ec2&user_id=${alice.id}`, aliceToken);
    assert.equal(res.statusCode, 200, res.body);
    const listed = (res.json() as { credentials: Json[] }).credentials.find((c) => c['id'] === id);
    assert.deepEqual(listed, {
      id,
      user_id: alice.id,
      project_id: projectId,
      type: 'ec2',
      blob: `{"access": "${access}", "secret": "${cred['secret'] as string}", "trust_id": null}`,
      links: { self: `http://localhost:80/v3/credentials/${id}` },
    });
  });

  it('lists only the ec2 credentials of the path user', async () => {
    const mine = [await create(alice.id, aliceToken), await create(alice.id, aliceToken)];
    const bobs = await create(bob.id, bobToken);
    const other = await call('POST', '/v3/credentials', aliceToken, {
      credential: { user_id: alice.id, type: 'cert', blob: 'not-ec2' },
    });
    assert.equal(other.statusCode, 201, other.body);
    const res = await call('GET', ec2Path(alice.id), aliceToken);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { credentials: Json[]; links: Json };
    assert.deepEqual(body.links, {
      self: `http://localhost:80${ec2Path(alice.id)}`,
      previous: null,
      next: null,
    });
    const accesses = body.credentials.map((c) => c['access']);
    for (const c of mine) assert.ok(accesses.includes(c['access']));
    assert.ok(!accesses.includes(bobs['access']));
    for (const c of body.credentials) {
      assert.equal(c['user_id'], alice.id);
      assert.match(c['access'] as string, HEX32);
    }
    const listed = body.credentials.find((c) => c['access'] === mine[0]!['access']);
    assert.deepEqual(listed, mine[0]);
  });

  it('shows a credential by its access key, and deletes it (204, then 404)', async () => {
    const cred = await create(alice.id, aliceToken);
    const access = cred['access'] as string;
    const shown = await call('GET', ec2Path(alice.id, access), aliceToken);
    assert.equal(shown.statusCode, 200, shown.body);
    assert.deepEqual(shown.json(), { credential: cred });
    const del = await call('DELETE', ec2Path(alice.id, access), aliceToken);
    assert.equal(del.statusCode, 204, del.body);
    assert.equal(del.body, '');
    const gone = await call('GET', ec2Path(alice.id, access), aliceToken);
    assert.equal(gone.statusCode, 404);
    assert.equal(message(gone), `Could not find credential: ${sha256(access)}.`);
    const again = await call('DELETE', ec2Path(alice.id, access), aliceToken);
    assert.equal(again.statusCode, 404);
    const row = await h.db
      .selectFrom('credential')
      .select('id')
      .where('id', '=', sha256(access))
      .executeTakeFirst();
    assert.equal(row, undefined);
  });

  it('lets the admin create, list, show and delete for another user', async () => {
    const cred = await create(alice.id, h.adminToken);
    assert.equal(cred['user_id'], alice.id);
    const access = cred['access'] as string;
    const list = await call('GET', ec2Path(alice.id), h.adminToken);
    assert.equal(list.statusCode, 200, list.body);
    const accesses = (list.json() as { credentials: Json[] }).credentials.map((c) => c['access']);
    assert.ok(accesses.includes(access));
    const shown = await call('GET', ec2Path(alice.id, access), h.adminToken);
    assert.equal(shown.statusCode, 200, shown.body);
    assert.deepEqual(shown.json(), { credential: cred });
    // The owner sees what the admin made for her.
    const byOwner = await call('GET', ec2Path(alice.id, access), aliceToken);
    assert.equal(byOwner.statusCode, 200, byOwner.body);
    const del = await call('DELETE', ec2Path(alice.id, access), h.adminToken);
    assert.equal(del.statusCode, 204, del.body);
  });

  it("refuses another user (403) for every operation on alice's credentials", async () => {
    const cred = await create(alice.id, aliceToken);
    const access = cred['access'] as string;
    for (const [method, url, payload] of [
      ['GET', ec2Path(alice.id), undefined],
      ['POST', ec2Path(alice.id), { tenant_id: projectId }],
      ['GET', ec2Path(alice.id, access), undefined],
      ['DELETE', ec2Path(alice.id, access), undefined],
      // Naming himself in the path does not help: the credential's owner is checked.
      ['GET', ec2Path(bob.id, access), undefined],
      ['DELETE', ec2Path(bob.id, access), undefined],
    ] as const) {
      const res = await call(method, url, bobToken, payload);
      assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
    }
    const still = await call('GET', ec2Path(alice.id, access), aliceToken);
    assert.equal(still.statusCode, 200, still.body);
    const count = await h.db
      .selectFrom('credential')
      .select('id')
      .where('user_id', '=', alice.id)
      .where('type', '=', 'ec2')
      .execute();
    assert.ok(count.some((r) => r.id === sha256(access)));
  });

  it('requires authentication', async () => {
    const res = await call('GET', ec2Path(alice.id), undefined);
    assert.equal(res.statusCode, 401, res.body);
  });

  it("answers Keystone's 404s for a missing user, project or credential", async () => {
    const noUser = await call('GET', ec2Path('nobody'), h.adminToken);
    assert.equal(noUser.statusCode, 404);
    assert.equal(message(noUser), 'Could not find user: nobody.');
    const createNoUser = await call('POST', ec2Path('nobody'), h.adminToken, {
      tenant_id: projectId,
    });
    assert.equal(createNoUser.statusCode, 404);
    assert.equal(message(createNoUser), 'Could not find user: nobody.');
    const noProject = await call('POST', ec2Path(alice.id), aliceToken, { tenant_id: 'nowhere' });
    assert.equal(noProject.statusCode, 404);
    assert.equal(message(noProject), 'Could not find project: nowhere.');
    const noTenant = await call('POST', ec2Path(alice.id), aliceToken, {});
    assert.equal(noTenant.statusCode, 404);
    assert.equal(message(noTenant), 'Could not find project: None.');
    const noCred = await call('GET', ec2Path(alice.id, 'missing'), aliceToken);
    assert.equal(noCred.statusCode, 404);
    assert.equal(message(noCred), `Could not find credential: ${sha256('missing')}.`);
    const cred = await create(alice.id, aliceToken);
    const pathUserGone = await call('GET', ec2Path('nobody', cred['access'] as string), aliceToken);
    assert.equal(pathUserGone.statusCode, 404);
    assert.equal(message(pathUserGone), 'Could not find user: nobody.');
  });

  it('accepts any existing project, as Keystone does (no role on it needed)', async () => {
    const elsewhere = await h.project();
    const cred = await create(alice.id, aliceToken, elsewhere);
    assert.equal(cred['tenant_id'], elsewhere);
  });

  it('treats a credential that is no longer of type ec2 as an unknown access key (401)', async () => {
    const cred = await create(alice.id, aliceToken);
    const access = cred['access'] as string;
    const patched = await call('PATCH', `/v3/credentials/${sha256(access)}`, aliceToken, {
      credential: { type: 'cert' },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    const shown = await call('GET', ec2Path(alice.id, access), aliceToken);
    assert.equal(shown.statusCode, 401, shown.body);
    assert.equal(message(shown), 'EC2 access key not found.');
    const del = await call('DELETE', ec2Path(alice.id, access), aliceToken);
    assert.equal(del.statusCode, 401, del.body);
    const list = await call('GET', ec2Path(alice.id), aliceToken);
    const accesses = (list.json() as { credentials: Json[] }).credentials.map((c) => c['access']);
    assert.ok(!accesses.includes(access));
  });
});
