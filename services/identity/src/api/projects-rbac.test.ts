import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestUser } from '../testing/harness.js';
import { member, message, projectsHarness, type ProjectsHarness } from './projects-helpers.test.js';

type Entity = Record<string, unknown> & { id: string };

describe('domain and project policies', () => {
  let h: ProjectsHarness;
  let domainD: string;
  let projectA: string;
  let projectB: string;
  let projectInD: string;
  let memberA: string;
  let readerA: string;
  let adminX: string;
  let domainAdmin: string;
  let domainManager: string;
  let domainReader: string;
  let systemReader: string;

  const tokenFor = async (user: TestUser, scope: unknown): Promise<string> =>
    h.token({ id: user.id, password: user.password }, scope);

  before(async () => {
    h = await projectsHarness();
    domainD = await h.domain('rbac-d');
    projectA = await h.project('rbac-a');
    projectB = await h.project('rbac-b');
    projectInD = await h.project('rbac-in-d', domainD);
    const projectX = await h.project('rbac-x');
    const users = {
      member: await h.user(),
      reader: await h.user(),
      admin: await h.user(),
      domainAdmin: await h.user({ domainId: domainD }),
      domainManager: await h.user({ domainId: domainD }),
      domainReader: await h.user({ domainId: domainD }),
      system: await h.user(),
    };
    await h.grant({ userId: users.member.id }, 'member', { projectId: projectA });
    await h.grant({ userId: users.reader.id }, 'reader', { projectId: projectA });
    await h.grant({ userId: users.admin.id }, 'admin', { projectId: projectX });
    await h.grant({ userId: users.domainAdmin.id }, 'admin', { domainId: domainD });
    await h.grant({ userId: users.domainManager.id }, 'manager', { domainId: domainD });
    await h.grant({ userId: users.domainReader.id }, 'reader', { domainId: domainD });
    await h.grant({ userId: users.system.id }, 'reader', { system: true });
    memberA = await tokenFor(users.member, { project: { id: projectA } });
    readerA = await tokenFor(users.reader, { project: { id: projectA } });
    adminX = await tokenFor(users.admin, { project: { id: projectX } });
    domainAdmin = await tokenFor(users.domainAdmin, { domain: { id: domainD } });
    domainManager = await tokenFor(users.domainManager, { domain: { id: domainD } });
    domainReader = await tokenFor(users.domainReader, { domain: { id: domainD } });
    systemReader = await tokenFor(users.system, { system: { all: true } });
  });
  after(() => h.close());

  it('lets a project member see its own project and its domain, nothing else', async () => {
    const own = await h.call('GET', `/v3/projects/${projectA}`, memberA);
    assert.equal(own.status, 200);
    assert.equal(member<Entity>(own, 'project').id, projectA);
    assert.equal((await h.call('GET', `/v3/projects/${projectA}/tags`, memberA)).status, 200);
    assert.equal((await h.call('GET', '/v3/domains/default', memberA)).status, 200);

    const other = await h.call('GET', `/v3/projects/${projectB}`, memberA);
    assert.equal(other.status, 403);
    assert.equal(message(other), "Policy doesn't allow identity:get_project to be performed.");
    // Existence is not revealed to those who may not look.
    assert.equal((await h.call('GET', '/v3/projects/doesnotexist', memberA)).status, 403);
    assert.equal((await h.call('GET', `/v3/projects/${projectB}/tags`, memberA)).status, 403);
    assert.equal((await h.call('GET', `/v3/domains/${domainD}`, memberA)).status, 403);

    const list = await h.call('GET', '/v3/projects', memberA);
    assert.equal(list.status, 403);
    assert.equal(message(list), "Policy doesn't allow identity:list_projects to be performed.");
    assert.equal((await h.call('GET', '/v3/domains', memberA)).status, 403);
  });

  it('refuses every write to project members and readers', async () => {
    for (const token of [readerA, memberA]) {
      const writes: Array<[string, string, unknown]> = [
        ['POST', '/v3/projects', { project: { name: 'nope', domain_id: 'default' } }],
        ['PATCH', `/v3/projects/${projectA}`, { project: { description: 'x' } }],
        ['DELETE', `/v3/projects/${projectA}`, undefined],
        ['PUT', `/v3/projects/${projectA}/tags`, { tags: ['x'] }],
        ['PUT', `/v3/projects/${projectA}/tags/x`, undefined],
        ['DELETE', `/v3/projects/${projectA}/tags`, undefined],
        ['POST', '/v3/domains', { domain: { name: 'nope' } }],
        ['PATCH', '/v3/domains/default', { domain: { description: 'x' } }],
        ['DELETE', `/v3/domains/${domainD}`, undefined],
      ];
      for (const [method, url, payload] of writes) {
        const res = await h.call(method, url, token, payload);
        assert.equal(res.status, 403, `${method} ${url}`);
      }
    }
    const unchanged = await h.call('GET', `/v3/projects/${projectA}`);
    assert.equal(member<Entity>(unchanged, 'project')['description'], '');
  });

  it('lets an admin of any project do everything', async () => {
    const d = await h.call('POST', '/v3/domains', adminX, { domain: { name: 'by-admin-x' } });
    assert.equal(d.status, 201);
    const domainId = member<Entity>(d, 'domain').id;
    const p = await h.call('POST', '/v3/projects', adminX, {
      project: { name: 'by-admin-x', domain_id: domainId },
    });
    assert.equal(p.status, 201);
    const projectId = member<Entity>(p, 'project').id;
    assert.equal((await h.call('GET', '/v3/projects', adminX)).status, 200);
    assert.equal((await h.call('GET', `/v3/projects/${projectB}`, adminX)).status, 200);
    assert.equal((await h.call('GET', '/v3/domains', adminX)).status, 200);
    assert.equal(
      (await h.call('PATCH', `/v3/projects/${projectId}`, adminX, { project: { name: 'r' } }))
        .status,
      200,
    );
    assert.equal((await h.call('PUT', `/v3/projects/${projectId}/tags/t`, adminX)).status, 201);
    assert.equal((await h.call('DELETE', `/v3/projects/${projectId}`, adminX)).status, 204);
    assert.equal(
      (await h.call('PATCH', `/v3/domains/${domainId}`, adminX, { domain: { enabled: false } }))
        .status,
      200,
    );
    assert.equal((await h.call('DELETE', `/v3/domains/${domainId}`, adminX)).status, 204);
    // The admin of a project sees a missing one as missing.
    assert.equal((await h.call('GET', '/v3/projects/doesnotexist', adminX)).status, 404);
  });

  it('treats a domain-scoped admin as an admin, as Keystone’s role:admin rules do', async () => {
    // rule:admin_required is role:admin on any scope; only the scope types and the
    // listing (filtered to the token's domain) tell a domain admin apart.
    const listed = member<Entity[]>(await h.call('GET', '/v3/projects', domainAdmin), 'projects');
    assert.ok(listed.length > 0 && listed.every((p) => p['domain_id'] === domainD));
    const domains = member<Entity[]>(await h.call('GET', '/v3/domains', domainAdmin), 'domains');
    assert.deepEqual(
      domains.map((d) => d.id),
      [domainD],
    );
    assert.equal((await h.call('GET', `/v3/projects/${projectA}`, domainAdmin)).status, 200);
    const created = await h.call('POST', '/v3/projects', domainAdmin, {
      project: { name: 'by-domain-admin' },
    });
    assert.equal(created.status, 201);
    // Without a domain_id the project lands in the token's domain.
    assert.equal(member<Entity>(created, 'project')['domain_id'], domainD);
    // create_domain is for system and project scopes only.
    const domain = await h.call('POST', '/v3/domains', domainAdmin, { domain: { name: 'nope' } });
    assert.equal(domain.status, 403);
  });

  it('lets a domain manager manage the projects of its domain only', async () => {
    const list = await h.call('GET', '/v3/projects', domainManager);
    assert.equal(list.status, 200);
    const listed = member<Entity[]>(list, 'projects');
    assert.ok(listed.length > 0);
    assert.ok(listed.every((p) => p['domain_id'] === domainD));
    assert.ok(listed.some((p) => p.id === projectInD));
    const domains = member<Entity[]>(await h.call('GET', '/v3/domains', domainManager), 'domains');
    assert.deepEqual(
      domains.map((d) => d.id),
      [domainD],
    );

    const created = await h.call('POST', '/v3/projects', domainManager, {
      project: { name: 'by-domain-manager', domain_id: domainD },
    });
    assert.equal(created.status, 201);
    const id = member<Entity>(created, 'project').id;
    assert.equal((await h.call('GET', `/v3/projects/${id}`, domainManager)).status, 200);
    assert.equal(
      (
        await h.call('PATCH', `/v3/projects/${id}`, domainManager, {
          project: { description: 'd' },
        })
      ).status,
      200,
    );
    assert.equal((await h.call('DELETE', `/v3/projects/${id}`, domainManager)).status, 204);

    // Another domain's projects, and domains themselves, are out of reach.
    const elsewhere = await h.call('POST', '/v3/projects', domainManager, {
      project: { name: 'elsewhere', domain_id: 'default' },
    });
    assert.equal(elsewhere.status, 403);
    assert.equal((await h.call('GET', `/v3/projects/${projectA}`, domainManager)).status, 403);
    assert.equal(
      (await h.call('PATCH', `/v3/projects/${projectA}`, domainManager, { project: { name: 'x' } }))
        .status,
      403,
    );
    assert.equal((await h.call('DELETE', `/v3/projects/${projectA}`, domainManager)).status, 403);
    assert.equal(
      (await h.call('POST', '/v3/domains', domainManager, { domain: { name: 'nope' } })).status,
      403,
    );
  });

  it('lets a domain reader read its domain’s projects but not change them', async () => {
    const list = await h.call('GET', '/v3/projects', domainReader);
    assert.equal(list.status, 200);
    assert.ok(member<Entity[]>(list, 'projects').every((p) => p['domain_id'] === domainD));
    assert.equal((await h.call('GET', `/v3/projects/${projectInD}`, domainReader)).status, 200);
    assert.equal((await h.call('GET', `/v3/projects/${projectA}`, domainReader)).status, 403);
    assert.equal((await h.call('GET', `/v3/domains/${domainD}`, domainReader)).status, 200);
    const create = await h.call('POST', '/v3/projects', domainReader, {
      project: { name: 'nope', domain_id: domainD },
    });
    assert.equal(create.status, 403);
  });

  it('lets a system reader read everything and change nothing', async () => {
    assert.equal((await h.call('GET', '/v3/projects', systemReader)).status, 200);
    assert.equal((await h.call('GET', `/v3/projects/${projectB}`, systemReader)).status, 200);
    assert.equal((await h.call('GET', '/v3/domains', systemReader)).status, 200);
    assert.equal(
      (
        await h.call('POST', '/v3/projects', systemReader, {
          project: { name: 'nope', domain_id: 'default' },
        })
      ).status,
      403,
    );
    assert.equal(
      (await h.call('POST', '/v3/domains', systemReader, { domain: { name: 'nope' } })).status,
      403,
    );
  });

  it('revokes the tokens of a project as soon as it is disabled', async () => {
    const p = await h.project('rbac-revoke');
    const user = await h.user();
    await h.grant({ userId: user.id }, 'member', { projectId: p });
    const token = await tokenFor(user, { project: { id: p } });
    assert.equal((await h.call('GET', `/v3/projects/${p}`, token)).status, 200);
    const off = await h.call('PATCH', `/v3/projects/${p}`, undefined, {
      project: { enabled: false },
    });
    assert.equal(off.status, 200);
    assert.equal((await h.call('GET', `/v3/projects/${p}`, token)).status, 401);
    const events = await h.db
      .selectFrom('revocation_event')
      .selectAll()
      .where('project_id', '=', p)
      .execute();
    assert.equal(events.length, 1);
    // Enabling it again does not bring the old token back.
    const on = await h.call('PATCH', `/v3/projects/${p}`, undefined, {
      project: { enabled: true },
    });
    assert.equal(on.status, 200);
    assert.equal((await h.call('GET', `/v3/projects/${p}`, token)).status, 401);
    // Fernet tokens carry whole seconds: one issued in the second of the revocation is
    // revoked too, as in Keystone.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await tokenFor(user, { project: { id: p } });
    assert.equal((await h.call('GET', `/v3/projects/${p}`, fresh)).status, 200);
  });
});
