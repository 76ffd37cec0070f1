import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hexId } from '@stratus/common';
import { rolePolicies } from '../policies/roles.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerRoleRoutes } from './roles.js';

interface RoleBody {
  id: string;
  name: string;
  domain_id: string | null;
  description: string | null;
  options: Record<string, unknown>;
  links: { self: string };
}
interface Assignment {
  role: { id: string; name?: string; domain?: { id: string; name: string } };
  user?: { id: string; name?: string; domain?: { id: string; name: string } };
  group?: { id: string; name?: string; domain?: { id: string; name: string } };
  scope: {
    project?: { id: string; name?: string; domain?: { id: string; name: string } };
    domain?: { id: string; name?: string };
    system?: { all: boolean };
    'OS-INHERIT:inherited_to'?: string;
  };
  links: { assignment: string; membership?: string; prior_role?: string };
}

/** A harness with the role routes, and their rules in the enforcer. */
async function rolesHarness(): Promise<IdentityHarness> {
  const h = await identityHarness({ routes: [registerRoleRoutes], policies: rolePolicies });
  return h;
}

describe('role routes', async () => {
  const h = await rolesHarness();
  after(() => h.close());

  const call = async (
    method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options: { token?: string; payload?: unknown; headers?: Record<string, string> } = {},
  ) =>
    h.app.inject({
      method,
      url,
      headers: { 'x-auth-token': options.token ?? h.adminToken, ...options.headers },
      ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
    });
  const errorOf = (res: { json(): unknown }) =>
    (res.json() as { error: { code: number; title: string; message: string } }).error;
  const createRole = async (body: Record<string, unknown> = {}): Promise<RoleBody> => {
    const res = await call('POST', '/v3/roles', {
      payload: { role: { name: `r-${hexId().slice(0, 8)}`, ...body } },
    });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { role: RoleBody }).role;
  };
  const roleId = async (name: string) =>
    (
      await h.db
        .selectFrom('role')
        .select('id')
        .where('name', '=', name)
        .where('domain_id', '=', '')
        .executeTakeFirstOrThrow()
    ).id;
  const group = async (domainId = 'default', members: string[] = []): Promise<string> => {
    const id = hexId();
    await h.db
      .insertInto('identity_group')
      .values({
        id,
        domain_id: domainId,
        name: `g-${id.slice(0, 8)}`,
        description: null,
        extra: '{}',
        created_at: new Date(),
      })
      .execute();
    for (const user_id of members)
      await h.db.insertInto('group_membership').values({ user_id, group_id: id }).execute();
    return id;
  };
  const subproject = async (parentId: string, domainId = 'default'): Promise<string> => {
    const id = await h.project(undefined, domainId);
    await h.db.updateTable('project').set({ parent_id: parentId }).where('id', '=', id).execute();
    return id;
  };
  /** The roles a token carries, validated by the admin (404 once it no longer works). */
  const tokenRoles = async (token: string): Promise<string[] | number> => {
    const res = await h.app.inject({
      method: 'GET',
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': h.adminToken, 'x-subject-token': token },
    });
    if (res.statusCode !== 200) return res.statusCode;
    const body = res.json() as { token: { roles: Array<{ name: string }> } };
    return body.token.roles.map((r) => r.name).sort();
  };
  const assignments = async (query: string, token?: string): Promise<Assignment[]> => {
    const res = await call('GET', `/v3/role_assignments?${query}`, token ? { token } : {});
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { role_assignments: Assignment[] }).role_assignments;
  };
  const base = 'http://localhost:80/v3';

  let memberId = '';
  let readerId = '';
  let adminRoleId = '';
  before(async () => {
    memberId = await roleId('member');
    readerId = await roleId('reader');
    adminRoleId = await roleId('admin');
  });

  describe('roles', () => {
    it('creates, shows, lists, updates and deletes a global role', async () => {
      const res = await call('POST', '/v3/roles', {
        payload: { role: { name: 'auditor', description: 'Audits things', colour: 'blue' } },
      });
      assert.equal(res.statusCode, 201);
      const role = (res.json() as { role: RoleBody & { colour: string } }).role;
      assert.match(role.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(role, {
        id: role.id,
        name: 'auditor',
        domain_id: null,
        description: 'Audits things',
        options: {},
        colour: 'blue',
        links: { self: `${base}/roles/${role.id}` },
      });

      const shown = await call('GET', `/v3/roles/${role.id}`);
      assert.equal(shown.statusCode, 200);
      assert.deepEqual((shown.json() as { role: RoleBody }).role, role);

      const list = await call('GET', '/v3/roles');
      assert.equal(list.statusCode, 200);
      const listed = list.json() as { roles: RoleBody[]; links: Record<string, unknown> };
      assert.deepEqual(
        listed.roles.find((r) => r.id === role.id),
        role,
      );
      assert.ok(
        ['admin', 'manager', 'member', 'reader', 'service'].every((n) =>
          listed.roles.some((r) => r.name === n),
        ),
      );
      assert.deepEqual(listed.links, { self: `${base}/roles`, previous: null, next: null });

      const byName = await call('GET', '/v3/roles?name=auditor');
      assert.deepEqual(
        (byName.json() as { roles: RoleBody[] }).roles.map((r) => r.id),
        [role.id],
      );

      const patched = await call('PATCH', `/v3/roles/${role.id}`, {
        payload: { role: { name: 'auditor2', description: null } },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const updated = (patched.json() as { role: RoleBody }).role;
      assert.equal(updated.name, 'auditor2');
      assert.equal(updated.description, null);
      assert.equal((updated as RoleBody & { colour?: string }).colour, 'blue');

      const del = await call('DELETE', `/v3/roles/${role.id}`);
      assert.equal(del.statusCode, 204);
      const gone = await call('GET', `/v3/roles/${role.id}`);
      assert.equal(gone.statusCode, 404);
      assert.deepEqual(errorOf(gone), {
        code: 404,
        title: 'Not Found',
        message: `Could not find role: ${role.id}.`,
      });
      assert.equal((await call('DELETE', `/v3/roles/${role.id}`)).statusCode, 404);
      assert.equal(
        (await call('PATCH', `/v3/roles/${role.id}`, { payload: { role: { name: 'x' } } }))
          .statusCode,
        404,
      );
    });

    it('refuses a duplicate name in the same domain with 409, allows it in another', async () => {
      const role = await createRole();
      const dup = await call('POST', '/v3/roles', { payload: { role: { name: role.name } } });
      assert.equal(dup.statusCode, 409);
      assert.equal(
        errorOf(dup).message,
        `Conflict occurred attempting to store role - Duplicate entry found with name ${role.name}.`,
      );
      const domainId = await h.domain();
      const inDomain = await call('POST', '/v3/roles', {
        payload: { role: { name: role.name, domain_id: domainId } },
      });
      assert.equal(inDomain.statusCode, 201);
      const dup2 = await call('POST', '/v3/roles', {
        payload: { role: { name: role.name, domain_id: domainId } },
      });
      assert.equal(dup2.statusCode, 409);
      assert.match(errorOf(dup2).message, new RegExp(`at domain ID ${domainId}\\.$`));
      // Renaming onto an existing name conflicts too.
      const other = await createRole();
      const rename = await call('PATCH', `/v3/roles/${other.id}`, {
        payload: { role: { name: role.name } },
      });
      assert.equal(rename.statusCode, 409);
    });

    it('keeps domain-specific roles apart from global ones', async () => {
      const domainId = await h.domain();
      const role = await createRole({ domain_id: domainId });
      assert.equal(role.domain_id, domainId);
      const global = (await call('GET', '/v3/roles')).json() as { roles: RoleBody[] };
      assert.ok(!global.roles.some((r) => r.id === role.id));
      const scoped = (await call('GET', `/v3/roles?domain_id=${domainId}`)).json() as {
        roles: RoleBody[];
      };
      assert.deepEqual(scoped.roles, [role]);
      const moved = await call('PATCH', `/v3/roles/${role.id}`, {
        payload: { role: { domain_id: null } },
      });
      assert.equal(moved.statusCode, 400);
      assert.equal(errorOf(moved).message, 'Update of `domain_id` is not allowed.');
      const unknown = await call('POST', '/v3/roles', {
        payload: { role: { name: 'x', domain_id: 'nope' } },
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal(errorOf(unknown).message, 'Could not find domain: nope.');
    });

    it('validates the request body', async () => {
      for (const payload of [
        {},
        { role: {} },
        { role: { name: '' } },
        { role: { name: '   ' } },
        { role: { name: 5 } },
        { role: { name: 'ok' }, extra: 1 },
        { role: { name: 'ok', options: { bogus: true } } },
        { role: { name: 'ok', options: { immutable: 'yes' } } },
      ]) {
        const res = await call('POST', '/v3/roles', { payload });
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
      }
      const role = await createRole();
      const empty = await call('PATCH', `/v3/roles/${role.id}`, { payload: { role: {} } });
      assert.equal(empty.statusCode, 400);
      const changeId = await call('PATCH', `/v3/roles/${role.id}`, {
        payload: { role: { id: 'other' } },
      });
      assert.equal(changeId.statusCode, 400);
    });

    it('protects immutable roles until the option is turned off', async () => {
      const role = await createRole({ options: { immutable: true } });
      assert.deepEqual(role.options, { immutable: true });
      const rename = await call('PATCH', `/v3/roles/${role.id}`, {
        payload: { role: { name: 'renamed' } },
      });
      assert.equal(rename.statusCode, 403);
      assert.equal(
        errorOf(rename).message,
        `Unable to update immutable role resource: \`${role.id}. Set resource option "immutable" to false first.`,
      );
      const both = await call('PATCH', `/v3/roles/${role.id}`, {
        payload: { role: { name: 'renamed', options: { immutable: false } } },
      });
      assert.equal(both.statusCode, 403);
      const del = await call('DELETE', `/v3/roles/${role.id}`);
      assert.equal(del.statusCode, 403);
      assert.match(errorOf(del).message, /^Unable to delete immutable role resource/);
      const unlock = await call('PATCH', `/v3/roles/${role.id}`, {
        payload: { role: { options: { immutable: false } } },
      });
      assert.equal(unlock.statusCode, 200);
      assert.deepEqual((unlock.json() as { role: RoleBody }).role.options, { immutable: false });
      assert.equal((await call('DELETE', `/v3/roles/${role.id}`)).statusCode, 204);
    });

    it('deleting a role removes its assignments and implications and its tokens lose it', async () => {
      const role = await createRole();
      const implied = await createRole();
      const user = await h.user();
      const project = await h.project();
      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${role.id}`);
      await call('PUT', `/v3/roles/${role.id}/implies/${implied.id}`);
      const prior = await createRole();
      await call('PUT', `/v3/roles/${prior.id}/implies/${role.id}`);
      const token = await h.token(user, { project: { id: project } });
      assert.deepEqual(await tokenRoles(token), [role.name, implied.name].sort());
      assert.equal((await call('DELETE', `/v3/roles/${role.id}`)).statusCode, 204);
      const left = await h.db
        .selectFrom('assignment')
        .select('role_id')
        .where('role_id', '=', role.id)
        .execute();
      assert.equal(left.length, 0);
      const rules = await h.db
        .selectFrom('implied_role')
        .selectAll()
        .where((eb) =>
          eb.or([eb('prior_role_id', '=', role.id), eb('implied_role_id', '=', role.id)]),
        )
        .execute();
      assert.equal(rules.length, 0);
      // The token held no other role: it stops working at once.
      assert.equal(await tokenRoles(token), 404);
    });

    it('lets a system reader read roles but not create them; refuses project members', async () => {
      const reader = await h.user();
      await h.grant({ userId: reader.id }, 'reader', { system: true });
      const sysToken = await h.token(reader, { system: { all: true } });
      assert.equal((await call('GET', '/v3/roles', { token: sysToken })).statusCode, 200);
      assert.equal(
        (await call('GET', `/v3/roles/${memberId}`, { token: sysToken })).statusCode,
        200,
      );
      const create = await call('POST', '/v3/roles', {
        token: sysToken,
        payload: { role: { name: 'nope' } },
      });
      assert.equal(create.statusCode, 403);

      const member = await h.user();
      const project = await h.project();
      await h.grant({ userId: member.id }, 'member', { projectId: project });
      const projToken = await h.token(member, { project: { id: project } });
      const res = await call('POST', '/v3/roles', {
        token: projToken,
        payload: { role: { name: 'nope' } },
      });
      assert.equal(res.statusCode, 403);
      assert.equal((await call('GET', '/v3/roles', { token: projToken })).statusCode, 403);
      assert.equal(
        (await call('DELETE', `/v3/roles/${memberId}`, { token: projToken })).statusCode,
        403,
      );
    });
  });

  describe('implied roles', () => {
    it('creates, shows, checks, lists and deletes an implication', async () => {
      const prior = await createRole();
      const implied = await createRole();
      const url = `/v3/roles/${prior.id}/implies/${implied.id}`;
      // Sent as clients send it: JSON content type and no body.
      const put = await call('PUT', url, { headers: { 'content-type': 'application/json' } });
      assert.equal(put.statusCode, 201, put.body);
      const expected = {
        role_inference: {
          prior_role: {
            id: prior.id,
            links: { self: `${base}/roles/${prior.id}` },
            name: prior.name,
          },
          implies: {
            id: implied.id,
            links: { self: `${base}/roles/${implied.id}` },
            name: implied.name,
          },
        },
        links: { self: `${base}${url.slice(3)}` },
      };
      assert.deepEqual(put.json(), expected);
      const get = await call('GET', url);
      assert.equal(get.statusCode, 200);
      assert.deepEqual(get.json(), expected);
      assert.equal((await call('HEAD', url)).statusCode, 204);

      const list = await call('GET', `/v3/roles/${prior.id}/implies`);
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json(), {
        role_inference: {
          prior_role: expected.role_inference.prior_role,
          implies: [expected.role_inference.implies],
        },
        links: { self: `${base}/roles/${prior.id}/implies` },
      });

      const all = (await call('GET', '/v3/role_inferences')).json() as {
        role_inferences: Array<{ prior_role: { id: string }; implies: Array<{ id: string }> }>;
      };
      const mine = all.role_inferences.find((r) => r.prior_role.id === prior.id);
      assert.deepEqual(
        mine?.implies.map((r) => r.id),
        [implied.id],
      );
      const boot = all.role_inferences.find((r) => r.prior_role.id === memberId);
      assert.deepEqual(
        boot?.implies.map((r) => r.id),
        [readerId],
      );

      const dup = await call('PUT', url);
      assert.equal(dup.statusCode, 409);

      assert.equal((await call('DELETE', url)).statusCode, 204);
      const gone = await call('GET', url);
      assert.equal(gone.statusCode, 404);
      assert.equal(errorOf(gone).message, `${prior.id} does not imply ${implied.id}.`);
      assert.equal((await call('HEAD', url)).statusCode, 404);
      assert.equal((await call('DELETE', url)).statusCode, 404);
    });

    it('answers 404 for unknown roles', async () => {
      const role = await createRole();
      const a = await call('PUT', `/v3/roles/nope/implies/${role.id}`);
      assert.equal(a.statusCode, 404);
      assert.equal(errorOf(a).message, 'Could not find role: nope.');
      const b = await call('PUT', `/v3/roles/${role.id}/implies/nope`);
      assert.equal(b.statusCode, 404);
      assert.equal((await call('GET', '/v3/roles/nope/implies')).statusCode, 404);
    });

    it('refuses cycles, implying admin, and global roles implying domain roles', async () => {
      const a = await createRole();
      const b = await createRole();
      const c = await createRole();
      assert.equal((await call('PUT', `/v3/roles/${a.id}/implies/${b.id}`)).statusCode, 201);
      assert.equal((await call('PUT', `/v3/roles/${b.id}/implies/${c.id}`)).statusCode, 201);
      const cycle = await call('PUT', `/v3/roles/${c.id}/implies/${a.id}`);
      assert.equal(cycle.statusCode, 400);
      assert.match(errorOf(cycle).message, /cycle/);
      assert.equal((await call('PUT', `/v3/roles/${a.id}/implies/${a.id}`)).statusCode, 400);
      // The bootstrap chain too: reader cannot imply admin (nor anyone imply admin).
      assert.equal(
        (await call('PUT', `/v3/roles/${readerId}/implies/${memberId}`)).statusCode,
        400,
      );
      const admin = await call('PUT', `/v3/roles/${a.id}/implies/${adminRoleId}`);
      assert.equal(admin.statusCode, 403);
      assert.equal(errorOf(admin).message, `${adminRoleId} cannot be an implied roles.`);

      const domainId = await h.domain();
      const d1 = await createRole({ domain_id: domainId });
      const d2 = await createRole({ domain_id: domainId });
      const g2d = await call('PUT', `/v3/roles/${a.id}/implies/${d1.id}`);
      assert.equal(g2d.statusCode, 403);
      assert.equal(errorOf(g2d).message, 'Global role cannot imply a domain-specific role');
      assert.equal((await call('PUT', `/v3/roles/${d1.id}/implies/${d2.id}`)).statusCode, 201);
      assert.equal((await call('PUT', `/v3/roles/${d1.id}/implies/${a.id}`)).statusCode, 201);
    });

    it('changes what existing tokens carry, at once', async () => {
      const prior = await createRole();
      const implied = await createRole();
      const user = await h.user();
      const project = await h.project();
      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${prior.id}`);
      const token = await h.token(user, { project: { id: project } });
      assert.deepEqual(await tokenRoles(token), [prior.name]);
      await call('PUT', `/v3/roles/${prior.id}/implies/${implied.id}`);
      assert.deepEqual(await tokenRoles(token), [prior.name, implied.name].sort());
      await call('DELETE', `/v3/roles/${prior.id}/implies/${implied.id}`);
      assert.deepEqual(await tokenRoles(token), [prior.name]);
    });

    it('is admin-only to change, system-reader readable', async () => {
      const member = await h.user();
      const project = await h.project();
      await h.grant({ userId: member.id }, 'member', { projectId: project });
      const token = await h.token(member, { project: { id: project } });
      const a = await createRole();
      const b = await createRole();
      assert.equal(
        (await call('PUT', `/v3/roles/${a.id}/implies/${b.id}`, { token })).statusCode,
        403,
      );
      assert.equal((await call('GET', '/v3/role_inferences', { token })).statusCode, 403);
      const reader = await h.user();
      await h.grant({ userId: reader.id }, 'reader', { system: true });
      const sys = await h.token(reader, { system: { all: true } });
      assert.equal((await call('GET', '/v3/role_inferences', { token: sys })).statusCode, 200);
      assert.equal(
        (await call('PUT', `/v3/roles/${a.id}/implies/${b.id}`, { token: sys })).statusCode,
        403,
      );
    });
  });

  describe('grants', () => {
    const kinds = [
      ['projects', 'users'],
      ['projects', 'groups'],
      ['domains', 'users'],
      ['domains', 'groups'],
    ] as const;
    for (const [target, actor] of kinds) {
      for (const inherited of [false, true]) {
        const label = `${inherited ? 'OS-INHERIT ' : ''}${actor} on ${target}`;
        it(`grants, checks, lists and revokes roles for ${label}`, async () => {
          const role = await createRole();
          const targetId = target === 'projects' ? await h.project() : await h.domain();
          const actorId = actor === 'users' ? (await h.user()).id : await group();
          const prefix = inherited ? '/v3/OS-INHERIT' : '/v3';
          const listUrl = `${prefix}/${target}/${targetId}/${actor}/${actorId}/roles${inherited ? '/inherited_to_projects' : ''}`;
          const url = inherited
            ? `${prefix}/${target}/${targetId}/${actor}/${actorId}/roles/${role.id}/inherited_to_projects`
            : `${listUrl}/${role.id}`;
          const notFoundMessage = `Could not find role assignment with role: ${role.id}, user or group: ${actorId}, project, domain, or system: ${targetId}.`;

          const before = await call('HEAD', url);
          assert.equal(before.statusCode, 404);
          const missing = await call('GET', url);
          assert.equal(errorOf(missing).message, notFoundMessage);

          const put = await call('PUT', url, { headers: { 'content-type': 'application/json' } });
          assert.equal(put.statusCode, 204, put.body);
          assert.equal((await call('PUT', url)).statusCode, 204, 'granting again is fine');
          assert.equal((await call('HEAD', url)).statusCode, 204);
          assert.equal((await call('GET', url)).statusCode, 204);
          const list = await call('GET', listUrl);
          assert.equal(list.statusCode, 200);
          const body = list.json() as { roles: RoleBody[]; links: { self: string } };
          assert.deepEqual(body.roles, [role]);
          assert.equal(body.links.self, `${base}${listUrl.slice(3)}`);

          // The other flavour (inherited or not) is a different grant.
          const otherUrl = inherited
            ? `/v3/${target}/${targetId}/${actor}/${actorId}/roles/${role.id}`
            : `/v3/OS-INHERIT/${target}/${targetId}/${actor}/${actorId}/roles/${role.id}/inherited_to_projects`;
          assert.equal((await call('HEAD', otherUrl)).statusCode, 404);

          assert.equal((await call('DELETE', url)).statusCode, 204);
          assert.equal((await call('HEAD', url)).statusCode, 404);
          const again = await call('DELETE', url);
          assert.equal(again.statusCode, 404);
          assert.equal(errorOf(again).message, notFoundMessage);
          const empty = (await call('GET', listUrl)).json() as { roles: RoleBody[] };
          assert.deepEqual(empty.roles, []);
        });
      }
    }

    it("answers 404 with Keystone's messages for unknown roles, actors and targets", async () => {
      const role = await createRole();
      const user = await h.user();
      const project = await h.project();
      const domain = await h.domain();
      const cases: Array<[string, string]> = [
        [`/v3/projects/${project}/users/${user.id}/roles/nope`, 'Could not find role: nope.'],
        [`/v3/projects/${project}/users/nope/roles/${role.id}`, 'Could not find user: nope.'],
        [`/v3/projects/${project}/groups/nope/roles/${role.id}`, 'Could not find group: nope.'],
        [`/v3/projects/nope/users/${user.id}/roles/${role.id}`, 'Could not find project: nope.'],
        [`/v3/domains/nope/users/${user.id}/roles/${role.id}`, 'Could not find domain: nope.'],
        // A domain is not a project, nor a project a domain.
        [
          `/v3/projects/${domain}/users/${user.id}/roles/${role.id}`,
          `Could not find project: ${domain}.`,
        ],
        [
          `/v3/domains/${project}/users/${user.id}/roles/${role.id}`,
          `Could not find domain: ${project}.`,
        ],
        [
          `/v3/OS-INHERIT/domains/nope/users/${user.id}/roles/${role.id}/inherited_to_projects`,
          'Could not find domain: nope.',
        ],
        [`/v3/system/users/nope/roles/${role.id}`, 'Could not find user: nope.'],
        [`/v3/system/groups/${user.id}/roles/${role.id}`, `Could not find group: ${user.id}.`],
        [`/v3/system/users/${user.id}/roles/nope`, 'Could not find role: nope.'],
      ];
      for (const [url, message] of cases) {
        const res = await call('PUT', url);
        assert.equal(res.statusCode, 404, url);
        assert.equal(errorOf(res).message, message, url);
      }
      const list = await call('GET', `/v3/projects/${project}/users/nope/roles`);
      assert.equal(list.statusCode, 404);
      assert.equal(errorOf(list).message, 'Could not find user: nope.');
    });

    it('refuses a domain-specific role on a project of another domain', async () => {
      const domainA = await h.domain();
      const domainB = await h.domain();
      const role = await createRole({ domain_id: domainA });
      const user = await h.user();
      const inA = await h.project(undefined, domainA);
      const inB = await h.project(undefined, domainB);
      assert.equal(
        (await call('PUT', `/v3/projects/${inA}/users/${user.id}/roles/${role.id}`)).statusCode,
        204,
      );
      const res = await call('PUT', `/v3/projects/${inB}/users/${user.id}/roles/${role.id}`);
      assert.equal(res.statusCode, 403);
      assert.equal(
        errorOf(res).message,
        `Project ${inB} must be in the same domain as the role ${role.id} being assigned.`,
      );
      const sys = await call('PUT', `/v3/system/users/${user.id}/roles/${role.id}`);
      assert.equal(sys.statusCode, 400);
      assert.match(errorOf(sys).message, /is a domain-specific role/);
    });

    for (const actor of ['users', 'groups'] as const) {
      it(`grants, checks, lists and revokes system roles for ${actor}`, async () => {
        const role = await createRole();
        const actorId = actor === 'users' ? (await h.user()).id : await group();
        const url = `/v3/system/${actor}/${actorId}/roles/${role.id}`;
        assert.equal((await call('HEAD', url)).statusCode, 404);
        assert.equal((await call('PUT', url)).statusCode, 204);
        assert.equal((await call('HEAD', url)).statusCode, 204);
        assert.equal((await call('GET', url)).statusCode, 204);
        const list = await call('GET', `/v3/system/${actor}/${actorId}/roles`);
        assert.deepEqual((list.json() as { roles: RoleBody[] }).roles, [role]);
        assert.equal((await call('DELETE', url)).statusCode, 204);
        const gone = await call('GET', url);
        assert.equal(gone.statusCode, 404);
        assert.equal(
          errorOf(gone).message,
          `Could not find role assignment with role: ${role.id}, user or group: ${actorId}, project, domain, or system: system.`,
        );
        assert.equal((await call('DELETE', url)).statusCode, 404);
      });
    }

    it('a token reflects a new grant on its next validation and loses revoked roles at once', async () => {
      const extra = await createRole();
      const user = await h.user();
      const project = await h.project();
      await h.grant({ userId: user.id }, 'reader', { projectId: project });
      const token = await h.token(user, { project: { id: project } });
      assert.deepEqual(await tokenRoles(token), ['reader']);

      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${extra.id}`);
      assert.deepEqual(await tokenRoles(token), [extra.name, 'reader'].sort());

      await call('DELETE', `/v3/projects/${project}/users/${user.id}/roles/${extra.id}`);
      assert.deepEqual(await tokenRoles(token), ['reader']);

      await call('DELETE', `/v3/projects/${project}/users/${user.id}/roles/${readerId}`);
      assert.equal(await tokenRoles(token), 404);
      const own = await h.app.inject({
        method: 'GET',
        url: '/v3/auth/catalog',
        headers: { 'x-auth-token': token },
      });
      assert.equal(own.statusCode, 401);
    });

    it('revoking a group grant takes the role from the tokens of its members', async () => {
      const user = await h.user();
      const project = await h.project();
      const groupId = await group('default', [user.id]);
      await call('PUT', `/v3/projects/${project}/groups/${groupId}/roles/${memberId}`);
      const token = await h.token(user, { project: { id: project } });
      assert.deepEqual(await tokenRoles(token), ['member', 'reader']);
      await call('DELETE', `/v3/projects/${project}/groups/${groupId}/roles/${memberId}`);
      assert.equal(await tokenRoles(token), 404);
    });

    it('inherited grants reach the projects below the target, not the target', async () => {
      const user = await h.user();
      const domain = await h.domain();
      const top = await h.project(undefined, domain);
      const child = await subproject(top, domain);
      await call(
        'PUT',
        `/v3/OS-INHERIT/projects/${top}/users/${user.id}/roles/${memberId}/inherited_to_projects`,
      );
      const childToken = await h.token(user, { project: { id: child } });
      assert.deepEqual(await tokenRoles(childToken), ['member', 'reader']);
      await assert.rejects(h.token(user, { project: { id: top } }), /401/);

      // On a domain: every project in it.
      const other = await h.user();
      await call(
        'PUT',
        `/v3/OS-INHERIT/domains/${domain}/users/${other.id}/roles/${readerId}/inherited_to_projects`,
      );
      assert.deepEqual(await tokenRoles(await h.token(other, { project: { id: child } })), [
        'reader',
      ]);
      await assert.rejects(h.token(other, { domain: { id: domain } }), /401/);

      await call(
        'DELETE',
        `/v3/OS-INHERIT/projects/${top}/users/${user.id}/roles/${memberId}/inherited_to_projects`,
      );
      assert.equal(await tokenRoles(childToken), 404);
    });

    it('isolates projects: a member of A can neither grant on B nor read its grants', async () => {
      const member = await h.user();
      const a = await h.project();
      const b = await h.project();
      const victim = await h.user();
      await h.grant({ userId: member.id }, 'member', { projectId: a });
      await h.grant({ userId: victim.id }, 'member', { projectId: b });
      const token = await h.token(member, { project: { id: a } });
      const grant = await call('PUT', `/v3/projects/${b}/users/${member.id}/roles/${memberId}`, {
        token,
      });
      assert.equal(grant.statusCode, 403);
      const grantA = await call(
        'PUT',
        `/v3/projects/${a}/users/${victim.id}/roles/${adminRoleId}`,
        {
          token,
        },
      );
      assert.equal(grantA.statusCode, 403);
      assert.equal(
        (await call('GET', `/v3/projects/${b}/users/${victim.id}/roles`, { token })).statusCode,
        403,
      );
      assert.equal(
        (await call('HEAD', `/v3/projects/${b}/users/${victim.id}/roles/${memberId}`, { token }))
          .statusCode,
        403,
      );
      assert.equal(
        (await call('DELETE', `/v3/projects/${b}/users/${victim.id}/roles/${memberId}`, { token }))
          .statusCode,
        403,
      );
      assert.equal(
        (await call('GET', `/v3/role_assignments?scope.project.id=${b}`, { token })).statusCode,
        403,
      );
      assert.equal((await call('GET', '/v3/role_assignments', { token })).statusCode, 403);
      assert.equal(
        (await call('GET', `/v3/role_assignments?user.id=${victim.id}`, { token })).statusCode,
        403,
      );
      assert.equal(
        (await call('PUT', `/v3/system/users/${member.id}/roles/${adminRoleId}`, { token }))
          .statusCode,
        403,
      );
      // Their own assignments they may list.
      const own = await assignments(`user.id=${member.id}`, token);
      assert.deepEqual(
        own.map((x) => [x.role.id, x.scope.project?.id]),
        [[memberId, a]],
      );
    });

    it('lets a domain admin manage grants inside its domain only', async () => {
      const domain = await h.domain();
      const elsewhere = await h.domain();
      const admin = await h.user({ domainId: domain });
      await h.grant({ userId: admin.id }, 'admin', { domainId: domain });
      const token = await h.token({ ...admin, domainId: domain }, { domain: { id: domain } });
      // A domain admin holds `role:admin`, which Keystone's admin_required accepts anywhere;
      // what the domain rules add is checked with a reader instead.
      const reader = await h.user({ domainId: domain });
      await h.grant({ userId: reader.id }, 'reader', { domainId: domain });
      const readerToken = await h.token(
        { ...reader, domainId: domain },
        { domain: { id: domain } },
      );
      const inside = await h.project(undefined, domain);
      const outside = await h.project(undefined, elsewhere);
      const someone = await h.user({ domainId: domain });
      await call('PUT', `/v3/projects/${inside}/users/${someone.id}/roles/${memberId}`, { token });
      assert.equal(
        (
          await call('GET', `/v3/projects/${inside}/users/${someone.id}/roles`, {
            token: readerToken,
          })
        ).statusCode,
        200,
      );
      assert.equal(
        (
          await call('GET', `/v3/projects/${outside}/users/${someone.id}/roles`, {
            token: readerToken,
          })
        ).statusCode,
        403,
      );
      assert.equal(
        (
          await call('PUT', `/v3/projects/${inside}/users/${someone.id}/roles/${readerId}`, {
            token: readerToken,
          })
        ).statusCode,
        403,
      );
      // A domain reader lists the assignments of its domain, and only those.
      const seen = await assignments('', readerToken);
      assert.ok(seen.length > 0);
      for (const x of seen)
        assert.ok(
          x.scope.domain?.id === domain || x.scope.project?.id === inside,
          JSON.stringify(x),
        );
    });
  });

  describe('role assignments', () => {
    it('lists direct assignments with filters and links', async () => {
      const user = await h.user();
      const project = await h.project();
      const domain = await h.domain();
      const groupId = await group();
      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${memberId}`);
      await call('PUT', `/v3/domains/${domain}/groups/${groupId}/roles/${readerId}`);
      await call('PUT', `/v3/system/users/${user.id}/roles/${readerId}`);
      await call(
        'PUT',
        `/v3/OS-INHERIT/domains/${domain}/users/${user.id}/roles/${readerId}/inherited_to_projects`,
      );

      const res = await call('GET', `/v3/role_assignments?user.id=${user.id}`);
      const body = res.json() as { role_assignments: Assignment[]; links: { self: string } };
      assert.equal(body.links.self, `${base}/role_assignments`);
      const byLink = Object.fromEntries(body.role_assignments.map((x) => [x.links.assignment, x]));
      assert.deepEqual(byLink[`${base}/projects/${project}/users/${user.id}/roles/${memberId}`], {
        role: { id: memberId },
        user: { id: user.id },
        scope: { project: { id: project } },
        links: { assignment: `${base}/projects/${project}/users/${user.id}/roles/${memberId}` },
      });
      assert.deepEqual(byLink[`${base}/system/users/${user.id}/roles/${readerId}`], {
        role: { id: readerId },
        user: { id: user.id },
        scope: { system: { all: true } },
        links: { assignment: `${base}/system/users/${user.id}/roles/${readerId}` },
      });
      const inheritedLink = `${base}/OS-INHERIT/domains/${domain}/users/${user.id}/roles/${readerId}/inherited_to_projects`;
      assert.deepEqual(byLink[inheritedLink], {
        role: { id: readerId },
        user: { id: user.id },
        scope: { domain: { id: domain }, 'OS-INHERIT:inherited_to': 'projects' },
        links: { assignment: inheritedLink },
      });
      assert.equal(body.role_assignments.length, 3);

      const byGroup = await assignments(`group.id=${groupId}`);
      assert.deepEqual(byGroup, [
        {
          role: { id: readerId },
          group: { id: groupId },
          scope: { domain: { id: domain } },
          links: { assignment: `${base}/domains/${domain}/groups/${groupId}/roles/${readerId}` },
        },
      ]);
      assert.equal((await assignments(`scope.project.id=${project}`)).length, 1);
      assert.equal((await assignments(`scope.domain.id=${domain}`)).length, 2);
      assert.equal(
        (await assignments(`scope.domain.id=${domain}&scope.OS-INHERIT:inherited_to=projects`))
          .length,
        1,
      );
      const system = await assignments(`scope.system=all&user.id=${user.id}`);
      assert.deepEqual(
        system.map((x) => x.scope),
        [{ system: { all: true } }],
      );
      const byRole = await assignments(`role.id=${memberId}&user.id=${user.id}`);
      assert.equal(byRole.length, 1);
    });

    it('expands groups, inheritance and implied roles in effective mode', async () => {
      const user = await h.user();
      const domain = await h.domain();
      const top = await h.project(undefined, domain);
      const child = await subproject(top, domain);
      const groupId = await group('default', [user.id]);
      const custom = await createRole();
      await call('PUT', `/v3/projects/${top}/groups/${groupId}/roles/${memberId}`);
      await call(
        'PUT',
        `/v3/OS-INHERIT/projects/${top}/users/${user.id}/roles/${custom.id}/inherited_to_projects`,
      );

      const onTop = await assignments(`effective&user.id=${user.id}&scope.project.id=${top}`);
      assert.deepEqual(onTop.map((x) => x.role.id).sort(), [memberId, readerId].sort());
      const member = onTop.find((x) => x.role.id === memberId) as Assignment;
      assert.deepEqual(member, {
        role: { id: memberId },
        user: { id: user.id },
        scope: { project: { id: top } },
        links: {
          assignment: `${base}/projects/${top}/groups/${groupId}/roles/${memberId}`,
          membership: `${base}/groups/${groupId}/users/${user.id}`,
        },
      });
      const reader = onTop.find((x) => x.role.id === readerId) as Assignment;
      // An implied role links to the assignment of its prior role.
      assert.equal(reader.links.assignment, member.links.assignment);
      assert.equal(reader.links.prior_role, `${base}/roles/${memberId}/implies/${readerId}`);

      const onChild = await assignments(`effective&user.id=${user.id}&scope.project.id=${child}`);
      assert.deepEqual(
        onChild.map((x) => x.role.id),
        [custom.id],
      );
      assert.deepEqual(onChild[0], {
        role: { id: custom.id },
        user: { id: user.id },
        scope: { project: { id: child }, 'OS-INHERIT:inherited_to': 'projects' },
        links: {
          assignment: `${base}/OS-INHERIT/projects/${top}/users/${user.id}/roles/${custom.id}/inherited_to_projects`,
        },
      });

      // Without a user: the group is expanded to its members; no group assignment remains.
      const all = await assignments(`effective&scope.project.id=${top}`);
      assert.ok(all.every((x) => x.group === undefined && x.user !== undefined));
      assert.ok(all.some((x) => x.user?.id === user.id && x.role.id === memberId));
      // include_subtree brings in the child's inherited assignment.
      const tree = await assignments(
        `effective&user.id=${user.id}&scope.project.id=${top}&include_subtree=true`,
      );
      assert.deepEqual(
        tree.map((x) => `${x.scope.project?.id}:${x.role.id}`).sort(),
        [`${child}:${custom.id}`, `${top}:${memberId}`, `${top}:${readerId}`].sort(),
      );
      // Effective role.id filter keeps implied roles.
      const readers = await assignments(`effective&user.id=${user.id}&role.id=${readerId}`);
      assert.deepEqual(
        readers.map((x) => x.scope.project?.id),
        [top],
      );
    });

    it('leaves domain-specific roles out of effective assignments, keeping what they imply', async () => {
      const domain = await h.domain();
      const project = await h.project(undefined, domain);
      const user = await h.user();
      const domainRole = await createRole({ domain_id: domain });
      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${domainRole.id}`);
      assert.deepEqual(await assignments(`effective&user.id=${user.id}`), []);
      assert.equal((await assignments(`user.id=${user.id}`)).length, 1);
      await call('PUT', `/v3/roles/${domainRole.id}/implies/${readerId}`);
      const eff = await assignments(`effective&user.id=${user.id}`);
      assert.deepEqual(
        eff.map((x) => x.role.id),
        [readerId],
      );
    });

    it('includes names when asked', async () => {
      const domain = await h.domain('names-domain');
      const project = await h.project('names-project', domain);
      const user = await h.user({ name: 'names-user', domainId: domain });
      const groupId = await group(domain);
      const domainRole = await createRole({ domain_id: domain });
      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${memberId}`);
      await call('PUT', `/v3/projects/${project}/users/${user.id}/roles/${domainRole.id}`);
      await call('PUT', `/v3/domains/${domain}/groups/${groupId}/roles/${readerId}`);
      const rows = await assignments(`user.id=${user.id}&include_names`);
      const member = rows.find((x) => x.role.id === memberId);
      assert.deepEqual(member, {
        role: { id: memberId, name: 'member' },
        user: { id: user.id, name: 'names-user', domain: { id: domain, name: 'names-domain' } },
        scope: {
          project: {
            id: project,
            name: 'names-project',
            domain: { id: domain, name: 'names-domain' },
          },
        },
        links: { assignment: `${base}/projects/${project}/users/${user.id}/roles/${memberId}` },
      });
      const dr = rows.find((x) => x.role.id === domainRole.id);
      assert.deepEqual(dr?.role, {
        id: domainRole.id,
        name: domainRole.name,
        domain: { id: domain, name: 'names-domain' },
      });
      const byGroup = await assignments(`group.id=${groupId}&include_names=1`);
      assert.deepEqual(byGroup[0]?.scope, { domain: { id: domain, name: 'names-domain' } });
      assert.equal(byGroup[0]?.group?.domain?.name, 'names-domain');
    });

    it('include_subtree lists the assignments of a project and every project below it', async () => {
      const top = await h.project();
      const child = await subproject(top);
      const grandchild = await subproject(child);
      const sibling = await h.project();
      const user = await h.user();
      for (const p of [top, child, grandchild, sibling])
        await call('PUT', `/v3/projects/${p}/users/${user.id}/roles/${readerId}`);
      const tree = await assignments(`scope.project.id=${child}&include_subtree=True`);
      assert.deepEqual(tree.map((x) => x.scope.project?.id).sort(), [child, grandchild].sort());
      const bad = await call('GET', '/v3/role_assignments?include_subtree=true');
      assert.equal(bad.statusCode, 400);
      assert.equal(
        errorOf(bad).message,
        'scope.project.id must be specified if include_subtree is also specified',
      );
      const unknown = await call(
        'GET',
        '/v3/role_assignments?include_subtree&scope.project.id=nope',
      );
      assert.equal(unknown.statusCode, 404);
    });

    it('refuses filter combinations that make no sense', async () => {
      for (const [query, message] of [
        ['scope.project.id=a&scope.domain.id=b', 'Specify a domain or project, not both'],
        ['scope.system=all&scope.domain.id=b', 'Specify system or domain, not both'],
        ['scope.system=all&scope.project.id=a', 'Specify system or project, not both'],
        ['user.id=a&group.id=b', 'Specify a user or group, not both'],
        [
          'effective&group.id=b',
          'Combining effective and group filter will always result in an empty list.',
        ],
        [
          'effective&scope.domain.id=b&scope.OS-INHERIT:inherited_to=projects',
          'Combining effective, domain and inherited filters will always result in an empty list.',
        ],
      ]) {
        const res = await call('GET', `/v3/role_assignments?${query}`);
        assert.equal(res.statusCode, 400, query);
        assert.equal(errorOf(res).message, message, query);
      }
    });

    it('reports the bootstrap admin', async () => {
      const rows = await assignments('role.id=' + adminRoleId + '&include_names');
      assert.ok(
        rows.some((x) => x.user?.name === 'admin' && x.scope.project?.id === h.adminProjectId),
      );
      assert.ok(rows.some((x) => x.user?.name === 'admin' && x.scope.system?.all === true));
    });
  });
});
