import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { staticQuotas } from '../core/quotas.js';
import { activeImage, harness, rawBytes } from '../testing/fixtures.js';

describe('version discovery', () => {
  it('answers / with 300 Multiple Choices, without a token', async (t) => {
    const h = await harness(t);
    const res = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 300);
    const { versions } = res.json() as {
      versions: Array<{ id: string; status: string; links: Array<{ rel: string; href: string }> }>;
    };
    assert.ok(versions.length > 1);
    assert.equal(versions.filter((v) => v.status === 'CURRENT').length, 1);
    assert.equal(versions[0]?.status, 'CURRENT');
    assert.ok(versions.some((v) => v.id === 'v2.0' && v.status === 'SUPPORTED'));
    for (const v of versions) {
      assert.match(v.id, /^v2\.\d+$/);
      assert.deepEqual(v.links, [{ rel: 'self', href: 'http://localhost:80/v2/' }]);
    }
    const again = await h.app.inject({ method: 'GET', url: '/versions' });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), res.json());
  });
});

describe('/v2/info', () => {
  it('lists the import methods', async (t) => {
    const h = await harness(t);
    const res = await h.call('reader@p1', 'GET', '/v2/info/import');
    assert.equal(res.status, 200);
    const methods: string[] = res.body['import-methods'].value;
    const configured: string[] = [...h.service.settings.import_methods];
    assert.deepEqual(methods, configured);
    for (const m of ['glance-direct', 'web-download', 'copy-image'])
      assert.ok(methods.includes(m), m);
    assert.equal(res.body['import-methods'].type, 'array');
    assert.equal((await h.call('nobody', 'GET', '/v2/info/import')).status, 401);
    const only = await harness(t, { settings: { import_methods: ['copy-image'] } });
    const res2 = await only.call('reader@p1', 'GET', '/v2/info/import');
    assert.deepEqual(res2.body['import-methods'].value, ['copy-image']);
  });

  it('lists the stores, marking the default', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast'], default_store: 'fast' } });
    const res = await h.call('member@p1', 'GET', '/v2/info/stores');
    assert.equal(res.status, 200);
    const stores = res.body.stores as Array<Record<string, unknown>>;
    assert.deepEqual(
      stores.map((s) => s.id),
      ['file', 'fast'],
    );
    assert.deepEqual(
      stores.filter((s) => s.default === true).map((s) => s.id),
      ['fast'],
    );
    for (const s of stores) {
      assert.equal(typeof s.description, 'string');
      assert.equal('properties' in s, false);
    }
    // New data goes to the default store.
    const image = await activeImage(h, 'member@p1', rawBytes(10));
    assert.equal(image.stores, 'fast');
  });

  it('shows store details to admins only', async (t) => {
    const h = await harness(t);
    for (const token of ['member@p1', 'reader@p1']) {
      assert.equal((await h.call(token, 'GET', '/v2/info/stores/detail')).status, 403, token);
    }
    const res = await h.call('admin@adm', 'GET', '/v2/info/stores/detail');
    assert.equal(res.status, 200);
    const [store] = res.body.stores;
    assert.equal(store.id, 'file');
    assert.equal(store.type, 'file');
    assert.equal(store.default, true);
    assert.equal(typeof store.properties.datadir, 'string');
    assert.ok(store.properties.datadir.startsWith(h.dataDir));
  });

  it('reports usage against the quotas', async (t) => {
    const h = await harness(t, {
      quotas: staticQuotas({ image_count_total: 10, image_size_total: 5 }),
    });
    await activeImage(h, 'member@p1', rawBytes(1024 * 1024 + 1));
    await h.create('member@p1');
    await h.create('member@p2');
    const res = await h.call('member@p1', 'GET', '/v2/info/usage');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.usage.image_count_total, { limit: 10, usage: 2 });
    assert.deepEqual(res.body.usage.image_size_total, { limit: 5, usage: 2 });
    assert.deepEqual(res.body.usage.image_count_uploading, { limit: -1, usage: 0 });
  });
});

describe('/v2/schemas', () => {
  it('describes an image', async (t) => {
    const h = await harness(t);
    const res = await h.call('reader@p1', 'GET', '/v2/schemas/image');
    assert.equal(res.status, 200);
    const schema = res.body;
    assert.equal(schema.name, 'image');
    for (const key of [
      'id',
      'name',
      'status',
      'visibility',
      'protected',
      'os_hidden',
      'checksum',
      'os_hash_algo',
      'os_hash_value',
      'owner',
      'size',
      'virtual_size',
      'container_format',
      'disk_format',
      'created_at',
      'updated_at',
      'tags',
      'min_disk',
      'min_ram',
      'self',
      'file',
      'schema',
      'stores',
    ])
      assert.ok(key in schema.properties, key);
    assert.deepEqual(schema.properties.visibility.enum, [
      'community',
      'public',
      'private',
      'shared',
    ]);
    assert.ok(schema.properties.disk_format.enum.includes('qcow2'));
    assert.ok(schema.properties.container_format.enum.includes('bare'));
    assert.equal(schema.properties.status.readOnly, true);
    assert.deepEqual(schema.additionalProperties, { type: 'string' });
    assert.ok(Array.isArray(schema.links));
  });

  it('describes the image list and members', async (t) => {
    const h = await harness(t);
    const images = (await h.call('reader@p1', 'GET', '/v2/schemas/images')).body;
    assert.equal(images.name, 'images');
    assert.equal(images.properties.images.type, 'array');
    assert.equal(images.properties.images.items.name, 'image');
    for (const key of ['first', 'next', 'schema']) assert.ok(key in images.properties, key);

    const member = (await h.call('reader@p1', 'GET', '/v2/schemas/member')).body;
    assert.equal(member.name, 'member');
    for (const key of ['image_id', 'member_id', 'status', 'created_at', 'updated_at', 'schema'])
      assert.ok(key in member.properties, key);
    assert.deepEqual(member.properties.status.enum, ['pending', 'accepted', 'rejected']);

    const members = (await h.call('reader@p1', 'GET', '/v2/schemas/members')).body;
    assert.equal(members.name, 'members');
    assert.equal(members.properties.members.items.name, 'member');
  });
});
