import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ADMIN_PASSWORD, identityHarness } from '../testing/harness.js';

interface TokenBody {
  token: {
    methods: string[];
    user: { id: string; name: string; domain: { id: string; name: string } };
    project?: { id: string; name: string; domain: { id: string } };
    domain?: { id: string };
    system?: { all: boolean };
    roles?: Array<{ id: string; name: string }>;
    catalog?: Array<{ type: string; endpoints: Array<{ interface: string; url: string }> }>;
    audit_ids: string[];
    expires_at: string;
    issued_at: string;
  };
}

describe('POST /v3/auth/tokens', async () => {
  const h = await identityHarness();
  after(() => h.close());
  const post = (auth: unknown, query = '') =>
    h.app.inject({ method: 'POST', url: `/v3/auth/tokens${query}`, payload: { auth } });
  const admin = { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } };

  it('issues a project-scoped token by user name and domain name, with catalog and implied roles', async () => {
    const res = await post({
      identity: { methods: ['password'], password: admin },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    });
    assert.equal(res.statusCode, 201);
    assert.match(res.headers['x-subject-token'] as string, /^gAAAAA[\w-]+$/);
    const { token } = res.json() as TokenBody;
    assert.deepEqual(token.methods, ['password']);
    assert.equal(token.user.name, 'admin');
    assert.deepEqual(token.user.domain, { id: 'default', name: 'Default' });
    assert.equal(token.project?.id, h.adminProjectId);
    assert.deepEqual(token.roles?.map((r) => r.name).sort(), [
      'admin',
      'manager',
      'member',
      'reader',
    ]);
    assert.equal(token.catalog?.[0]?.type, 'identity');
    assert.equal(token.audit_ids.length, 1);
    assert.match(token.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const hours = (Date.parse(token.expires_at) - Date.parse(token.issued_at)) / 3_600_000;
    assert.ok(Math.abs(hours - 24) < 0.01, `lifetime ${hours} h`);
  });

  it('issues unscoped, domain-scoped and system-scoped tokens; nocatalog leaves the catalog out', async () => {
    const unscoped = (
      await post({ identity: { methods: ['password'], password: admin } })
    ).json() as TokenBody;
    assert.equal(unscoped.token.project, undefined);
    assert.equal(unscoped.token.roles, undefined);
    assert.equal(unscoped.token.catalog, undefined);

    const system = await post(
      { identity: { methods: ['password'], password: admin }, scope: { system: { all: true } } },
      '?nocatalog',
    );
    assert.equal(system.statusCode, 201);
    const sys = (system.json() as TokenBody).token;
    assert.deepEqual(sys.system, { all: true });
    assert.equal(sys.catalog, undefined);

    // The admin has no role on the Default domain: a domain-scoped token is refused.
    const noRole = await post({
      identity: { methods: ['password'], password: admin },
      scope: { domain: { id: 'default' } },
    });
    assert.equal(noRole.statusCode, 401);
    const user = await h.user();
    await h.grant({ userId: user.id }, 'reader', { domainId: 'default' });
    const domain = await post({
      identity: {
        methods: ['password'],
        password: { user: { id: user.id, password: user.password } },
      },
      scope: { domain: { name: 'Default' } },
    });
    assert.equal(domain.statusCode, 201);
    assert.deepEqual((domain.json() as TokenBody).token.domain, { id: 'default', name: 'Default' });
  });

  it('answers 401 in Keystone shape for a wrong password, unknown user or domain, and a project without roles', async () => {
    for (const auth of [
      {
        identity: {
          methods: ['password'],
          password: { user: { ...admin.user, password: 'wrong' } },
        },
      },
      {
        identity: { methods: ['password'], password: { user: { ...admin.user, name: 'nobody' } } },
      },
      {
        identity: {
          methods: ['password'],
          password: { user: { ...admin.user, domain: { name: 'Nowhere' } } },
        },
      },
      {
        identity: { methods: ['password'], password: admin },
        scope: { project: { id: await h.project() } },
      },
      { identity: { methods: ['kerberos'] } },
    ]) {
      const res = await post(auth);
      assert.equal(res.statusCode, 401, JSON.stringify(auth));
      const body = res.json() as { error: { code: number; title: string } };
      assert.equal(body.error.code, 401);
      assert.equal(body.error.title, 'Unauthorized');
      assert.equal(res.headers['x-subject-token'], undefined);
    }
  });

  it('answers 400 for malformed requests', async () => {
    for (const auth of [
      {},
      { identity: { methods: 'password' } },
      { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'x' } } } },
      {
        identity: { methods: ['password'], password: admin },
        scope: { project: { id: 'x' }, domain: { id: 'y' } },
      },
    ]) {
      assert.equal((await post(auth)).statusCode, 400, JSON.stringify(auth));
    }
  });

  it('rescopes with the token method, keeping the audit chain and never extending the expiry', async () => {
    const first = await post({ identity: { methods: ['password'], password: admin } });
    const unscoped = first.headers['x-subject-token'] as string;
    const parent = (first.json() as TokenBody).token;
    const res = await post({
      identity: { methods: ['token'], token: { id: unscoped } },
      scope: { project: { id: h.adminProjectId } },
    });
    assert.equal(res.statusCode, 201);
    const token = (res.json() as TokenBody).token;
    assert.deepEqual(token.methods.sort(), ['password', 'token']);
    assert.equal(token.audit_ids[1], parent.audit_ids[0]);
    assert.ok(Date.parse(token.expires_at) <= Date.parse(parent.expires_at));
  });

  it('scopes to the default project when no scope is asked for and the user has a role there', async () => {
    const project = await h.project();
    const user = await h.user();
    await h.db
      .updateTable('identity_user')
      .set({ default_project_id: project })
      .where('id', '=', user.id)
      .execute();
    const noRole = (
      await post({
        identity: {
          methods: ['password'],
          password: { user: { id: user.id, password: user.password } },
        },
      })
    ).json() as TokenBody;
    assert.equal(noRole.token.project, undefined);
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    const scoped = (
      await post({
        identity: {
          methods: ['password'],
          password: { user: { id: user.id, password: user.password } },
        },
      })
    ).json() as TokenBody;
    assert.equal(scoped.token.project?.id, project);
  });
});

describe('validating and revoking tokens', async () => {
  const h = await identityHarness();
  after(() => h.close());
  const check = (method: 'GET' | 'HEAD' | 'DELETE', subject: string, auth = h.adminToken) =>
    h.app.inject({
      method,
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': auth, 'x-subject-token': subject },
    });

  it('GET validates, HEAD checks, DELETE revokes; a revoked token is 404 as subject and 401 as caller', async () => {
    const user = await h.user();
    const project = await h.project();
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    const token = await h.token(user, { project: { id: project } });
    const got = await check('GET', token);
    assert.equal(got.statusCode, 200);
    assert.equal(got.headers['x-subject-token'], token);
    assert.equal((got.json() as TokenBody).token.user.id, user.id);
    assert.equal((await check('HEAD', token)).statusCode, 200);
    // A user may validate its own token.
    assert.equal((await check('GET', token, token)).statusCode, 200);
    assert.equal((await check('DELETE', token)).statusCode, 204);
    assert.equal((await check('GET', token)).statusCode, 404);
    const asCaller = await h.app.inject({
      url: '/v3/auth/catalog',
      headers: { 'x-auth-token': token },
    });
    assert.equal(asCaller.statusCode, 401);
    // Rescoping a revoked token: 404, as Keystone answers (Tempest checks it).
    const rescope = await h.app.inject({
      method: 'POST',
      url: '/v3/auth/tokens',
      payload: { auth: { identity: { methods: ['token'], token: { id: token } } } },
    });
    assert.equal(rescope.statusCode, 404);
    // Revoking one token leaves the user's others alone.
    const other = await h.token(user, { project: { id: project } });
    assert.equal((await check('GET', other)).statusCode, 200);
  });

  it("a user may not validate someone else's token", async () => {
    const [a, b] = [await h.user(), await h.user()];
    const project = await h.project();
    await h.grant({ userId: a.id }, 'member', { projectId: project });
    await h.grant({ userId: b.id }, 'member', { projectId: project });
    const ta = await h.token(a, { project: { id: project } });
    const tb = await h.token(b, { project: { id: project } });
    assert.equal((await check('GET', tb, ta)).statusCode, 403);
  });

  it('tampered, foreign and missing tokens get 401 on every protected route', async () => {
    const flipped =
      h.adminToken.slice(0, 40) + (h.adminToken[40] === 'A' ? 'B' : 'A') + h.adminToken.slice(41);
    for (const token of [flipped, 'not-a-token', h.adminToken.slice(0, -4)]) {
      const res = await h.app.inject({
        url: '/v3/auth/catalog',
        headers: { 'x-auth-token': token },
      });
      assert.equal(res.statusCode, 401, token);
    }
    assert.equal((await h.app.inject({ url: '/v3/auth/catalog' })).statusCode, 401);
    assert.equal((await check('GET', 'garbage')).statusCode, 404);
  });

  it("a disabled user's tokens stop working at once", async () => {
    const user = await h.user();
    const project = await h.project();
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    const token = await h.token(user, { project: { id: project } });
    assert.equal((await check('GET', token)).statusCode, 200);
    await h.db
      .updateTable('identity_user')
      .set({ enabled: false })
      .where('id', '=', user.id)
      .execute();
    h.identity.tokens.invalidate();
    assert.equal((await check('GET', token)).statusCode, 404);
  });

  it('an expired token is refused, and accepted as subject only with allow_expired', async () => {
    const user = await h.user();
    const project = await h.project();
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    const { token } = h.identity.tokens.issue(
      { userId: user.id, methods: ['password'], projectId: project },
      new Date(Date.now() - 25 * 3_600_000),
    );
    assert.equal((await check('GET', token)).statusCode, 404);
    const allowed = await h.app.inject({
      url: '/v3/auth/tokens?allow_expired=1',
      headers: { 'x-auth-token': h.adminToken, 'x-subject-token': token },
    });
    assert.equal(allowed.statusCode, 200);
  });
});

describe('auth discovery routes', async () => {
  const h = await identityHarness();
  after(() => h.close());
  const get = (url: string, token = h.adminToken) =>
    h.app.inject({ url, headers: { 'x-auth-token': token } });

  it('lists the catalog, and the projects, domains and system the user can scope to', async () => {
    const catalog = await get('/v3/auth/catalog');
    assert.equal(catalog.statusCode, 200);
    assert.equal(
      (catalog.json() as { catalog: Array<{ type: string }> }).catalog[0]?.type,
      'identity',
    );
    const projects = (await get('/v3/auth/projects')).json() as {
      projects: Array<{ name: string }>;
    };
    assert.deepEqual(
      projects.projects.map((p) => p.name),
      ['admin'],
    );
    const system = (await get('/v3/auth/system')).json() as { system: unknown[] };
    assert.deepEqual(system.system, [{ all: true }]);
    const domains = (await get('/v3/auth/domains')).json() as { domains: unknown[] };
    assert.deepEqual(domains.domains, []);
  });

  it("a member sees only its own projects, not the admin's", async () => {
    const user = await h.user();
    const [mine, other] = [await h.project('mine'), await h.project('other')];
    await h.grant({ userId: user.id }, 'reader', { projectId: mine });
    const token = await h.token(user, { project: { id: mine } });
    const projects = (await get('/v3/auth/projects', token)).json() as {
      projects: Array<{ id: string }>;
    };
    assert.deepEqual(
      projects.projects.map((p) => p.id),
      [mine],
    );
    assert.ok(!projects.projects.some((p) => p.id === other));
    const system = (await get('/v3/auth/system', token)).json() as { system: unknown[] };
    assert.deepEqual(system.system, []);
    await h.grant({ userId: user.id }, 'reader', { domainId: 'default' });
    const domains = (await get('/v3/auth/domains', token)).json() as {
      domains: Array<{ id: string }>;
    };
    assert.deepEqual(
      domains.domains.map((d) => d.id),
      ['default'],
    );
  });
});

describe('bootstrap', () => {
  it('refuses to create the admin user without a password', async () => {
    const { bootstrap } = await import('../core/bootstrap.js');
    const h = await identityHarness();
    after(() => h.close());
    await h.db.deleteFrom('identity_user').where('name', '=', 'admin').execute();
    await assert.rejects(
      bootstrap(h.db, h.identity.hasher, { adminPassword: '', region: 'RegionOne', catalog: [] }),
      /no password is configured \(identity\.admin_password\)/,
    );
  });

  it('is idempotent and keeps the admin password', async () => {
    const { bootstrap } = await import('../core/bootstrap.js');
    const h = await identityHarness();
    after(() => h.close());
    await bootstrap(h.db, h.identity.hasher, {
      adminPassword: 'another',
      region: 'RegionOne',
      catalog: [],
    });
    const count = await h.db
      .selectFrom('role')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 5);
    assert.ok(await h.token({ name: 'admin', password: ADMIN_PASSWORD }));
  });
});
