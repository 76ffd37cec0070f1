import assert from 'node:assert/strict';
import { hexId } from '@stratus/common';
import { after, before, describe, it } from 'node:test';
import { MAX_PROJECT_TREE_DEPTH } from './projects.js';
import { member, message, projectsHarness, type ProjectsHarness } from './projects-helpers.test.js';

type Entity = Record<string, unknown> & { id: string };

describe('domains API', () => {
  let h: ProjectsHarness;
  before(async () => {
    h = await projectsHarness();
  });
  after(() => h.close());

  const create = async (domain: Record<string, unknown>): Promise<Entity> => {
    const res = await h.call('POST', '/v3/domains', undefined, { domain });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return member<Entity>(res, 'domain');
  };

  it('creates a domain with 201 and exactly Keystone’s body', async () => {
    const res = await h.call('POST', '/v3/domains', undefined, {
      domain: { name: 'dom-a', description: 'A domain' },
    });
    assert.equal(res.status, 201);
    const d = member<Entity>(res, 'domain');
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(d, {
      id: d.id,
      name: 'dom-a',
      description: 'A domain',
      enabled: true,
      tags: [],
      options: {},
      links: { self: `http://localhost:80/v3/domains/${d.id}` },
    });
    const got = await h.call('GET', `/v3/domains/${d.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(member(got, 'domain'), d);
  });

  it('defaults the description to an empty string and accepts tags and options', async () => {
    const d = await create({ name: 'dom-tags', tags: ['x', 'y'], options: { immutable: false } });
    assert.equal(d['description'], '');
    assert.deepEqual(d['tags'], ['x', 'y']);
    assert.deepEqual(d['options'], { immutable: false });
  });

  it('uses explicit_domain_id when it is a UUID hex, and refuses other ids', async () => {
    const id = hexId();
    const d = await create({ name: 'dom-explicit', explicit_domain_id: id });
    assert.equal(d.id, id);
    assert.equal('explicit_domain_id' in d, false);
    const bad = await h.call('POST', '/v3/domains', undefined, {
      domain: { name: 'dom-bad-id', explicit_domain_id: 'not-a-uuid' },
    });
    assert.equal(bad.status, 400);
    assert.equal(message(bad), 'Domain ID does not conform to required UUID format.');
    const again = await h.call('POST', '/v3/domains', undefined, {
      domain: { name: 'dom-explicit-2', explicit_domain_id: id },
    });
    assert.equal(again.status, 409);
  });

  it('refuses a duplicate name with 409', async () => {
    await create({ name: 'dom-dup' });
    const res = await h.call('POST', '/v3/domains', undefined, { domain: { name: 'dom-dup' } });
    assert.equal(res.status, 409);
    assert.equal(
      message(res),
      'Conflict occurred attempting to store project - it is not permitted to have two ' +
        'projects acting as domains with the same name: dom-dup.',
    );
  });

  it('validates the body with 400', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ domain: { name: '' } }, /^Invalid input for field 'name': '' is too short$/],
      [{ domain: { name: 'a'.repeat(65) } }, /^Invalid input for field 'name': 'a+' is too long$/],
      [{ domain: { name: '   ' } }, /^Invalid input for field 'name': .* does not match/],
      [{ domain: { name: 5 } }, /^Invalid input for field 'name': 5 is not of type 'string'$/],
      [{ domain: {} }, /'name' is a required property/],
      [
        { domain: { name: 'x', enabled: 'yes' } },
        /field 'enabled': 'yes' is not of type 'boolean'/,
      ],
      [{ domain: { name: 'x', tags: ['a/b'] } }, /field 'tags'/],
      [{ domain: { name: 'x', options: { bogus: true } } }, /field 'options'/],
      [{ nothing: {} }, /'domain' is a required property/],
    ];
    for (const [payload, pattern] of cases) {
      const res = await h.call('POST', '/v3/domains', undefined, payload);
      assert.equal(res.status, 400, JSON.stringify(payload));
      assert.match(message(res), pattern);
    }
  });

  it('answers a missing domain with 404 and Keystone’s message', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await h.call(
        method,
        '/v3/domains/missing',
        undefined,
        method === 'PATCH' ? { domain: { name: 'x' } } : undefined,
      );
      assert.equal(res.status, 404, method);
      assert.equal(message(res), 'Could not find domain: missing.');
    }
    // A project is not a domain.
    const res = await h.call('GET', `/v3/domains/${h.adminProjectId}`);
    assert.equal(res.status, 404);
  });

  it('lists domains with name and enabled filters', async () => {
    const on = await create({ name: 'dom-list-on' });
    const off = await create({ name: 'dom-list-off', enabled: false });
    const all = await h.call('GET', '/v3/domains');
    assert.equal(all.status, 200);
    const ids = member<Entity[]>(all, 'domains').map((d) => d.id);
    assert.ok(ids.includes(on.id) && ids.includes(off.id) && ids.includes('default'));
    assert.deepEqual(all.body['links'], {
      self: 'http://localhost:80/v3/domains',
      previous: null,
      next: null,
    });
    const byName = member<Entity[]>(await h.call('GET', '/v3/domains?name=dom-list-on'), 'domains');
    assert.deepEqual(
      byName.map((d) => d.id),
      [on.id],
    );
    const enabled = member<Entity[]>(await h.call('GET', '/v3/domains?enabled=true'), 'domains');
    assert.ok(enabled.every((d) => d['enabled'] === true));
    assert.ok(enabled.some((d) => d.id === on.id));
    const disabled = member<Entity[]>(await h.call('GET', '/v3/domains?enabled=false'), 'domains');
    assert.deepEqual(
      disabled.map((d) => d.id),
      [off.id],
    );
  });

  it('updates a domain with 200 and the new body', async () => {
    const d = await create({ name: 'dom-upd' });
    const res = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, {
      domain: { name: 'dom-upd-2', description: 'new', tags: ['t1'] },
    });
    assert.equal(res.status, 200);
    const u = member<Entity>(res, 'domain');
    assert.equal(u['name'], 'dom-upd-2');
    assert.equal(u['description'], 'new');
    assert.deepEqual(u['tags'], ['t1']);
    assert.deepEqual(member(await h.call('GET', `/v3/domains/${d.id}`), 'domain'), u);
    const dup = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, {
      domain: { name: 'Default' },
    });
    assert.equal(dup.status, 409);
    const empty = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, { domain: {} });
    assert.equal(empty.status, 400);
  });

  it('refuses to update or delete an immutable domain until the option is unset', async () => {
    const d = await create({ name: 'dom-immutable', options: { immutable: true } });
    const upd = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, {
      domain: { description: 'x' },
    });
    assert.equal(upd.status, 403);
    assert.match(message(upd), /Unable to update immutable domain resource/);
    const unset = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, {
      domain: { options: { immutable: null } },
    });
    assert.equal(unset.status, 200);
    assert.deepEqual(member<Entity>(unset, 'domain')['options'], {});
  });

  it('refuses to delete an enabled domain with 403', async () => {
    const d = await create({ name: 'dom-enabled' });
    const res = await h.call('DELETE', `/v3/domains/${d.id}`);
    assert.equal(res.status, 403);
    assert.equal(message(res), 'Cannot delete a domain that is enabled, please disable it first.');
  });

  it('revokes the tokens of a domain’s users when it is disabled', async () => {
    const d = await create({ name: 'dom-disable' });
    const project = await h.project(undefined, d.id);
    const user = await h.user({ domainId: d.id });
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    const token = await h.token(
      { id: user.id, password: user.password },
      { project: { id: project } },
    );
    assert.equal((await h.call('GET', `/v3/projects/${project}`, token)).status, 200);
    const res = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, {
      domain: { enabled: false },
    });
    assert.equal(res.status, 200);
    assert.equal(member<Entity>(res, 'domain')['enabled'], false);
    assert.equal((await h.call('GET', `/v3/projects/${project}`, token)).status, 401);
    const events = await h.db
      .selectFrom('revocation_event')
      .selectAll()
      .where('domain_id', '=', d.id)
      .execute();
    assert.equal(events.length, 1);
  });

  it('deletes a disabled domain with its projects, users, groups and assignments', async () => {
    const d = await create({ name: 'dom-delete' });
    const top = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'top', domain_id: d.id, tags: ['t'] },
    });
    const topId = member<Entity>(top, 'project').id;
    const child = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'child', domain_id: d.id, parent_id: topId },
    });
    const childId = member<Entity>(child, 'project').id;
    const user = await h.user({ domainId: d.id });
    const outsider = await h.user();
    const group = await h.group([user.id], d.id);
    await h.grant({ userId: user.id }, 'member', { projectId: childId });
    await h.grant({ userId: outsider.id }, 'reader', { domainId: d.id });
    await h.grant({ groupId: group }, 'reader', { projectId: h.adminProjectId });
    const disable = await h.call('PATCH', `/v3/domains/${d.id}`, undefined, {
      domain: { enabled: false },
    });
    assert.equal(disable.status, 200);
    const res = await h.call('DELETE', `/v3/domains/${d.id}`);
    assert.equal(res.status, 204);
    assert.equal(res.headers['content-length'] ?? '0', '0');
    assert.equal((await h.call('GET', `/v3/domains/${d.id}`)).status, 404);
    assert.equal((await h.call('GET', `/v3/projects/${topId}`)).status, 404);
    assert.equal((await h.call('GET', `/v3/projects/${childId}`)).status, 404);
    const left = async (table: 'identity_user' | 'identity_group', id: string) =>
      h.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst();
    assert.equal(await left('identity_user', user.id), undefined);
    assert.equal(await left('identity_group', group), undefined);
    assert.ok(await left('identity_user', outsider.id));
    const assignments = await h.db
      .selectFrom('assignment')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('target_id', 'in', [d.id, topId, childId]),
          eb('actor_id', 'in', [user.id, group]),
        ]),
      )
      .execute();
    assert.deepEqual(assignments, []);
    const tags = await h.db
      .selectFrom('project_tag')
      .selectAll()
      .where('project_id', '=', topId)
      .execute();
    assert.deepEqual(tags, []);
  });

  it('needs a token', async () => {
    assert.equal((await h.call('GET', '/v3/domains', '')).status, 401);
  });
});

describe('projects API', () => {
  let h: ProjectsHarness;
  let domainId: string;
  before(async () => {
    h = await projectsHarness();
    domainId = await h.domain('proj-domain');
  });
  after(() => h.close());

  const create = async (project: Record<string, unknown>): Promise<Entity> => {
    const res = await h.call('POST', '/v3/projects', undefined, { project });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return member<Entity>(res, 'project');
  };

  it('creates a project with 201 and exactly Keystone’s body', async () => {
    const res = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'p-one', description: 'one', domain_id: domainId },
    });
    assert.equal(res.status, 201);
    const p = member<Entity>(res, 'project');
    assert.deepEqual(p, {
      id: p.id,
      name: 'p-one',
      domain_id: domainId,
      description: 'one',
      enabled: true,
      parent_id: domainId,
      is_domain: false,
      tags: [],
      options: {},
      links: { self: `http://localhost:80/v3/projects/${p.id}` },
    });
    const got = await h.call('GET', `/v3/projects/${p.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(member(got, 'project'), p);
  });

  it('puts a project without a domain in the default domain, and keeps extra attributes', async () => {
    const p = await create({ name: 'p-default', enabled: false, color: 'blue' });
    assert.equal(p['domain_id'], 'default');
    assert.equal(p['parent_id'], 'default');
    assert.equal(p['enabled'], false);
    assert.equal(p['color'], 'blue');
    assert.equal(p['description'], '');
  });

  it('creates a project acting as a domain with is_domain', async () => {
    const p = await create({ name: 'p-as-domain', is_domain: true, domain_id: null });
    assert.equal(p['is_domain'], true);
    assert.equal(p['domain_id'], null);
    assert.equal(p['parent_id'], null);
    const domains = member<Entity[]>(await h.call('GET', '/v3/domains'), 'domains');
    assert.ok(domains.some((d) => d.id === p.id));
    const asProjects = member<Entity[]>(
      await h.call('GET', '/v3/projects?is_domain=true'),
      'projects',
    );
    assert.ok(asProjects.some((d) => d.id === p.id));
    const plain = member<Entity[]>(await h.call('GET', '/v3/projects'), 'projects');
    assert.ok(!plain.some((d) => d.id === p.id));
    // It can be disabled and deleted through the projects API, as Tempest does.
    const enabled = await h.call('DELETE', `/v3/projects/${p.id}`);
    assert.equal(enabled.status, 403);
    const off = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { enabled: false },
    });
    assert.equal(off.status, 200);
    assert.equal((await h.call('DELETE', `/v3/projects/${p.id}`)).status, 204);
    assert.equal((await h.call('GET', `/v3/domains/${p.id}`)).status, 404);
    const rooted = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'p-as-domain-2', is_domain: true, parent_id: domainId },
    });
    assert.equal(rooted.status, 400);
    assert.equal(message(rooted), 'only root projects are allowed to act as domains.');
  });

  it('refuses a duplicate name in one domain with 409, but not across domains', async () => {
    await create({ name: 'p-dup', domain_id: domainId });
    const dup = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'p-dup', domain_id: domainId },
    });
    assert.equal(dup.status, 409);
    assert.match(
      message(dup),
      /^Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is p-dup, project id [0-9a-f]{32}\.$/,
    );
    await create({ name: 'p-dup' });
    const other = await create({ name: 'p-dup-2', domain_id: domainId });
    const rename = await h.call('PATCH', `/v3/projects/${other.id}`, undefined, {
      project: { name: 'p-dup' },
    });
    assert.equal(rename.status, 409);
  });

  it('validates the body with 400', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ project: { name: '' } }, /^Invalid input for field 'name': '' is too short$/],
      [{ project: { name: 'a'.repeat(65) } }, /^Invalid input for field 'name': 'a+' is too long$/],
      [{ project: {} }, /'name' is a required property/],
      [{ project: { name: 'x', enabled: 1 } }, /field 'enabled': 1 is not of type 'boolean'/],
      [{ project: { name: 'x', is_domain: 'true' } }, /field 'is_domain'/],
      [{ project: { name: 'x', description: 3 } }, /field 'description'/],
      [{ project: { name: 'x', domain_id: 'bad id' } }, /field 'domain_id'/],
      [{ project: { name: 'x', tags: ['a,b'] } }, /field 'tags'/],
      [{ project: { name: 'x', tags: ['a', 'a'] } }, /non-unique/],
      [{ project: { name: 'x', tags: 'a' } }, /field 'tags'/],
      [{ project: 'x' }, /field 'project'/],
    ];
    for (const [payload, pattern] of cases) {
      const res = await h.call('POST', '/v3/projects', undefined, payload);
      assert.equal(res.status, 400, JSON.stringify(payload));
      assert.match(message(res), pattern);
    }
    const tooMany = Array.from({ length: 81 }, (_, i) => `t${i}`);
    const res = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'x', tags: tooMany },
    });
    assert.equal(res.status, 400);
  });

  it('refuses an unknown domain or parent with 400', async () => {
    const noDomain = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'x', domain_id: 'nodomain' },
    });
    assert.equal(noDomain.status, 400);
    assert.equal(message(noDomain), 'Could not find domain: nodomain.');
    const noParent = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'x', domain_id: domainId, parent_id: 'noparent' },
    });
    assert.equal(noParent.status, 400);
    assert.equal(message(noParent), 'Could not find project: noparent.');
  });

  it('keeps a child in its parent’s domain', async () => {
    const parent = await create({ name: 'p-parent-x', domain_id: domainId });
    const res = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'x', domain_id: 'default', parent_id: parent.id },
    });
    assert.equal(res.status, 400);
    assert.match(message(res), /specifies a parent in a different domain/);
    const other = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'x', domain_id: domainId, parent_id: 'default' },
    });
    assert.equal(other.status, 400);
    assert.match(message(other), /is acting as a domain/);
  });

  it('answers a missing project with 404 and Keystone’s message', async () => {
    const missing = 'f'.repeat(32);
    for (const [method, url] of [
      ['GET', `/v3/projects/${missing}`],
      ['PATCH', `/v3/projects/${missing}`],
      ['DELETE', `/v3/projects/${missing}`],
      ['GET', `/v3/projects/${missing}/tags`],
    ] as const) {
      const res = await h.call(
        method,
        url,
        undefined,
        method === 'PATCH' ? { project: { name: 'x' } } : undefined,
      );
      assert.equal(res.status, 404, `${method} ${url}`);
      assert.equal(message(res), `Could not find project: ${missing}.`);
    }
  });

  it('updates a project with 200 and refuses changes Keystone refuses', async () => {
    const p = await create({ name: 'p-upd', domain_id: domainId });
    const res = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { name: 'p-upd-2', description: 'd2', enabled: false, tags: ['b', 'a'] },
    });
    assert.equal(res.status, 200);
    const u = member<Entity>(res, 'project');
    assert.equal(u['name'], 'p-upd-2');
    assert.equal(u['description'], 'd2');
    assert.equal(u['enabled'], false);
    assert.deepEqual(u['tags'], ['a', 'b']);
    assert.deepEqual(member(await h.call('GET', `/v3/projects/${p.id}`), 'project'), u);

    const domainChange = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { domain_id: 'default' },
    });
    assert.equal(domainChange.status, 400);
    assert.equal(message(domainChange), 'Cannot change Domain ID');
    const same = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { domain_id: domainId },
    });
    assert.equal(same.status, 200);
    const parentChange = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { parent_id: 'default' },
    });
    assert.equal(parentChange.status, 403);
    assert.equal(message(parentChange), 'Update of `parent_id` is not allowed.');
    const isDomain = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { is_domain: true },
    });
    assert.equal(isDomain.status, 400);
    const badName = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { name: '' },
    });
    assert.equal(badName.status, 400);
  });

  it('lists projects with domain_id, name, enabled and parent_id filters', async () => {
    const d = await h.domain('list-domain');
    const a = await create({ name: 'list-a', domain_id: d });
    const b = await create({ name: 'list-b', domain_id: d, enabled: false });
    const c = await create({ name: 'list-c', domain_id: d, parent_id: a.id });
    const ids = async (query: string): Promise<string[]> => {
      const res = await h.call('GET', `/v3/projects${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return member<Entity[]>(res, 'projects').map((p) => p.id);
    };
    assert.deepEqual(await ids(`?domain_id=${d}`), [a.id, b.id, c.id]);
    assert.deepEqual(await ids(`?domain_id=${d}&name=list-b`), [b.id]);
    assert.deepEqual(await ids(`?domain_id=${d}&enabled=false`), [b.id]);
    assert.deepEqual(await ids(`?domain_id=${d}&enabled=true`), [a.id, c.id]);
    assert.deepEqual(await ids(`?parent_id=${a.id}`), [c.id]);
    assert.deepEqual(await ids(`?parent_id=${d}`), [a.id, b.id]);
    const all = await ids('');
    assert.ok(all.includes(h.adminProjectId) && all.includes(a.id));
    assert.ok(!all.includes('default'));
    // The listed body is the shown body.
    const listed = member<Entity[]>(await h.call('GET', `/v3/projects?name=list-a`), 'projects');
    assert.deepEqual(listed[0], member(await h.call('GET', `/v3/projects/${a.id}`), 'project'));
  });

  it('filters projects by tags, tags-any, not-tags and not-tags-any', async () => {
    const d = await h.domain('tag-domain');
    const ab = await create({ name: 'tag-ab', domain_id: d, tags: ['a', 'b'] });
    const a = await create({ name: 'tag-a', domain_id: d, tags: ['a'] });
    const c = await create({ name: 'tag-c', domain_id: d, tags: ['c'] });
    const none = await create({ name: 'tag-none', domain_id: d });
    const ids = async (query: string): Promise<string[]> =>
      member<Entity[]>(await h.call('GET', `/v3/projects?domain_id=${d}&${query}`), 'projects')
        .map((p) => p.id)
        .sort();
    const sorted = (...x: Entity[]): string[] => x.map((p) => p.id).sort();
    assert.deepEqual(await ids('tags=a,b'), sorted(ab));
    assert.deepEqual(await ids('tags=a'), sorted(ab, a));
    assert.deepEqual(await ids('tags-any=b,c'), sorted(ab, c));
    assert.deepEqual(await ids('not-tags=a,b'), sorted(a, c, none));
    assert.deepEqual(await ids('not-tags-any=a,c'), sorted(none));
    assert.deepEqual(await ids('tags=a&not-tags-any=b'), sorted(a));
  });

  it('shows parents and subtree as lists and as ids', async () => {
    const d = await h.domain('tree-domain');
    const root = await create({ name: 'root', domain_id: d });
    const mid = await create({ name: 'mid', domain_id: d, parent_id: root.id });
    const leaf1 = await create({ name: 'leaf1', domain_id: d, parent_id: mid.id });
    const leaf2 = await create({ name: 'leaf2', domain_id: d, parent_id: mid.id });
    const adminUser = await h.db
      .selectFrom('identity_user')
      .select('id')
      .where('name', '=', 'admin')
      .executeTakeFirstOrThrow();
    // The lists show only projects the caller has a role on, as in Keystone.
    for (const p of [root.id, mid.id, leaf1.id]) {
      await h.grant({ userId: adminUser.id }, 'reader', { projectId: p });
    }
    const get = async (query: string): Promise<Entity> => {
      const res = await h.call('GET', `/v3/projects/${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return member<Entity>(res, 'project');
    };
    assert.deepEqual((await get(`${leaf1.id}?parents_as_ids`))['parents'], {
      [mid.id]: { [root.id]: { [d]: null } },
    });
    assert.deepEqual((await get(`${root.id}?subtree_as_ids`))['subtree'], {
      [mid.id]: { [leaf1.id]: null, [leaf2.id]: null },
    });
    assert.equal((await get(`${leaf2.id}?subtree_as_ids`))['subtree'], null);
    const parents = (await get(`${leaf1.id}?parents_as_list=true`))['parents'] as Array<{
      project: Entity;
    }>;
    assert.deepEqual(
      parents.map((p) => p.project.id),
      [mid.id, root.id],
    );
    assert.deepEqual(parents[0]?.project, await get(mid.id));
    const subtree = (await get(`${root.id}?subtree_as_list=true`))['subtree'] as Array<{
      project: Entity;
    }>;
    assert.deepEqual(
      subtree.map((p) => p.project.id),
      [mid.id, leaf1.id],
    );
    const plain = await get(root.id);
    assert.equal('parents' in plain || 'subtree' in plain, false);
    const both = await h.call('GET', `/v3/projects/${leaf1.id}?parents_as_list&parents_as_ids`);
    assert.equal(both.status, 400);
    assert.equal(
      message(both),
      'Cannot use parents_as_list and parents_as_ids query params at the same time.',
    );
    const both2 = await h.call('GET', `/v3/projects/${leaf1.id}?subtree_as_list&subtree_as_ids`);
    assert.equal(both2.status, 400);

    // A project with children cannot be deleted (403); its leaves can.
    const del = await h.call('DELETE', `/v3/projects/${mid.id}`);
    assert.equal(del.status, 403);
    assert.equal(
      message(del),
      `Cannot delete the project ${mid.id} since it is not a leaf in the hierarchy. ` +
        'Use the cascade option if you want to delete a whole subtree.',
    );
    // Nor disabled while its subtree is enabled.
    const off = await h.call('PATCH', `/v3/projects/${mid.id}`, undefined, {
      project: { enabled: false },
    });
    assert.equal(off.status, 403);
    assert.equal((await h.call('DELETE', `/v3/projects/${leaf1.id}`)).status, 204);
    assert.equal((await h.call('DELETE', `/v3/projects/${leaf2.id}`)).status, 204);
    assert.equal((await h.call('DELETE', `/v3/projects/${mid.id}`)).status, 204);
  });

  it(`limits the hierarchy to ${MAX_PROJECT_TREE_DEPTH} levels below the domain`, async () => {
    const d = await h.domain('deep-domain');
    let parent = d;
    for (let level = 1; level <= MAX_PROJECT_TREE_DEPTH; level++) {
      parent = (await create({ name: `level-${level}`, domain_id: d, parent_id: parent })).id;
    }
    const res = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'too-deep', domain_id: d, parent_id: parent },
    });
    assert.equal(res.status, 403);
    assert.equal(message(res), `Max hierarchy depth reached for ${parent} branch.`);
  });

  it('refuses a project below a disabled one, and enabling one below a disabled parent', async () => {
    const parent = await create({ name: 'disabled-parent', domain_id: domainId, enabled: false });
    const res = await h.call('POST', '/v3/projects', undefined, {
      project: { name: 'under-disabled', domain_id: domainId, parent_id: parent.id },
    });
    assert.equal(res.status, 400);
    assert.equal(
      message(res),
      `cannot create a project in a branch containing a disabled project: ${parent.id}`,
    );
    const p2 = await create({ name: 'p2-parent', domain_id: domainId });
    const child = await create({
      name: 'p2-child',
      domain_id: domainId,
      parent_id: p2.id,
      enabled: false,
    });
    const off = await h.call('PATCH', `/v3/projects/${p2.id}`, undefined, {
      project: { enabled: false },
    });
    assert.equal(off.status, 200);
    const on = await h.call('PATCH', `/v3/projects/${child.id}`, undefined, {
      project: { enabled: true },
    });
    assert.equal(on.status, 403);
    assert.equal(message(on), `Cannot enable project ${child.id} since it has disabled parents`);
  });

  it('deletes a project with its assignments and tags', async () => {
    const p = await create({ name: 'p-del', domain_id: domainId, tags: ['x'] });
    const user = await h.user();
    await h.grant({ userId: user.id }, 'member', { projectId: p.id });
    const res = await h.call('DELETE', `/v3/projects/${p.id}`);
    assert.equal(res.status, 204);
    assert.equal((await h.call('GET', `/v3/projects/${p.id}`)).status, 404);
    const assignments = await h.db
      .selectFrom('assignment')
      .selectAll()
      .where('target_id', '=', p.id)
      .execute();
    assert.deepEqual(assignments, []);
    const tags = await h.db
      .selectFrom('project_tag')
      .selectAll()
      .where('project_id', '=', p.id)
      .execute();
    assert.deepEqual(tags, []);
  });

  it('refuses to change or delete an immutable project', async () => {
    const p = await create({
      name: 'p-immutable',
      domain_id: domainId,
      options: { immutable: true },
    });
    assert.deepEqual(p['options'], { immutable: true });
    const upd = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { name: 'changed' },
    });
    assert.equal(upd.status, 403);
    assert.equal((await h.call('DELETE', `/v3/projects/${p.id}`)).status, 403);
    assert.equal((await h.call('PUT', `/v3/projects/${p.id}/tags/t`)).status, 403);
    const unset = await h.call('PATCH', `/v3/projects/${p.id}`, undefined, {
      project: { options: { immutable: false } },
    });
    assert.equal(unset.status, 200);
    assert.equal((await h.call('DELETE', `/v3/projects/${p.id}`)).status, 204);
  });

  it('manages project tags', async () => {
    const p = await create({ name: 'p-tags', domain_id: domainId });
    const base = `/v3/projects/${p.id}/tags`;
    const put = await h.call('PUT', `${base}/first`);
    assert.equal(put.status, 201);
    assert.equal(put.headers['location'], `http://localhost:80${base}/first`);
    assert.equal((await h.call('GET', `${base}/first`)).status, 204);
    const dupTag = await h.call('PUT', `${base}/first`);
    assert.equal(dupTag.status, 400);
    const missing = await h.call('GET', `${base}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(message(missing), 'Could not find project tag: nope.');
    const bad = await h.call('PUT', `${base}/a,b`);
    assert.equal(bad.status, 400);
    const slash = await h.call('PUT', `${base}/a%2Fb`);
    assert.equal(slash.status, 400);
    const long = await h.call('PUT', `${base}/${'x'.repeat(256)}`);
    assert.equal(long.status, 400);

    const replace = await h.call('PUT', base, undefined, { tags: ['z', 'y', 'x'] });
    assert.equal(replace.status, 200);
    assert.deepEqual(replace.body, {
      tags: ['x', 'y', 'z'],
      links: { self: `http://localhost:80${base}` },
    });
    const list = await h.call('GET', base);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body['tags'], ['x', 'y', 'z']);
    assert.deepEqual(
      member<Entity>(await h.call('GET', `/v3/projects/${p.id}`), 'project')['tags'],
      ['x', 'y', 'z'],
    );
    assert.equal((await h.call('DELETE', `${base}/y`)).status, 204);
    assert.equal((await h.call('GET', `${base}/y`)).status, 404);
    assert.equal((await h.call('DELETE', `${base}/y`)).status, 404);
    const tooMany = Array.from({ length: 81 }, (_, i) => `t${i}`);
    assert.equal((await h.call('PUT', base, undefined, { tags: tooMany })).status, 400);
    const eighty = tooMany.slice(0, 80);
    assert.equal((await h.call('PUT', base, undefined, { tags: eighty })).status, 200);
    assert.equal((await h.call('PUT', `${base}/one-more`)).status, 400);
    assert.equal((await h.call('DELETE', base)).status, 204);
    assert.deepEqual((await h.call('GET', base)).body['tags'], []);
  });
});

describe('projects of a user', () => {
  let h: ProjectsHarness;
  before(async () => {
    h = await projectsHarness();
  });
  after(() => h.close());

  it('lists the projects where the user has a role: direct, via a group, inherited', async () => {
    const d = await h.domain('up-domain');
    const direct = await h.project('up-direct', d);
    const viaGroup = await h.project('up-group', d);
    const inheritedRoot = await h.project('up-inherited-root', d);
    const unrelated = await h.project('up-unrelated', d);
    const child = (
      await h.call('POST', '/v3/projects', undefined, {
        project: { name: 'up-child', domain_id: d, parent_id: inheritedRoot },
      })
    ).body['project'] as Entity;
    const user = await h.user();
    const group = await h.group([user.id]);
    await h.grant({ userId: user.id }, 'member', { projectId: direct });
    await h.grant({ groupId: group }, 'reader', { projectId: viaGroup });
    await h.grant({ userId: user.id }, 'reader', { projectId: inheritedRoot }, true);

    const res = await h.call('GET', `/v3/users/${user.id}/projects`);
    assert.equal(res.status, 200);
    const ids = member<Entity[]>(res, 'projects').map((p) => p.id);
    assert.deepEqual(ids.sort(), [direct, viaGroup, child.id].sort());
    assert.ok(!ids.includes(unrelated) && !ids.includes(inheritedRoot));
    const first = member<Entity[]>(res, 'projects')[0];
    assert.deepEqual(Object.keys(first ?? {}).sort(), [
      'description',
      'domain_id',
      'enabled',
      'id',
      'is_domain',
      'links',
      'name',
      'options',
      'parent_id',
      'tags',
    ]);

    // An inherited domain assignment reaches every project of the domain.
    const other = await h.user();
    await h.grant({ userId: other.id }, 'reader', { domainId: d }, true);
    const all = member<Entity[]>(await h.call('GET', `/v3/users/${other.id}/projects`), 'projects');
    assert.equal(all.length, 5);

    await h.call('PATCH', `/v3/projects/${direct}`, undefined, { project: { enabled: false } });
    const named = member<Entity[]>(
      await h.call('GET', `/v3/users/${user.id}/projects?name=up-group`),
      'projects',
    );
    assert.deepEqual(
      named.map((p) => p.id),
      [viaGroup],
    );
    const disabled = member<Entity[]>(
      await h.call('GET', `/v3/users/${user.id}/projects?enabled=false`),
      'projects',
    );
    assert.deepEqual(
      disabled.map((p) => p.id),
      [direct],
    );
  });

  it('lets users list their own projects but not others’', async () => {
    const p = await h.project();
    const user = await h.user();
    const other = await h.user();
    await h.grant({ userId: user.id }, 'member', { projectId: p });
    await h.grant({ userId: other.id }, 'member', { projectId: p });
    const token = await h.token({ id: user.id, password: user.password }, { project: { id: p } });
    const own = await h.call('GET', `/v3/users/${user.id}/projects`, token);
    assert.equal(own.status, 200);
    assert.deepEqual(
      member<Entity[]>(own, 'projects').map((x) => x.id),
      [p],
    );
    const theirs = await h.call('GET', `/v3/users/${other.id}/projects`, token);
    assert.equal(theirs.status, 403);
  });

  it('answers an unknown user with 404', async () => {
    const res = await h.call('GET', '/v3/users/nobody/projects');
    assert.equal(res.status, 404);
    assert.equal(message(res), 'Could not find user: nobody.');
  });
});
