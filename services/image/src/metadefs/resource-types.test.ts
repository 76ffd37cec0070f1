import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEEDED_RESOURCE_TYPES } from './migration.js';
import { createNamespace, metadefHarness, NS } from './testing.js';

describe('metadef resource types', () => {
  it('lists the seeded resource types to any reader', async (t) => {
    const h = await metadefHarness(t);
    const res = await h.call('reader@p1', 'GET', '/v2/metadefs/resource_types');
    assert.equal(res.status, 200);
    const names = res.body.resource_types.map((r: { name: string }) => r.name);
    assert.deepEqual(names, [...SEEDED_RESOURCE_TYPES].sort());
    assert.match(res.body.resource_types[0].created_at, /Z$/);
    assert.match(res.body.resource_types[0].updated_at, /Z$/);
  });

  it('associates, lists and dissociates a resource type (Tempest’s flow)', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', { visibility: 'public' });
    const path = `${NS}/ns/resource_types`;
    const created = await h.call('admin@p1', 'POST', path, {
      name: 'OS::Cinder::Volume',
      prefix: 'hw_',
      properties_target: 'image',
    });
    assert.equal(created.status, 201);
    const { created_at, updated_at, ...rest } = created.body;
    assert.match(created_at, /Z$/);
    assert.equal(updated_at, created_at);
    assert.deepEqual(rest, {
      name: 'OS::Cinder::Volume',
      prefix: 'hw_',
      properties_target: 'image',
    });

    const list = await h.call('reader@p2', 'GET', path);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { resource_type_associations: [created.body] });

    const dup = await h.call('admin@p1', 'POST', path, { name: 'OS::Cinder::Volume' });
    assert.equal(dup.status, 409);

    assert.equal((await h.call('admin@p1', 'DELETE', `${path}/OS::Cinder::Volume`)).status, 204);
    assert.deepEqual((await h.call('admin@p1', 'GET', path)).body, {
      resource_type_associations: [],
    });
    const gone = await h.call('admin@p1', 'DELETE', `${path}/OS::Cinder::Volume`);
    assert.equal(gone.status, 404);
    assert.match(gone.body.message, /Failed to find resource type OS::Cinder::Volume to delete/);
  });

  it('creates a resource type the first association names', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const res = await h.call('admin@p1', 'POST', `${NS}/ns/resource_types`, {
      name: 'OS::Heat::Stack',
    });
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['created_at', 'name', 'updated_at']);
    const all = await h.call('admin@p1', 'GET', '/v2/metadefs/resource_types');
    assert.ok(all.body.resource_types.some((r: { name: string }) => r.name === 'OS::Heat::Stack'));
    // A second namespace reuses it.
    await createNamespace(h, 'other', {
      resource_type_associations: [{ name: 'OS::Heat::Stack' }],
    });
    const again = await h.call('admin@p1', 'GET', '/v2/metadefs/resource_types');
    assert.equal(again.body.resource_types.length, SEEDED_RESOURCE_TYPES.length + 1);
  });

  it('validates association bodies', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const path = `${NS}/ns/resource_types`;
    for (const [body, status] of [
      [{}, 400],
      [{ name: 'x', prefix: 'p'.repeat(81) }, 400],
      [{ name: 'x', colour: 'red' }, 400],
      [{ name: 'x', created_at: 'now' }, 403],
    ] as const)
      assert.equal(
        (await h.call('admin@p1', 'POST', path, body)).status,
        status,
        JSON.stringify(body),
      );
    assert.equal(
      (await h.call('admin@p1', 'POST', `${NS}/nope/resource_types`, { name: 'x' })).status,
      404,
    );
  });

  it('keeps associations of a protected namespace; writes are for admins', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      visibility: 'public',
      protected: true,
      resource_type_associations: [{ name: 'OS::Nova::Flavor' }],
    });
    const path = `${NS}/ns/resource_types`;
    const refused = await h.call('admin@p1', 'DELETE', `${path}/OS::Nova::Flavor`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /resource-type-association OS::Nova::Flavor is protected/);
    assert.equal(
      (await h.call('member@p1', 'POST', path, { name: 'OS::Nova::Server' })).status,
      403,
    );
    assert.equal((await h.call('member@p1', 'DELETE', `${path}/OS::Nova::Flavor`)).status, 403);
  });
});
