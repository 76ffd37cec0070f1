import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentialKeyDirectory } from '../core/credential-keys.js';
import type { Identity } from '../core/identity.js';
import { credentialPolicies } from '../policies/credentials.js';
import { identityHarness, type IdentityHarness, type TestUser } from '../testing/harness.js';
import { registerCredentialRoutes } from './credentials.js';

describe('credential key repository location', () => {
  const identity = (settings: object, dataDir?: string) =>
    ({
      settings: { credential_key_repository: '', key_repository: '', ...settings },
      ...(dataDir ? { dataDir } : {}),
    }) as unknown as Identity;
  it('prefers the setting, then credential-keys/ in the data dir', () => {
    assert.equal(
      credentialKeyDirectory(identity({ credential_key_repository: '/k' }, '/data')),
      '/k',
    );
    assert.equal(credentialKeyDirectory(identity({}, '/data')), '/data/credential-keys');
  });
});

describe('identity credentials and application credentials API', () => {
  let h: IdentityHarness;
  let keyDir: string;
  let projectId: string;
  let alice: TestUser;
  let bob: TestUser;
  let aliceToken: string;
  let bobToken: string;
  before(async () => {
    h = await identityHarness({ routes: [registerCredentialRoutes], policies: credentialPolicies });
    keyDir = mkdtempSync(join(tmpdir(), 'cred-keys-'));
    h.identity.settings = { ...h.identity.settings, credential_key_repository: join(keyDir, 'k') };
    projectId = await h.project();
    alice = await h.user();
    bob = await h.user();
    await h.grant({ userId: alice.id }, 'member', { projectId });
    await h.grant({ userId: bob.id }, 'member', { projectId });
    aliceToken = await h.token(alice, { project: { id: projectId } });
    bobToken = await h.token(bob, { project: { id: projectId } });
  });
  after(async () => {
    await h.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const call = (method: string, url: string, token: string, payload?: unknown) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-auth-token': token },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  describe('credentials', () => {
    it('stores ec2 blobs encrypted, with the sha256 of the access key as id', async () => {
      const blob = JSON.stringify({ access: 'AKIA-alice', secret: 'very-secret-value' });
      const res = await call('POST', '/v3/credentials', aliceToken, {
        credential: { user_id: alice.id, project_id: projectId, type: 'ec2', blob },
      });
      assert.equal(res.statusCode, 201, res.body);
      const id = createHash('sha256').update('AKIA-alice').digest('hex');
      assert.deepEqual(res.json(), {
        credential: {
          id,
          user_id: alice.id,
          project_id: projectId,
          type: 'ec2',
          blob,
          links: { self: `http://localhost:80/v3/credentials/${id}` },
        },
      });
      const row = await h.db
        .selectFrom('credential')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.ok(!row.encrypted_blob.includes('very-secret-value'));
      assert.ok(
        !Buffer.from(row.encrypted_blob, 'base64url').toString('latin1').includes('very-secret'),
      );
      assert.match(row.key_hash, /^[0-9a-f]{40}$/);
      const shown = await call('GET', `/v3/credentials/${id}`, aliceToken);
      assert.equal(shown.json().credential.blob, blob);

      const dup = await call('POST', '/v3/credentials', aliceToken, {
        credential: { user_id: alice.id, project_id: projectId, type: 'ec2', blob },
      });
      assert.equal(dup.statusCode, 409);
    });

    it('validates: required fields, ec2 needs project_id and an access key', async () => {
      const post = (credential: object) =>
        call('POST', '/v3/credentials', aliceToken, { credential });
      assert.equal((await post({ user_id: alice.id, type: 'cert' })).statusCode, 400);
      assert.equal(
        (await post({ user_id: alice.id, type: 'ec2', blob: '{"access":"a"}' })).statusCode,
        400,
      );
      assert.equal(
        (
          await post({
            user_id: alice.id,
            project_id: projectId,
            type: 'ec2',
            blob: '{"secret":"s"}',
          })
        ).statusCode,
        400,
      );
      assert.equal(
        (await post({ user_id: alice.id, project_id: projectId, type: 'ec2', blob: 'not json' }))
          .statusCode,
        400,
      );
    });

    it('updates, filters and deletes; users only see and touch their own', async () => {
      const created = await call('POST', '/v3/credentials', bobToken, {
        credential: { user_id: bob.id, type: 'cert', blob: 'bob-cert-data' },
      });
      assert.equal(created.statusCode, 201);
      const id = created.json().credential.id as string;
      assert.match(id, /^[0-9a-f]{32}$/);

      // Alice can neither create for Bob nor read, change or delete Bob's credential.
      assert.equal(
        (
          await call('POST', '/v3/credentials', aliceToken, {
            credential: { user_id: bob.id, type: 'cert', blob: 'x' },
          })
        ).statusCode,
        403,
      );
      assert.equal((await call('GET', `/v3/credentials/${id}`, aliceToken)).statusCode, 403);
      assert.equal(
        (await call('PATCH', `/v3/credentials/${id}`, aliceToken, { credential: { blob: 'x' } }))
          .statusCode,
        403,
      );
      assert.equal((await call('DELETE', `/v3/credentials/${id}`, aliceToken)).statusCode, 403);
      const aliceList = (await call('GET', '/v3/credentials', aliceToken)).json()
        .credentials as Array<{ user_id: string }>;
      assert.ok(aliceList.length > 0);
      assert.ok(aliceList.every((c) => c.user_id === alice.id));
      assert.equal(
        (await call('GET', `/v3/credentials?user_id=${bob.id}`, aliceToken)).json().credentials
          .length,
        0,
      );

      // Bob may not give his credential away.
      assert.equal(
        (
          await call('PATCH', `/v3/credentials/${id}`, bobToken, {
            credential: { user_id: alice.id },
          })
        ).statusCode,
        403,
      );
      const upd = await call('PATCH', `/v3/credentials/${id}`, bobToken, {
        credential: { blob: 'new-cert', project_id: projectId },
      });
      assert.equal(upd.statusCode, 200);
      assert.equal(upd.json().credential.blob, 'new-cert');
      assert.equal(upd.json().credential.project_id, projectId);
      assert.equal(
        (await call('GET', `/v3/credentials/${id}`, bobToken)).json().credential.blob,
        'new-cert',
      );

      // The admin sees everybody's, and filters by user and type.
      const all = (
        await call('GET', `/v3/credentials?user_id=${bob.id}&type=cert`, h.adminToken)
      ).json();
      assert.deepEqual(
        all.credentials.map((c: { id: string }) => c.id),
        [id],
      );
      assert.equal(
        (await call('GET', '/v3/credentials?type=nothing', h.adminToken)).json().credentials.length,
        0,
      );
      assert.equal((await call('DELETE', `/v3/credentials/${id}`, bobToken)).statusCode, 204);
      assert.equal((await call('GET', `/v3/credentials/${id}`, h.adminToken)).statusCode, 404);
      assert.equal((await call('DELETE', `/v3/credentials/${id}`, h.adminToken)).statusCode, 404);
    });
  });

  describe('application credentials', () => {
    const auth = (identity: object, scope?: object) =>
      h.app.inject({
        method: 'POST',
        url: '/v3/auth/tokens',
        payload: {
          auth: {
            identity: { methods: ['application_credential'], application_credential: identity },
            ...(scope ? { scope } : {}),
          },
        },
      });

    it('creates one with chosen roles, authenticates with it by id and by name, and revokes on delete', async () => {
      const res = await call('POST', `/v3/users/${alice.id}/application_credentials`, aliceToken, {
        application_credential: {
          name: 'monitoring',
          description: 'for monitoring',
          roles: [{ name: 'reader' }],
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      const ac = res.json().application_credential;
      assert.equal(typeof ac.secret, 'string');
      assert.ok(ac.secret.length >= 64);
      assert.equal(ac.project_id, projectId);
      assert.equal(ac.unrestricted, false);
      assert.equal(ac.expires_at, null);
      assert.deepEqual(ac.access_rules, []);
      assert.deepEqual(
        ac.roles.map((r: { name: string }) => r.name),
        ['reader'],
      );
      assert.equal(
        ac.links.self,
        `http://localhost:80/v3/users/${alice.id}/application_credentials/${ac.id}`,
      );
      const row = await h.db
        .selectFrom('application_credential')
        .selectAll()
        .where('id', '=', ac.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(row.secret_hash, ac.secret);

      const shown = await call(
        'GET',
        `/v3/users/${alice.id}/application_credentials/${ac.id}`,
        aliceToken,
      );
      assert.equal(shown.statusCode, 200);
      assert.ok(!('secret' in shown.json().application_credential));

      const byId = await auth({ id: ac.id, secret: ac.secret });
      assert.equal(byId.statusCode, 201, byId.body);
      const token = byId.json().token;
      assert.deepEqual(
        token.roles.map((r: { name: string }) => r.name),
        ['reader'],
      );
      assert.equal(token.project.id, projectId);
      assert.deepEqual(token.application_credential, {
        id: ac.id,
        name: 'monitoring',
        restricted: true,
      });
      assert.deepEqual(token.methods, ['application_credential']);

      // keystoneauth's v3applicationcredential: name plus user (by name and domain).
      const byName = await auth({
        name: 'monitoring',
        secret: ac.secret,
        user: { name: alice.name, domain: { id: 'default' } },
      });
      assert.equal(byName.statusCode, 201, byName.body);
      const byNameUserId = await auth({
        name: 'monitoring',
        secret: ac.secret,
        user: { id: alice.id },
      });
      assert.equal(byNameUserId.statusCode, 201);
      assert.equal((await auth({ id: ac.id, secret: 'wrong' })).statusCode, 401);

      const appToken = byId.headers['x-subject-token'] as string;
      // A restricted app-cred token can neither create nor delete app creds.
      const fromApp = await call(
        'POST',
        `/v3/users/${alice.id}/application_credentials`,
        appToken,
        {
          application_credential: { name: 'nested' },
        },
      );
      assert.equal(fromApp.statusCode, 403);
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/application_credentials`, appToken)).statusCode,
        200,
      );

      assert.equal(
        (await call('DELETE', `/v3/users/${alice.id}/application_credentials/${ac.id}`, aliceToken))
          .statusCode,
        204,
      );
      const check = await h.app.inject({
        method: 'GET',
        url: '/v3/auth/tokens',
        headers: { 'x-auth-token': h.adminToken, 'x-subject-token': appToken },
      });
      assert.equal(check.statusCode, 404);
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/application_credentials`, appToken)).statusCode,
        401,
      );
      assert.equal((await auth({ id: ac.id, secret: ac.secret })).statusCode, 401);
      // The creator's own token is untouched.
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/application_credentials`, aliceToken)).statusCode,
        200,
      );
      assert.equal(
        (await call('DELETE', `/v3/users/${alice.id}/application_credentials/${ac.id}`, aliceToken))
          .statusCode,
        404,
      );
    });

    it('gives all the token roles by default, takes a secret and expiry, and refuses roles not held', async () => {
      // Microseconds, as Tempest sends them: they come back exactly.
      const expires = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '249');
      const res = await call('POST', `/v3/users/${alice.id}/application_credentials`, aliceToken, {
        application_credential: {
          name: 'all-roles',
          secret: 'my-secret',
          expires_at: expires,
          unrestricted: true,
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      const ac = res.json().application_credential;
      assert.equal(ac.secret, 'my-secret');
      assert.equal(ac.unrestricted, true);
      assert.equal(ac.expires_at, expires);
      const shown = await call(
        'GET',
        `/v3/users/${alice.id}/application_credentials/${ac.id}`,
        aliceToken,
      );
      assert.equal(shown.json().application_credential.expires_at, expires);
      assert.deepEqual(ac.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
      const tok = await auth({ id: ac.id, secret: 'my-secret' });
      assert.equal(tok.statusCode, 201);
      assert.deepEqual(tok.json().token.application_credential.restricted, false);
      // An unrestricted one may make more.
      const more = await call(
        'POST',
        `/v3/users/${alice.id}/application_credentials`,
        tok.headers['x-subject-token'] as string,
        {
          application_credential: { name: 'from-unrestricted' },
        },
      );
      assert.equal(more.statusCode, 201, more.body);

      const post = (body: object) =>
        call('POST', `/v3/users/${alice.id}/application_credentials`, aliceToken, {
          application_credential: body,
        });
      const notHeld = await post({ name: 'admin-please', roles: [{ name: 'admin' }] });
      assert.equal(notHeld.statusCode, 400);
      assert.match(notHeld.json().error.message, /unassigned role/);
      assert.equal((await post({ name: 'x', roles: [{ id: 'nope' }] })).statusCode, 400);
      assert.equal((await post({ description: 'no name' })).statusCode, 400);
      assert.equal((await post({ name: 'x', bogus: 1 })).statusCode, 400);
      assert.equal((await post({ name: 'x', expires_at: '2001-01-01T00:00:00Z' })).statusCode, 400);
      assert.equal((await post({ name: 'x', unrestricted: 'yes' })).statusCode, 400);
      assert.equal((await post({ name: 'all-roles' })).statusCode, 409);

      const list = await call(
        'GET',
        `/v3/users/${alice.id}/application_credentials?name=all-roles`,
        aliceToken,
      );
      assert.equal(list.statusCode, 200);
      assert.deepEqual(
        list.json().application_credentials.map((a: { id: string }) => a.id),
        [ac.id],
      );
      assert.ok(!('secret' in list.json().application_credentials[0]));
    });

    it('needs a project-scoped token of the user itself', async () => {
      const unscoped = await h.token(alice);
      assert.equal(
        (
          await call('POST', `/v3/users/${alice.id}/application_credentials`, unscoped, {
            application_credential: { name: 'u' },
          })
        ).statusCode,
        403,
      );
      assert.equal(
        (
          await call('POST', `/v3/users/${alice.id}/application_credentials`, bobToken, {
            application_credential: { name: 'b' },
          })
        ).statusCode,
        403,
      );
      assert.equal(
        (
          await call('POST', `/v3/users/${alice.id}/application_credentials`, h.adminToken, {
            application_credential: { name: 'a' },
          })
        ).statusCode,
        403,
      );
    });

    it("keeps users out of each other's application credentials", async () => {
      const ac = (
        await call('POST', `/v3/users/${bob.id}/application_credentials`, bobToken, {
          application_credential: { name: 'bobs' },
        })
      ).json().application_credential;
      assert.equal(
        (await call('GET', `/v3/users/${bob.id}/application_credentials`, aliceToken)).statusCode,
        403,
      );
      assert.equal(
        (await call('GET', `/v3/users/${bob.id}/application_credentials/${ac.id}`, aliceToken))
          .statusCode,
        403,
      );
      // Naming oneself in the path does not help: the owner is the credential's.
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/application_credentials/${ac.id}`, aliceToken))
          .statusCode,
        403,
      );
      assert.equal(
        (await call('DELETE', `/v3/users/${alice.id}/application_credentials/${ac.id}`, aliceToken))
          .statusCode,
        403,
      );
      assert.equal(
        (await call('DELETE', `/v3/users/${bob.id}/application_credentials/${ac.id}`, aliceToken))
          .statusCode,
        403,
      );
      // The admin may read and delete it.
      assert.equal(
        (await call('GET', `/v3/users/${bob.id}/application_credentials/${ac.id}`, h.adminToken))
          .statusCode,
        200,
      );
      assert.equal(
        (await call('GET', `/v3/users/${bob.id}/application_credentials/nope`, h.adminToken))
          .statusCode,
        404,
      );
      assert.equal(
        (await call('DELETE', `/v3/users/${bob.id}/application_credentials/${ac.id}`, h.adminToken))
          .statusCode,
        204,
      );
    });

    it('creates, shares, lists and deletes access rules; one in use cannot be deleted', async () => {
      const rule = { service: 'compute', path: '/v2.1/servers/*/ips', method: 'GET' };
      const first = await call(
        'POST',
        `/v3/users/${alice.id}/application_credentials`,
        aliceToken,
        {
          application_credential: { name: 'with-rules', access_rules: [rule] },
        },
      );
      assert.equal(first.statusCode, 201, first.body);
      const ruleResp = first.json().application_credential.access_rules[0];
      const ruleId = ruleResp.id as string;
      assert.deepEqual(ruleResp, { id: ruleId, ...rule });
      // The same rule again, or by id, is shared rather than duplicated.
      const second = await call(
        'POST',
        `/v3/users/${alice.id}/application_credentials`,
        aliceToken,
        {
          application_credential: { name: 'with-rules-2', access_rules: [{ id: ruleId }] },
        },
      );
      assert.equal(second.statusCode, 201, second.body);
      assert.equal(second.json().application_credential.access_rules[0].id, ruleId);
      const third = await call(
        'POST',
        `/v3/users/${alice.id}/application_credentials`,
        aliceToken,
        {
          application_credential: { name: 'with-rules-3', access_rules: [rule] },
        },
      );
      assert.equal(third.json().application_credential.access_rules[0].id, ruleId);
      const badRule = await call(
        'POST',
        `/v3/users/${alice.id}/application_credentials`,
        aliceToken,
        {
          application_credential: {
            name: 'bad-rule',
            access_rules: [{ ...rule, method: 'FETCH' }],
          },
        },
      );
      assert.equal(badRule.statusCode, 400);

      const list = await call('GET', `/v3/users/${alice.id}/access_rules`, aliceToken);
      assert.equal(list.statusCode, 200);
      assert.deepEqual(
        list.json().access_rules.map((r: { id: string }) => r.id),
        [ruleId],
      );
      const shown = await call('GET', `/v3/users/${alice.id}/access_rules/${ruleId}`, aliceToken);
      assert.equal(shown.statusCode, 200);
      assert.equal(shown.json().access_rule.service, 'compute');
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/access_rules`, bobToken)).statusCode,
        403,
      );
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/access_rules/${ruleId}`, bobToken)).statusCode,
        403,
      );
      assert.equal(
        (await call('GET', `/v3/users/${bob.id}/access_rules/${ruleId}`, bobToken)).statusCode,
        404,
      );

      assert.equal(
        (await call('DELETE', `/v3/users/${alice.id}/access_rules/${ruleId}`, aliceToken))
          .statusCode,
        403,
      );
      for (const name of ['with-rules', 'with-rules-2', 'with-rules-3']) {
        const id = (
          await call(
            'GET',
            `/v3/users/${alice.id}/application_credentials?name=${name}`,
            aliceToken,
          )
        ).json().application_credentials[0].id;
        assert.equal(
          (await call('DELETE', `/v3/users/${alice.id}/application_credentials/${id}`, aliceToken))
            .statusCode,
          204,
        );
      }
      assert.equal(
        (await call('DELETE', `/v3/users/${alice.id}/access_rules/${ruleId}`, aliceToken))
          .statusCode,
        204,
      );
      assert.equal(
        (await call('GET', `/v3/users/${alice.id}/access_rules/${ruleId}`, aliceToken)).statusCode,
        404,
      );
    });
  });
});
