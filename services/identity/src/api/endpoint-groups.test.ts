import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hexId } from '@stratus/common';
import { endpointGroupPolicies } from '../policies/endpoint-groups.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerEndpointGroupRoutes } from './endpoint-groups.js';

const EG = '/v3/OS-EP-FILTER/endpoint_groups';

describe('OS-EP-FILTER endpoint groups API', () => {
  let h: IdentityHarness;
  let admin: Record<string, string>;
  let memberHeaders: Record<string, string>;
  let serviceA: string;
  let serviceB: string;

  before(async () => {
    h = await identityHarness({
      routes: [registerEndpointGroupRoutes],
      policies: endpointGroupPolicies,
    });
    admin = { 'x-auth-token': h.adminToken };
    const project = await h.project();
    const user = await h.user();
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    memberHeaders = { 'x-auth-token': await h.token(user, { project: { id: project } }) };

    // Two services with endpoints on every interface, as the catalog API would store them.
    const addService = async (type: string) => {
      const id = hexId();
      await h.db
        .insertInto('service')
        .values({ id, type, enabled: true, extra: JSON.stringify({ name: type }) })
        .execute();
      for (const iface of ['public', 'internal', 'admin']) {
        await h.db
          .insertInto('endpoint')
          .values({
            id: hexId(),
            service_id: id,
            interface: iface,
            region_id: 'RegionOne',
            url: `http://${type}.example/${iface}`,
            enabled: true,
            extra: '{}',
          })
          .execute();
      }
      return id;
    };
    serviceA = await addService('alpha');
    serviceB = await addService('beta');
  });
  after(() => h.close());

  const call = (method: string, url: string, payload?: unknown, headers = admin) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  const createGroup = async (body: Record<string, unknown>) => {
    const res = await call('POST', EG, { endpoint_group: body });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().endpoint_group as Record<string, unknown> & { id: string };
  };

  it('creates, lists, shows, checks (HEAD 200) and deletes a group as Tempest does', async () => {
    const created = await createGroup({
      name: 'service_group-1',
      description: 'description-1',
      filters: { service_id: serviceA },
    });
    assert.match(created.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(created, {
      id: created.id,
      name: 'service_group-1',
      description: 'description-1',
      filters: { service_id: serviceA },
      links: { self: `http://localhost:80${EG}/${created.id}` },
    });

    const listed = await call('GET', EG);
    assert.equal(listed.statusCode, 200);
    // Tempest compares whole objects: the listed one equals the created one.
    assert.deepEqual(
      listed.json().endpoint_groups.filter((g: { id: string }) => g.id === created.id),
      [created],
    );
    assert.equal(listed.json().links.self, `http://localhost:80${EG}`);

    const shown = await call('GET', `${EG}/${created.id}`);
    assert.equal(shown.statusCode, 200);
    assert.deepEqual(shown.json().endpoint_group, created);

    const head = await call('HEAD', `${EG}/${created.id}`);
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal((await call('HEAD', `${EG}/${hexId()}`)).statusCode, 404);

    const del = await call('DELETE', `${EG}/${created.id}`);
    assert.equal(del.statusCode, 204);
    const after = await call('GET', EG);
    assert.ok(!after.json().endpoint_groups.some((g: { id: string }) => g.id === created.id));
    const gone = await call('GET', `${EG}/${created.id}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.message, `Could not find Endpoint Group: ${created.id}.`);
    assert.equal((await call('DELETE', `${EG}/${created.id}`)).statusCode, 404);
  });

  it('filters the list by name', async () => {
    const a = await createGroup({ name: 'by-name-a', filters: { interface: 'public' } });
    await createGroup({ name: 'by-name-b', filters: { interface: 'admin' } });
    const res = await call('GET', `${EG}?name=by-name-a`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      res.json().endpoint_groups.map((g: { id: string }) => g.id),
      [a.id],
    );
    assert.equal(a['description'], null);
  });

  it('updates name, description and filters (Tempest test_update_endpoint_group)', async () => {
    const g = await createGroup({
      name: 'before',
      description: 'd1',
      filters: { service_id: serviceA },
    });
    const res = await call('PATCH', `${EG}/${g.id}`, {
      endpoint_group: { name: 'after', description: 'd2', filters: { service_id: serviceB } },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().endpoint_group, {
      ...g,
      name: 'after',
      description: 'd2',
      filters: { service_id: serviceB },
    });
    assert.deepEqual(
      (await call('GET', `${EG}/${g.id}`)).json().endpoint_group,
      res.json().endpoint_group,
    );

    const partial = await call('PATCH', `${EG}/${g.id}`, { endpoint_group: { description: null } });
    assert.equal(partial.statusCode, 200);
    assert.equal(partial.json().endpoint_group.description, null);
    assert.equal(partial.json().endpoint_group.name, 'after');

    const other = await call('PATCH', `${EG}/${g.id}`, { endpoint_group: { id: 'other' } });
    assert.equal(other.statusCode, 400);
    assert.equal((await call('PATCH', `${EG}/${g.id}`, { endpoint_group: {} })).statusCode, 400);
    const badFilter = await call('PATCH', `${EG}/${g.id}`, {
      endpoint_group: { filters: { url: 'x' } },
    });
    assert.equal(badFilter.statusCode, 400);
    const missing = await call('PATCH', `${EG}/${hexId()}`, { endpoint_group: { name: 'x' } });
    assert.equal(missing.statusCode, 404);
  });

  it('refuses bad bodies with 400', async () => {
    const post = (body: unknown) => call('POST', EG, body);
    const unknownKey = await post({
      endpoint_group: { name: 'x', filters: { service_id: serviceA, enabled: true } },
    });
    assert.equal(unknownKey.statusCode, 400);
    assert.equal(
      unknownKey.json().error.message,
      'Expecting to find service_id or region_id or interface in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
    );
    const empty = await post({ endpoint_group: { name: 'x', filters: {} } });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.message, 'filters field is required and cannot be empty');
    assert.equal((await post({ endpoint_group: { name: 'x' } })).statusCode, 400);
    assert.equal(
      (await post({ endpoint_group: { filters: { interface: 'public' } } })).statusCode,
      400,
    );
    assert.equal(
      (await post({ endpoint_group: { name: 'x', filters: 'public' } })).statusCode,
      400,
    );
    assert.equal(
      (await post({ endpoint_group: { name: '', filters: { interface: 'a' } } })).statusCode,
      400,
    );
    assert.equal(
      (await post({ endpoint_group: { name: 3, filters: { interface: 'a' } } })).statusCode,
      400,
    );
    assert.equal((await post({})).statusCode, 400);
  });

  it('lists the endpoints its filters match', async () => {
    const g = await createGroup({
      name: 'alpha-public',
      filters: { service_id: serviceA, interface: 'public' },
    });
    const res = await call('GET', `${EG}/${g.id}/endpoints`);
    assert.equal(res.statusCode, 200);
    const endpoints = res.json().endpoints as Array<Record<string, unknown>>;
    assert.equal(endpoints.length, 1);
    assert.equal(endpoints[0]?.['service_id'], serviceA);
    assert.equal(endpoints[0]?.['interface'], 'public');
    assert.equal(endpoints[0]?.['url'], 'http://alpha.example/public');
    assert.match(String((endpoints[0]?.['links'] as { self: string }).self), /\/v3\/endpoints\//);

    const region = await createGroup({ name: 'region', filters: { region_id: 'RegionOne' } });
    const all = await call('GET', `${EG}/${region.id}/endpoints`);
    // Bootstrap's identity endpoints (3) and the two services' (6).
    assert.equal(all.json().endpoints.length, 9);
    assert.equal((await call('GET', `${EG}/${hexId()}/endpoints`)).statusCode, 404);
  });

  it('associates groups with projects', async () => {
    const g = await createGroup({ name: 'assoc', filters: { service_id: serviceA } });
    const project = await h.project();
    const url = `${EG}/${g.id}/projects/${project}`;

    assert.equal((await call('GET', url)).statusCode, 404);
    const put = await call('PUT', url);
    assert.equal(put.statusCode, 204);
    assert.equal(put.body, '');
    const again = await call('PUT', url);
    assert.equal(again.statusCode, 409);

    const shown = await call('GET', url);
    assert.equal(shown.statusCode, 200);
    assert.deepEqual(shown.json(), {
      project_endpoint_group: {
        endpoint_group_id: g.id,
        project_id: project,
        links: { self: `http://localhost:80${url}` },
      },
    });
    assert.equal((await call('HEAD', url)).statusCode, 200);

    const projects = await call('GET', `${EG}/${g.id}/projects`);
    assert.equal(projects.statusCode, 200);
    const p = projects.json().projects as Array<Record<string, unknown>>;
    assert.deepEqual(
      p.map((x) => x['id']),
      [project],
    );
    assert.equal(p[0]?.['domain_id'], 'default');
    assert.deepEqual(p[0]?.['tags'], []);

    const forProject = await call('GET', `/v3/OS-EP-FILTER/projects/${project}/endpoint_groups`);
    assert.equal(forProject.statusCode, 200);
    assert.deepEqual(forProject.json().endpoint_groups, [g]);

    // Unknown project or group: 404 before anything else.
    assert.equal((await call('PUT', `${EG}/${g.id}/projects/${hexId()}`)).statusCode, 404);
    assert.equal((await call('PUT', `${EG}/${hexId()}/projects/${project}`)).statusCode, 404);
    const noProject = await call('GET', `/v3/OS-EP-FILTER/projects/${hexId()}/endpoint_groups`);
    assert.equal(noProject.statusCode, 404);

    assert.equal((await call('DELETE', url)).statusCode, 204);
    assert.equal((await call('GET', url)).statusCode, 404);
    assert.equal((await call('DELETE', url)).statusCode, 404);
    assert.deepEqual((await call('GET', `${EG}/${g.id}/projects`)).json().projects, []);
  });

  it('drops associations with the group, and with the project', async () => {
    const g = await createGroup({ name: 'cascade', filters: { interface: 'internal' } });
    const p1 = await h.project();
    const p2 = await h.project();
    assert.equal((await call('PUT', `${EG}/${g.id}/projects/${p1}`)).statusCode, 204);
    assert.equal((await call('PUT', `${EG}/${g.id}/projects/${p2}`)).statusCode, 204);

    await h.db.deleteFrom('project').where('id', '=', p2).execute();
    assert.deepEqual(
      (await call('GET', `${EG}/${g.id}/projects`))
        .json()
        .projects.map((p: { id: string }) => p.id),
      [p1],
    );

    assert.equal((await call('DELETE', `${EG}/${g.id}`)).statusCode, 204);
    const left = await call('GET', `/v3/OS-EP-FILTER/projects/${p1}/endpoint_groups`);
    assert.deepEqual(left.json().endpoint_groups, []);
  });

  it('is for admins only: a project member gets 403', async () => {
    const g = await createGroup({ name: 'rbac', filters: { interface: 'public' } });
    const project = await h.project();
    const m = memberHeaders;
    const refused = [
      await call('POST', EG, { endpoint_group: { name: 'x', filters: { interface: 'a' } } }, m),
      await call('PATCH', `${EG}/${g.id}`, { endpoint_group: { name: 'y' } }, m),
      await call('DELETE', `${EG}/${g.id}`, undefined, m),
      await call('PUT', `${EG}/${g.id}/projects/${project}`, undefined, m),
      await call('DELETE', `${EG}/${g.id}/projects/${project}`, undefined, m),
      await call('GET', EG, undefined, m),
      await call('GET', `${EG}/${g.id}`, undefined, m),
      await call('GET', `${EG}/${g.id}/endpoints`, undefined, m),
      await call('GET', `${EG}/${g.id}/projects`, undefined, m),
      await call('GET', `/v3/OS-EP-FILTER/projects/${project}/endpoint_groups`, undefined, m),
    ];
    assert.deepEqual(
      refused.map((r) => r.statusCode),
      refused.map(() => 403),
    );
    // Nothing changed.
    const shown = await call('GET', `${EG}/${g.id}`);
    assert.equal(shown.json().endpoint_group.name, 'rbac');
    assert.equal((await call('GET', `${EG}/${g.id}/projects/${project}`)).statusCode, 404);
    assert.equal((await call('GET', EG, undefined, {})).statusCode, 401);
  });
});
