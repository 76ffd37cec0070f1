import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IdentitySettings } from '../config.js';
import { userPolicies } from '../policies/users.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerUserRoutes } from './users.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function harness(settings: Partial<IdentitySettings> = {}): Promise<IdentityHarness> {
  return identityHarness({ routes: [registerUserRoutes], policies: userPolicies, settings });
}

/** Fernet tokens count whole seconds: a token issued in the second of a revocation is revoked too. */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
}

function client(h: IdentityHarness) {
  return async (method: string, url: string, token?: string, payload?: unknown) => {
    const res = await h.app.inject({
      method: method as 'GET',
      url,
      headers: token ? { 'x-auth-token': token } : {},
      ...(payload !== undefined ? { payload: payload as Json } : {}),
    });
    return { status: res.statusCode, body: (res.body ? res.json() : undefined) as Json };
  };
}

async function passwordLogin(h: IdentityHarness, id: string, password: string): Promise<number> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v3/auth/tokens',
    payload: {
      auth: { identity: { methods: ['password'], password: { user: { id, password } } } },
    },
  });
  return res.statusCode;
}

describe('users API', async () => {
  const h = await harness();
  after(() => h.close());
  const call = client(h);
  const admin = h.adminToken;

  it('creates a user with Keystone defaults and body', async () => {
    const res = await call('POST', '/v3/users', admin, {
      user: { name: 'alice', password: 'secret-1', email: 'a@example.com', 'x-color': 'blue' },
    });
    assert.equal(res.status, 201);
    const u = res.body['user'];
    assert.match(u.id, /^[0-9a-f]{32}$/);
    assert.equal(u.name, 'alice');
    assert.equal(u.domain_id, 'default');
    assert.equal(u.enabled, true);
    assert.equal(u.email, 'a@example.com');
    assert.equal(u.x_color, 'blue');
    assert.equal(u.password_expires_at, null);
    assert.deepEqual(u.options, {});
    assert.equal(u.links.self, `http://localhost:80/v3/users/${u.id}`);
    assert.ok(!('password' in u));
    assert.ok(!('default_project_id' in u));
    assert.ok(!('description' in u));
    assert.equal(await passwordLogin(h, u.id, 'secret-1'), 201);
  });

  it('refuses duplicates in a domain with 409 but allows them across domains', async () => {
    const first = await call('POST', '/v3/users', admin, { user: { name: 'dup' } });
    assert.equal(first.status, 201);
    const again = await call('POST', '/v3/users', admin, { user: { name: 'dup' } });
    assert.equal(again.status, 409);
    assert.match(
      again.body['error'].message,
      /Duplicate entry found with name dup at domain ID default/,
    );
    const domain = await h.domain();
    const other = await call('POST', '/v3/users', admin, {
      user: { name: 'dup', domain_id: domain },
    });
    assert.equal(other.status, 201);
    assert.equal(other.body['user'].domain_id, domain);
  });

  it('validates the body with 400', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /'user' is a required property/],
      [{ user: {} }, /Invalid input for field 'user': 'name' is a required property/],
      [{ user: { name: '' } }, /Invalid input for field 'user\/name'/],
      [{ user: { name: '   ' } }, /does not match/],
      [{ user: { name: 'x'.repeat(256) } }, /is too long/],
      [{ user: { name: 5 } }, /is not of type 'string'/],
      [{ user: { name: 'n', enabled: 'maybe' } }, /user\/enabled/],
      [{ user: { name: 'n', options: { bogus: true } } }, /'bogus' was unexpected/],
      [{ user: { name: 'n', options: { lock_password: 'yes' } } }, /user\/options\/lock_password/],
      [{ user: { name: 'n', options: { multi_factor_auth_rules: [[]] } } }, /list of lists/],
      [{ user: { name: 'n', password: 7 } }, /user\/password/],
      [{ user: { name: 'n' }, other: 1 }, /'other' was unexpected/],
    ];
    for (const [payload, message] of cases) {
      const res = await call('POST', '/v3/users', admin, payload);
      assert.equal(res.status, 400, JSON.stringify(payload));
      assert.match(res.body['error'].message, message, JSON.stringify(payload));
    }
  });

  it('accepts valid options and 404s an unknown domain', async () => {
    const res = await call('POST', '/v3/users', admin, {
      user: {
        name: 'opt',
        options: { ignore_password_expiry: true, multi_factor_auth_rules: [['password', 'totp']] },
      },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body['user'].options, {
      ignore_password_expiry: true,
      multi_factor_auth_rules: [['password', 'totp']],
    });
    const missing = await call('POST', '/v3/users', admin, {
      user: { name: 'x', domain_id: 'nodomain' },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body['error'].message, 'Could not find domain: nodomain.');
  });

  it('refuses a domain as default project', async () => {
    const res = await call('POST', '/v3/users', admin, {
      user: { name: 'dp', default_project_id: 'default' },
    });
    assert.equal(res.status, 400);
    const project = await h.project();
    const ok = await call('POST', '/v3/users', admin, {
      user: { name: 'dp2', default_project_id: project },
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.body['user'].default_project_id, project);
  });

  it('gets, lists with filters, and 404s', async () => {
    const domain = await h.domain();
    const a = (await call('POST', '/v3/users', admin, { user: { name: 'f-a', domain_id: domain } }))
      .body['user'];
    const b = (
      await call('POST', '/v3/users', admin, {
        user: { name: 'f-b', domain_id: domain, enabled: false },
      })
    ).body['user'];
    const got = await call('GET', `/v3/users/${a.id}`, admin);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body['user'], a);

    const inDomain = await call('GET', `/v3/users?domain_id=${domain}`, admin);
    assert.equal(inDomain.status, 200);
    assert.deepEqual(inDomain.body['users'].map((u: Json) => u.name).sort(), ['f-a', 'f-b']);
    assert.equal(inDomain.body['links'].self, 'http://localhost:80/v3/users');
    const byName = await call('GET', `/v3/users?name=f-b`, admin);
    assert.deepEqual(
      byName.body['users'].map((u: Json) => u.id),
      [b.id],
    );
    const enabled = await call('GET', `/v3/users?domain_id=${domain}&enabled=false`, admin);
    assert.deepEqual(
      enabled.body['users'].map((u: Json) => u.id),
      [b.id],
    );
    const all = await call('GET', '/v3/users', admin);
    assert.ok(all.body['users'].some((u: Json) => u.name === 'admin'));

    assert.equal((await call('GET', '/v3/users/nope', admin)).status, 404);
    assert.equal(
      (await call('GET', '/v3/users/nope', admin)).body['error'].message,
      'Could not find user: nope.',
    );
    assert.equal(
      (await call('PATCH', '/v3/users/nope', admin, { user: { name: 'z' } })).status,
      404,
    );
    assert.equal((await call('DELETE', '/v3/users/nope', admin)).status, 404);
    assert.equal((await call('GET', '/v3/users')).status, 401);
  });

  it('filters on password_expires_at', async () => {
    const u = await h.user();
    const at = new Date('2030-01-01T00:00:00Z');
    await h.db
      .updateTable('password')
      .set({ expires_at: at })
      .where('user_id', '=', u.id)
      .execute();
    const lt = await call('GET', '/v3/users?password_expires_at=lt:2031-01-01T00:00:00Z', admin);
    assert.equal(lt.status, 200);
    assert.deepEqual(
      lt.body['users'].map((x: Json) => x.id),
      [u.id],
    );
    assert.equal(lt.body['users'][0].password_expires_at, '2030-01-01T00:00:00.000000');
    const gt = await call('GET', '/v3/users?password_expires_at=gt:2031-01-01T00:00:00Z', admin);
    assert.deepEqual(gt.body['users'], []);
    const eq = await call('GET', '/v3/users?password_expires_at=2030-01-01T00:00:00Z', admin);
    assert.deepEqual(
      eq.body['users'].map((x: Json) => x.id),
      [u.id],
    );
    assert.equal(
      (await call('GET', '/v3/users?password_expires_at=xx:2030-01-01T00:00:00Z', admin)).status,
      400,
    );
    assert.equal(
      (await call('GET', '/v3/users?password_expires_at=lt:garbage', admin)).status,
      400,
    );
  });

  it('updates attributes, merges extra and options, refuses id and domain changes', async () => {
    const u = (
      await call('POST', '/v3/users', admin, {
        user: { name: 'upd', color: 'red', options: { lock_password: true } },
      })
    ).body['user'];
    const res = await call('PATCH', `/v3/users/${u.id}`, admin, {
      user: {
        name: 'upd2',
        description: 'd',
        size: 3,
        options: { lock_password: null, ignore_password_expiry: true },
      },
    });
    assert.equal(res.status, 200);
    const v = res.body['user'];
    assert.equal(v.name, 'upd2');
    assert.equal(v.description, 'd');
    assert.equal(v.color, 'red');
    assert.equal(v.size, 3);
    assert.deepEqual(v.options, { ignore_password_expiry: true });
    assert.equal((await call('PATCH', `/v3/users/${u.id}`, admin, { user: {} })).status, 400);
    assert.equal(
      (await call('PATCH', `/v3/users/${u.id}`, admin, { user: { id: 'other' } })).status,
      400,
    );
    const dom = await call('PATCH', `/v3/users/${u.id}`, admin, { user: { domain_id: 'other' } });
    assert.equal(dom.status, 400);
    assert.equal(dom.body['error'].message, 'Cannot change Domain ID');
    await call('POST', '/v3/users', admin, { user: { name: 'taken' } });
    assert.equal(
      (await call('PATCH', `/v3/users/${u.id}`, admin, { user: { name: 'taken' } })).status,
      409,
    );
  });

  it('an admin password reset replaces the password and revokes tokens', async () => {
    const u = await h.user();
    const project = await h.project();
    await h.grant({ userId: u.id }, 'member', { projectId: project });
    const token = await h.token(u, { project: { id: project } });
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 200);
    const res = await call('PATCH', `/v3/users/${u.id}`, admin, { user: { password: 'reset-pw' } });
    assert.equal(res.status, 200);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 401);
    assert.equal(await passwordLogin(h, u.id, u.password), 401);
    assert.equal(await passwordLogin(h, u.id, 'reset-pw'), 201);
    const rows = await h.db
      .selectFrom('password')
      .selectAll()
      .where('user_id', '=', u.id)
      .orderBy('id')
      .execute();
    assert.equal(rows.length, 2);
    assert.ok(rows[0]?.replaced_at instanceof Date);
    assert.equal(rows[1]?.replaced_at, null);
  });

  it('disabling a user makes its token fail at once; re-enabling lets it log in again', async () => {
    const u = await h.user();
    const token = await h.token(u);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 200);
    const res = await call('PATCH', `/v3/users/${u.id}`, admin, { user: { enabled: false } });
    assert.equal(res.status, 200);
    assert.equal(res.body['user'].enabled, false);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 401);
    assert.equal(await passwordLogin(h, u.id, u.password), 401);
    await call('PATCH', `/v3/users/${u.id}`, admin, { user: { enabled: true } });
    assert.equal(await passwordLogin(h, u.id, u.password), 201);
  });

  it('deletes a user with its memberships and assignments', async () => {
    const u = await h.user();
    const project = await h.project();
    await h.grant({ userId: u.id }, 'member', { projectId: project });
    const g = (await call('POST', '/v3/groups', admin, { group: { name: 'del-g' } })).body['group'];
    assert.equal((await call('PUT', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
    const token = await h.token(u, { project: { id: project } });
    const res = await call('DELETE', `/v3/users/${u.id}`, admin);
    assert.equal(res.status, 204);
    assert.equal((await call('GET', `/v3/users/${u.id}`, admin)).status, 404);
    assert.equal((await call('GET', `/v3/auth/catalog`, token)).status, 401);
    const left = await h.db
      .selectFrom('assignment')
      .selectAll()
      .where('actor_id', '=', u.id)
      .execute();
    assert.deepEqual(left, []);
    const members = await call('GET', `/v3/groups/${g.id}/users`, admin);
    assert.deepEqual(members.body['users'], []);
  });
});

describe('password change', async () => {
  const h = await harness();
  after(() => h.close());
  const call = client(h);

  it('the user changes its own password, without any token; old token and password stop working', async () => {
    const u = await h.user();
    const token = await h.token(u);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 200);
    const res = await call('POST', `/v3/users/${u.id}/password`, undefined, {
      user: { original_password: u.password, password: 'brand-new' },
    });
    assert.equal(res.status, 204);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 401);
    assert.equal(await passwordLogin(h, u.id, u.password), 401);
    await nextSecond();
    const fresh = await h.token({ id: u.id, password: 'brand-new' });
    assert.equal((await call('GET', `/v3/users/${u.id}`, fresh)).status, 200);
    const row = await h.db
      .selectFrom('password')
      .selectAll()
      .where('user_id', '=', u.id)
      .where('replaced_at', 'is', null)
      .executeTakeFirstOrThrow();
    assert.equal(row.self_service, true);
  });

  it('answers 401 for a wrong original password or an unknown user, 400 for a bad body', async () => {
    const u = await h.user();
    const wrong = await call('POST', `/v3/users/${u.id}/password`, undefined, {
      user: { original_password: 'nope', password: 'whatever' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(
      wrong.body['error'].message,
      'Error when changing user password: Invalid user / password',
    );
    const failed = await h.db
      .selectFrom('identity_user')
      .select('failed_auth_count')
      .where('id', '=', u.id)
      .executeTakeFirstOrThrow();
    assert.equal(failed.failed_auth_count, 1);
    const unknown = await call('POST', `/v3/users/nobody/password`, undefined, {
      user: { original_password: 'a', password: 'b' },
    });
    assert.equal(unknown.status, 401);
    const bad = await call('POST', `/v3/users/${u.id}/password`, undefined, {
      user: { password: 'x' },
    });
    assert.equal(bad.status, 400);
    assert.equal(await passwordLogin(h, u.id, u.password), 201);
  });

  it('refuses when lock_password is set', async () => {
    const u = await h.user();
    await call('PATCH', `/v3/users/${u.id}`, h.adminToken, {
      user: { options: { lock_password: true } },
    });
    const res = await call('POST', `/v3/users/${u.id}/password`, undefined, {
      user: { original_password: u.password, password: 'other' },
    });
    assert.equal(res.status, 400);
    assert.match(res.body['error'].message, /password policy disallowing password changes/);
  });
});

describe('security compliance', async () => {
  const h = await harness({
    password_regex: '[a-z]+[0-9]+',
    password_regex_description: 'letters then digits',
    unique_last_password_count: 2,
    minimum_password_age_days: 0,
  });
  after(() => h.close());
  const call = client(h);

  it('enforces password_regex on create, update and change', async () => {
    const bad = await call('POST', '/v3/users', h.adminToken, {
      user: { name: 'rx', password: '123' },
    });
    assert.equal(bad.status, 400);
    assert.equal(
      bad.body['error'].message,
      'The password does not match the requirements: letters then digits.',
    );
    const ok = await call('POST', '/v3/users', h.adminToken, {
      user: { name: 'rx', password: 'abc1' },
    });
    assert.equal(ok.status, 201);
    const id = ok.body['user'].id;
    assert.equal(
      (await call('PATCH', `/v3/users/${id}`, h.adminToken, { user: { password: 'XYZ' } })).status,
      400,
    );
    const change = await call('POST', `/v3/users/${id}/password`, undefined, {
      user: { original_password: 'abc1', password: 'NOPE' },
    });
    assert.equal(change.status, 400);
    assert.match(change.body['error'].message, /letters then digits/);
  });

  it('enforces the password history on self-service changes', async () => {
    const u = await h.user({ password: 'first1' });
    const change = (original: string, password: string) =>
      call('POST', `/v3/users/${u.id}/password`, undefined, {
        user: { original_password: original, password },
      });
    assert.equal((await change('first1', 'first1')).status, 400);
    assert.equal((await change('first1', 'second2')).status, 204);
    const reuse = await change('second2', 'first1');
    assert.equal(reuse.status, 400);
    assert.match(reuse.body['error'].message, /cannot be identical to a previous password.*is 2\./);
    assert.equal((await change('second2', 'third3')).status, 204);
    // first1 is now older than the last two passwords.
    assert.equal((await change('third3', 'first1')).status, 204);
  });
});

describe('password age, expiry and first use', async () => {
  const h = await harness({
    minimum_password_age_days: 2,
    password_expires_days: 10,
    change_password_upon_first_use: true,
  });
  after(() => h.close());
  const call = client(h);

  it('an admin-set password expires at once; the user may still change it', async () => {
    const res = await call('POST', '/v3/users', h.adminToken, {
      user: { name: 'first', password: 'given1' },
    });
    assert.equal(res.status, 201);
    const u = res.body['user'];
    assert.ok(Date.parse(`${u.password_expires_at}Z`) <= Date.now());
    assert.equal(await passwordLogin(h, u.id, 'given1'), 401);
    const change = await call('POST', `/v3/users/${u.id}/password`, undefined, {
      user: { original_password: 'given1', password: 'mine1' },
    });
    assert.equal(change.status, 204);
    assert.equal(await passwordLogin(h, u.id, 'mine1'), 201);
    const after = await call('GET', `/v3/users/${u.id}`, h.adminToken);
    const expires = Date.parse(`${after.body['user'].password_expires_at}Z`);
    assert.ok(Math.abs(expires - (Date.now() + 10 * 86_400_000)) < 5000);
    // A self-service password must be kept for the minimum age.
    const again = await call('POST', `/v3/users/${u.id}/password`, undefined, {
      user: { original_password: 'mine1', password: 'mine2' },
    });
    assert.equal(again.status, 400);
    assert.match(
      again.body['error'].message,
      /minimum password age.*used for 2 day\(s\).*again in 1 day\(s\)/,
    );
  });

  it('ignore_change_password_upon_first_use and ignore_password_expiry are honoured', async () => {
    const res = await call('POST', '/v3/users', h.adminToken, {
      user: {
        name: 'exempt',
        password: 'given1',
        options: { ignore_change_password_upon_first_use: true, ignore_password_expiry: true },
      },
    });
    assert.equal(res.body['user'].password_expires_at, null);
    assert.equal(await passwordLogin(h, res.body['user'].id, 'given1'), 201);
  });
});

describe('groups API', async () => {
  const h = await harness();
  after(() => h.close());
  const call = client(h);
  const admin = h.adminToken;

  it('creates, gets, lists, updates and deletes groups', async () => {
    const res = await call('POST', '/v3/groups', admin, { group: { name: 'devs', tier: 1 } });
    assert.equal(res.status, 201);
    const g = res.body['group'];
    assert.deepEqual(g, {
      id: g.id,
      name: 'devs',
      domain_id: 'default',
      description: '',
      tier: 1,
      links: { self: `http://localhost:80/v3/groups/${g.id}` },
    });
    assert.deepEqual((await call('GET', `/v3/groups/${g.id}`, admin)).body['group'], g);
    assert.equal(
      (await call('POST', '/v3/groups', admin, { group: { name: 'devs' } })).status,
      409,
    );
    const domain = await h.domain();
    const other = await call('POST', '/v3/groups', admin, {
      group: { name: 'devs', domain_id: domain },
    });
    assert.equal(other.status, 201);
    const byDomain = await call('GET', `/v3/groups?domain_id=${domain}`, admin);
    assert.deepEqual(
      byDomain.body['groups'].map((x: Json) => x.id),
      [other.body['group'].id],
    );
    const byName = await call('GET', '/v3/groups?name=devs', admin);
    assert.equal(byName.body['groups'].length, 2);
    const upd = await call('PATCH', `/v3/groups/${g.id}`, admin, {
      group: { name: 'ops', description: 'x' },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body['group'].name, 'ops');
    assert.equal(upd.body['group'].description, 'x');
    assert.equal(upd.body['group'].tier, 1);
    assert.equal((await call('PATCH', `/v3/groups/${g.id}`, admin, { group: {} })).status, 400);
    assert.equal((await call('POST', '/v3/groups', admin, { group: {} })).status, 400);
    assert.equal(
      (await call('POST', '/v3/groups', admin, { group: { name: 'x', domain_id: 'none' } })).status,
      404,
    );
    assert.equal((await call('DELETE', `/v3/groups/${g.id}`, admin)).status, 204);
    assert.equal((await call('GET', `/v3/groups/${g.id}`, admin)).status, 404);
    assert.equal((await call('DELETE', `/v3/groups/${g.id}`, admin)).status, 404);
    assert.equal(
      (await call('PATCH', `/v3/groups/${g.id}`, admin, { group: { name: 'y' } })).status,
      404,
    );
  });

  it('manages membership: add, check, list both ways, remove (revoking tokens)', async () => {
    const g = (await call('POST', '/v3/groups', admin, { group: { name: 'team' } })).body['group'];
    const u = await h.user();
    const v = await h.user();
    assert.equal((await call('HEAD', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 404);
    assert.equal((await call('PUT', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
    assert.equal((await call('PUT', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
    assert.equal((await call('PUT', `/v3/groups/${g.id}/users/${v.id}`, admin)).status, 204);
    assert.equal((await call('HEAD', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
    assert.equal((await call('GET', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
    const members = await call('GET', `/v3/groups/${g.id}/users`, admin);
    assert.deepEqual(members.body['users'].map((x: Json) => x.id).sort(), [u.id, v.id].sort());
    const named = await call('GET', `/v3/groups/${g.id}/users?name=${u.name}`, admin);
    assert.deepEqual(
      named.body['users'].map((x: Json) => x.id),
      [u.id],
    );
    const groups = await call('GET', `/v3/users/${u.id}/groups`, admin);
    assert.equal(groups.status, 200);
    assert.deepEqual(
      groups.body['groups'].map((x: Json) => x.id),
      [g.id],
    );
    assert.equal(groups.body['groups'][0].membership_expires_at, null);

    // The user itself may list its groups.
    const token = await h.token(u);
    assert.equal((await call('GET', `/v3/users/${u.id}/groups`, token)).status, 200);
    assert.equal((await call('DELETE', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 401);
    assert.equal((await call('HEAD', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 404);
    const gone = await call('DELETE', `/v3/groups/${g.id}/users/${u.id}`, admin);
    assert.equal(gone.status, 404);
    assert.equal(gone.body['error'].message, `User '${u.id}' not found in group '${g.id}'`);
    assert.equal((await call('PUT', `/v3/groups/${g.id}/users/nobody`, admin)).status, 404);
    assert.equal((await call('PUT', `/v3/groups/nogroup/users/${u.id}`, admin)).status, 404);
    assert.equal((await call('GET', `/v3/groups/nogroup/users`, admin)).status, 404);
    assert.equal((await call('GET', `/v3/users/nobody/groups`, admin)).status, 404);
  });

  it('deleting a group removes its memberships and role assignments, and revokes members', async () => {
    const g = (await call('POST', '/v3/groups', admin, { group: { name: 'granted' } })).body[
      'group'
    ];
    const u = await h.user();
    const project = await h.project();
    await call('PUT', `/v3/groups/${g.id}/users/${u.id}`, admin);
    await h.grant({ groupId: g.id }, 'member', { projectId: project });
    const token = await h.token(u, { project: { id: project } });
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 200);
    assert.equal((await call('DELETE', `/v3/groups/${g.id}`, admin)).status, 204);
    assert.equal((await call('GET', `/v3/users/${u.id}`, token)).status, 401);
    const rows = await h.db
      .selectFrom('assignment')
      .selectAll()
      .where('actor_id', '=', g.id)
      .execute();
    assert.deepEqual(rows, []);
    const memberships = await h.db
      .selectFrom('group_membership')
      .selectAll()
      .where('group_id', '=', g.id)
      .execute();
    assert.deepEqual(memberships, []);
  });
});

describe('isolation', async () => {
  const h = await harness();
  after(() => h.close());
  const call = client(h);
  let member: string;
  let reader: string;
  let memberId: string;
  let otherId: string;
  let groupId: string;

  before(async () => {
    const project = await h.project();
    const m = await h.user();
    const r = await h.user();
    const other = await h.user();
    memberId = m.id;
    otherId = other.id;
    await h.grant({ userId: m.id }, 'member', { projectId: project });
    await h.grant({ userId: r.id }, 'reader', { projectId: project });
    member = await h.token(m, { project: { id: project } });
    reader = await h.token(r, { project: { id: project } });
    groupId = (await call('POST', '/v3/groups', h.adminToken, { group: { name: 'iso' } })).body[
      'group'
    ].id;
  });

  it('a project member cannot list users or groups, nor see another user', async () => {
    assert.equal((await call('GET', '/v3/users', member)).status, 403);
    assert.equal((await call('GET', '/v3/groups', member)).status, 403);
    assert.equal((await call('GET', `/v3/users/${otherId}`, member)).status, 403);
    assert.equal((await call('GET', `/v3/users/${otherId}/groups`, member)).status, 403);
    assert.equal((await call('GET', `/v3/groups/${groupId}`, member)).status, 403);
    assert.equal((await call('GET', `/v3/groups/${groupId}/users`, member)).status, 403);
    const own = await call('GET', `/v3/users/${memberId}`, member);
    assert.equal(own.status, 200);
    assert.equal(own.body['user'].id, memberId);
    assert.equal((await call('GET', '/v3/users', reader)).status, 403);
  });

  it('a reader cannot create, update or delete users or groups, nor change membership', async () => {
    const forbidden = [
      await call('POST', '/v3/users', reader, { user: { name: 'sneaky' } }),
      await call('PATCH', `/v3/users/${otherId}`, reader, { user: { name: 'renamed' } }),
      await call('DELETE', `/v3/users/${otherId}`, reader),
      await call('PATCH', `/v3/users/${memberId}`, member, { user: { enabled: true } }),
      await call('POST', '/v3/groups', reader, { group: { name: 'sneaky' } }),
      await call('PATCH', `/v3/groups/${groupId}`, reader, { group: { name: 'x' } }),
      await call('DELETE', `/v3/groups/${groupId}`, reader),
      await call('PUT', `/v3/groups/${groupId}/users/${memberId}`, member),
      await call('DELETE', `/v3/groups/${groupId}/users/${memberId}`, member),
    ];
    for (const res of forbidden) {
      assert.equal(res.status, 403);
      assert.match(res.body['error'].message, /^Policy doesn't allow identity:/);
    }
    assert.equal(
      (await call('GET', `/v3/users/${otherId}`, h.adminToken)).body['user'].name !== 'renamed',
      true,
    );
  });
});
