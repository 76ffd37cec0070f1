import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { catalogPolicies } from '../policies/catalog.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerCatalogRoutes } from './catalog.js';

describe('identity catalog API (regions, services, endpoints)', () => {
  let h: IdentityHarness;
  let admin: Record<string, string>;
  let readerToken: string;
  before(async () => {
    h = await identityHarness({ routes: [registerCatalogRoutes], policies: catalogPolicies });
    admin = { 'x-auth-token': h.adminToken };
    const project = await h.project();
    const reader = await h.user();
    await h.grant({ userId: reader.id }, 'reader', { projectId: project });
    readerToken = await h.token(reader, { project: { id: project } });
  });
  after(() => h.close());

  const call = (method: string, url: string, payload?: unknown, headers = admin) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  describe('regions', () => {
    it('creates (with and without id), shows, lists by parent, updates and deletes', async () => {
      const parent = await call('POST', '/v3/regions', { region: { description: 'top' } });
      assert.equal(parent.statusCode, 201);
      const p = parent.json().region;
      assert.match(p.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(p, {
        id: p.id,
        description: 'top',
        parent_region_id: null,
        links: { self: `http://localhost:80/v3/regions/${p.id}` },
      });
      const child = await call('POST', '/v3/regions', {
        region: { id: 'child-1', parent_region_id: p.id },
      });
      assert.equal(child.statusCode, 201);
      assert.equal(child.json().region.description, '');
      assert.equal(child.json().region.parent_region_id, p.id);

      const put = await call('PUT', '/v3/regions/put-region', { region: { description: 'x' } });
      assert.equal(put.statusCode, 201);
      assert.equal(put.json().region.id, 'put-region');

      const listed = await call('GET', `/v3/regions?parent_region_id=${p.id}`);
      assert.equal(listed.statusCode, 200);
      assert.deepEqual(
        listed.json().regions.map((r: { id: string }) => r.id),
        ['child-1'],
      );
      const all = (await call('GET', '/v3/regions')).json().regions as Array<{ id: string }>;
      assert.ok(all.some((r) => r.id === 'RegionOne'));

      const upd = await call('PATCH', '/v3/regions/child-1', {
        region: { description: 'changed', color: 'blue' },
      });
      assert.equal(upd.statusCode, 200);
      assert.equal(upd.json().region.description, 'changed');
      assert.equal(upd.json().region.color, 'blue');
      const shown = await call('GET', '/v3/regions/child-1', undefined, {
        'x-auth-token': readerToken,
      });
      assert.equal(shown.statusCode, 200, 'anyone may read regions');
      assert.deepEqual(shown.json().region, upd.json().region);

      // Deleting a region takes its children with it.
      assert.equal((await call('DELETE', `/v3/regions/${p.id}`)).statusCode, 204);
      assert.equal((await call('GET', '/v3/regions/child-1')).statusCode, 404);
    });

    it('answers 409 for a duplicate id, 404 for a missing parent or region, 400 for bad input', async () => {
      assert.equal((await call('PUT', '/v3/regions/dup', { region: {} })).statusCode, 201);
      const dup = await call('POST', '/v3/regions', { region: { id: 'dup' } });
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json().error.code, 409);
      assert.equal(
        (await call('POST', '/v3/regions', { region: { parent_region_id: 'nope' } })).statusCode,
        404,
      );
      const missing = await call('GET', '/v3/regions/nope');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.message, 'Could not find region: nope.');
      assert.equal(
        (await call('PATCH', '/v3/regions/nope', { region: { description: 'x' } })).statusCode,
        404,
      );
      assert.equal((await call('DELETE', '/v3/regions/nope')).statusCode, 404);
      assert.equal((await call('POST', '/v3/regions', {})).statusCode, 400);
      assert.equal((await call('PUT', '/v3/regions/a', { region: { id: 'b' } })).statusCode, 400);
      assert.equal((await call('PATCH', '/v3/regions/dup', { region: {} })).statusCode, 400);
      assert.equal(
        (await call('POST', '/v3/regions', { region: { description: 5 } })).statusCode,
        400,
      );
    });

    it('refuses parent cycles with 400', async () => {
      await call('PUT', '/v3/regions/cy-a', { region: {} });
      await call('PUT', '/v3/regions/cy-b', { region: { parent_region_id: 'cy-a' } });
      await call('PUT', '/v3/regions/cy-c', { region: { parent_region_id: 'cy-b' } });
      const cycle = await call('PATCH', '/v3/regions/cy-a', {
        region: { parent_region_id: 'cy-c' },
      });
      assert.equal(cycle.statusCode, 400);
      assert.match(cycle.json().error.message, /circular region hierarchy/);
      const self = await call('PATCH', '/v3/regions/cy-a', {
        region: { parent_region_id: 'cy-a' },
      });
      assert.equal(self.statusCode, 400);
    });

    it('refuses deleting a region whose subtree has endpoints (403)', async () => {
      await call('PUT', '/v3/regions/ep-top', { region: {} });
      await call('PUT', '/v3/regions/ep-sub', { region: { parent_region_id: 'ep-top' } });
      const svc = (await call('POST', '/v3/services', { service: { type: 'rtest' } })).json()
        .service;
      const ep = await call('POST', '/v3/endpoints', {
        endpoint: { service_id: svc.id, interface: 'public', url: 'http://x', region_id: 'ep-sub' },
      });
      assert.equal(ep.statusCode, 201);
      assert.equal((await call('DELETE', '/v3/regions/ep-top')).statusCode, 403);
      assert.equal((await call('GET', '/v3/regions/ep-sub')).statusCode, 200);
    });

    it('lets only admins change regions', async () => {
      const reader = { 'x-auth-token': readerToken };
      assert.equal((await call('POST', '/v3/regions', { region: {} }, reader)).statusCode, 403);
      assert.equal((await call('GET', '/v3/regions', undefined, reader)).statusCode, 200);
    });
  });

  describe('services and endpoints', () => {
    it('creates, filters, shows, updates a service with extra attributes, and deletes it with its endpoints', async () => {
      const created = await call('POST', '/v3/services', {
        service: { type: 'compute', name: 'nova2', description: 'Compute 2', custom: 'x' },
      });
      assert.equal(created.statusCode, 201);
      const s = created.json().service;
      assert.deepEqual(s, {
        id: s.id,
        type: 'compute',
        name: 'nova2',
        description: 'Compute 2',
        custom: 'x',
        enabled: true,
        links: { self: `http://localhost:80/v3/services/${s.id}` },
      });
      const byType = (await call('GET', '/v3/services?type=compute')).json().services;
      assert.deepEqual(
        byType.map((x: { id: string }) => x.id),
        [s.id],
      );
      const byName = (await call('GET', '/v3/services?name=keystone')).json().services;
      assert.equal(byName.length, 1);
      assert.equal(byName[0].type, 'identity');

      const upd = await call('PATCH', `/v3/services/${s.id}`, {
        service: { description: 'changed', enabled: false },
      });
      assert.equal(upd.statusCode, 200);
      assert.equal(upd.json().service.description, 'changed');
      assert.equal(upd.json().service.name, 'nova2');
      assert.equal(upd.json().service.enabled, false);
      assert.deepEqual((await call('GET', `/v3/services/${s.id}`)).json(), upd.json());

      const ep = await call('POST', '/v3/endpoints', {
        endpoint: {
          service_id: s.id,
          interface: 'internal',
          url: 'http://nova:8774/v2.1',
          region_id: 'RegionOne',
        },
      });
      assert.equal(ep.statusCode, 201);
      const e = ep.json().endpoint;
      assert.deepEqual(e, {
        id: e.id,
        interface: 'internal',
        region_id: 'RegionOne',
        region: 'RegionOne',
        service_id: s.id,
        url: 'http://nova:8774/v2.1',
        enabled: true,
        links: { self: `http://localhost:80/v3/endpoints/${e.id}` },
      });

      assert.equal((await call('DELETE', `/v3/services/${s.id}`)).statusCode, 204);
      assert.equal((await call('GET', `/v3/services/${s.id}`)).statusCode, 404);
      assert.equal((await call('GET', `/v3/endpoints/${e.id}`)).statusCode, 404);
    });

    it('validates services: type required, name and enabled typed', async () => {
      assert.equal(
        (await call('POST', '/v3/services', { service: { name: 'x' } })).statusCode,
        400,
      );
      assert.equal(
        (await call('POST', '/v3/services', { service: { type: 'x', enabled: 'True' } }))
          .statusCode,
        400,
      );
      assert.equal((await call('POST', '/v3/services', { service: { type: '' } })).statusCode, 400);
      assert.equal(
        (await call('PATCH', '/v3/services/nope', { service: { type: 'y' } })).statusCode,
        404,
      );
      assert.equal((await call('DELETE', '/v3/services/nope')).statusCode, 404);
    });

    it('validates endpoints: interface, url, service_id and region_id', async () => {
      const s = (await call('POST', '/v3/services', { service: { type: 'image' } })).json().service;
      const base = { service_id: s.id, interface: 'public', url: 'http://glance:9292' };
      const bad = async (endpoint: object) =>
        (await call('POST', '/v3/endpoints', { endpoint })).statusCode;
      assert.equal(await bad({ ...base, interface: 'private' }), 400);
      assert.equal(await bad({ ...base, service_id: 'missing' }), 400);
      assert.equal(await bad({ ...base, region_id: 'missing' }), 400);
      assert.equal(await bad({ ...base, url: undefined }), 400);
      assert.equal(await bad({ ...base, url: 'no-scheme' }), 400);
      assert.equal(await bad({ ...base, enabled: 'False' }), 400);

      // The legacy `region` creates the region when it does not exist (Keystone).
      const legacy = await call('POST', '/v3/endpoints', {
        endpoint: { ...base, region: 'LegacyRegion' },
      });
      assert.equal(legacy.statusCode, 201);
      assert.equal(legacy.json().endpoint.region_id, 'LegacyRegion');
      assert.equal((await call('GET', '/v3/regions/LegacyRegion')).statusCode, 200);
      const id = legacy.json().endpoint.id as string;
      assert.equal(
        (await call('PATCH', `/v3/endpoints/${id}`, { endpoint: { enabled: 'True' } })).statusCode,
        400,
      );
      assert.equal(
        (await call('PATCH', `/v3/endpoints/${id}`, { endpoint: { interface: 'bogus' } }))
          .statusCode,
        400,
      );
      const upd = await call('PATCH', `/v3/endpoints/${id}`, {
        endpoint: { url: 'https://glance', interface: 'admin', enabled: false },
      });
      assert.equal(upd.statusCode, 200);
      assert.equal(upd.json().endpoint.url, 'https://glance');
      assert.equal(upd.json().endpoint.enabled, false);
      assert.equal(upd.json().endpoint.region_id, 'LegacyRegion');

      const filtered = (
        await call('GET', `/v3/endpoints?service_id=${s.id}&interface=admin`)
      ).json();
      assert.deepEqual(
        filtered.endpoints.map((x: { id: string }) => x.id),
        [id],
      );
      assert.equal(
        (await call('GET', `/v3/endpoints?service_id=${s.id}&interface=public`)).json().endpoints
          .length,
        0,
      );
      assert.equal(
        (await call('GET', '/v3/endpoints?region_id=LegacyRegion')).json().endpoints.length,
        1,
      );
      assert.equal((await call('DELETE', `/v3/endpoints/${id}`)).statusCode, 204);
      assert.equal((await call('DELETE', `/v3/endpoints/${id}`)).statusCode, 404);
    });

    it('shows catalog changes in new tokens at once', async () => {
      const s = (
        await call('POST', '/v3/services', { service: { type: 'volumev3', name: 'cinder' } })
      ).json().service;
      await call('POST', '/v3/endpoints', {
        endpoint: { service_id: s.id, interface: 'public', url: 'http://cinder:8776/v3' },
      });
      const catalog = (await call('GET', '/v3/auth/catalog')).json().catalog as Array<{
        type: string;
      }>;
      assert.ok(catalog.some((c) => c.type === 'volumev3'));
      await call('PATCH', `/v3/services/${s.id}`, { service: { enabled: false } });
      const after = (await call('GET', '/v3/auth/catalog')).json().catalog as Array<{
        type: string;
      }>;
      assert.ok(!after.some((c) => c.type === 'volumev3'));
    });

    it('does not let a reader create or list services and endpoints', async () => {
      const reader = { 'x-auth-token': readerToken };
      assert.equal(
        (await call('POST', '/v3/services', { service: { type: 'x' } }, reader)).statusCode,
        403,
      );
      assert.equal((await call('GET', '/v3/services', undefined, reader)).statusCode, 403);
      const s = (await call('GET', '/v3/services?type=identity')).json().services[0];
      assert.equal(
        (
          await call(
            'POST',
            '/v3/endpoints',
            { endpoint: { service_id: s.id, interface: 'public', url: 'http://x' } },
            reader,
          )
        ).statusCode,
        403,
      );
      assert.equal((await call('GET', '/v3/endpoints', undefined, reader)).statusCode, 403);
      assert.equal((await call('GET', '/v3/regions', undefined, {})).statusCode, 401);
    });
  });
});
