import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setProperty } from '../core/import.js';
import {
  activeImage,
  harness,
  patch,
  PATCH_V20,
  PATCH_V21,
  rawBytes,
  show,
  storeFiles,
} from '../testing/fixtures.js';

describe('POST /v2/images', () => {
  it('creates a queued, shared image with Glance defaults', async (t) => {
    const h = await harness(t);
    const res = await h.call('member@p1', 'POST', '/v2/images', { name: 'cirros' });
    assert.equal(res.status, 201);
    const image = res.body;
    assert.match(image.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(res.headers['location'], `http://localhost:80/v2/images/${image.id}`);
    assert.deepEqual(
      {
        name: image.name,
        status: image.status,
        visibility: image.visibility,
        protected: image.protected,
        os_hidden: image.os_hidden,
        min_disk: image.min_disk,
        min_ram: image.min_ram,
        owner: image.owner,
        size: image.size,
        virtual_size: image.virtual_size,
        checksum: image.checksum,
        os_hash_algo: image.os_hash_algo,
        os_hash_value: image.os_hash_value,
        disk_format: image.disk_format,
        container_format: image.container_format,
        tags: image.tags,
        self: image.self,
        file: image.file,
        schema: image.schema,
      },
      {
        name: 'cirros',
        status: 'queued',
        visibility: 'shared',
        protected: false,
        os_hidden: false,
        min_disk: 0,
        min_ram: 0,
        owner: 'p1',
        size: null,
        virtual_size: null,
        checksum: null,
        os_hash_algo: null,
        os_hash_value: null,
        disk_format: null,
        container_format: null,
        tags: [],
        self: `/v2/images/${image.id}`,
        file: `/v2/images/${image.id}/file`,
        schema: '/v2/schemas/image',
      },
    );
    assert.match(image.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(image.updated_at, image.created_at);
    assert.equal('stores' in image, false);
    assert.equal('direct_url' in image, false);
    assert.deepEqual(await show(h, 'member@p1', image.id), image);
  });

  it('keeps custom properties, tags and the writable attributes given', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', {
      name: 'full',
      disk_format: 'qcow2',
      container_format: 'bare',
      visibility: 'private',
      protected: true,
      os_hidden: true,
      min_disk: 10,
      min_ram: 512,
      tags: ['a', 'b', 'a'],
      hw_disk_bus: 'scsi',
      os_distro: 'cirros',
    });
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.visibility, 'private');
    assert.equal(shown.protected, true);
    assert.equal(shown.os_hidden, true);
    assert.equal(shown.min_disk, 10);
    assert.equal(shown.min_ram, 512);
    assert.equal(shown.disk_format, 'qcow2');
    assert.deepEqual(shown.tags, ['a', 'b']);
    assert.equal(shown.hw_disk_bus, 'scsi');
    assert.equal(shown.os_distro, 'cirros');
  });

  it('takes a given id, refuses a duplicate with 409 and a malformed one with 400', async (t) => {
    const h = await harness(t);
    const id = randomUUID();
    const first = await h.call('member@p1', 'POST', '/v2/images', { id, name: 'x' });
    assert.equal(first.status, 201);
    assert.equal(first.body.id, id);
    const again = await h.call('member@p1', 'POST', '/v2/images', { id, name: 'y' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, '409 Conflict');
    // Another project cannot take the id either, and learns no more than the conflict.
    assert.equal((await h.call('member@p2', 'POST', '/v2/images', { id })).status, 409);
    for (const bad of ['not-a-uuid', 42, '', `${id}x`]) {
      const res = await h.call('member@p1', 'POST', '/v2/images', { id: bad });
      assert.equal(res.status, 400, `id ${JSON.stringify(bad)}`);
    }
    assert.equal((await show(h, 'member@p1', id)).name, 'x');
  });

  it('refuses read-only attributes with 403', async (t) => {
    const h = await harness(t);
    for (const [key, value] of Object.entries({
      status: 'active',
      size: 10,
      virtual_size: 10,
      checksum: 'abc',
      os_hash_algo: 'sha512',
      os_hash_value: 'abc',
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2020-01-01T00:00:00Z',
      self: '/x',
      file: '/x',
      schema: '/x',
      direct_url: 'file:///x',
      stores: 'file',
    })) {
      const res = await h.call('member@p1', 'POST', '/v2/images', { name: 'ro', [key]: value });
      assert.equal(res.status, 403, key);
    }
    assert.deepEqual(await listAll(h), []);
  });

  it('refuses reserved attributes and the os_glance namespace with 403', async (t) => {
    const h = await harness(t);
    for (const key of [
      'os_glance_x',
      'os_glance_import_task',
      'location',
      'locations',
      'deleted',
      'deleted_at',
    ]) {
      const value = key === 'locations' ? [] : 'x';
      const res = await h.call('member@p1', 'POST', '/v2/images', { [key]: value });
      assert.equal(res.status, 403, key);
    }
    assert.deepEqual(await listAll(h), []);
  });

  it('refuses bad values with 400', async (t) => {
    const h = await harness(t);
    const cases: Array<Record<string, unknown>> = [
      { disk_format: 'floppy' },
      { container_format: 'zip' },
      { visibility: 'everyone' },
      { protected: 'yes' },
      { os_hidden: 1 },
      { min_disk: -1 },
      { min_ram: 1.5 },
      { min_disk: '10' },
      { name: 'n'.repeat(256) },
      { name: 5 },
      { tags: 'a' },
      { tags: [1] },
      { tags: [''] },
      { hw_cpu_cores: 4 },
      { hw_flag: true },
      { hw_list: ['a'] },
      { hw_null: null },
      { ['k'.repeat(256)]: 'v' },
    ];
    for (const body of cases) {
      const res = await h.call('member@p1', 'POST', '/v2/images', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.code, '400 Bad Request');
    }
    for (const body of [null, [], 'x']) {
      const res = await h.call('member@p1', 'POST', '/v2/images', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.deepEqual(await listAll(h), []);
  });

  it('lets only an admin create for another project or make an image public', async (t) => {
    const h = await harness(t);
    const other = await h.call('member@p1', 'POST', '/v2/images', { owner: 'p2' });
    assert.equal(other.status, 403);
    const pub = await h.call('member@p1', 'POST', '/v2/images', { visibility: 'public' });
    assert.equal(pub.status, 403);
    const reader = await h.call('reader@p1', 'POST', '/v2/images', { name: 'r' });
    assert.equal(reader.status, 403);
    assert.deepEqual(await listAll(h), []);

    const own = await h.call('member@p1', 'POST', '/v2/images', { owner: 'p1' });
    assert.equal(own.status, 201);
    const community = await h.call('member@p1', 'POST', '/v2/images', {
      visibility: 'community',
    });
    assert.equal(community.status, 201);
    assert.equal(community.body.visibility, 'community');
    const adminPublic = await h.call('admin@adm', 'POST', '/v2/images', { visibility: 'public' });
    assert.equal(adminPublic.status, 201);
    assert.equal(adminPublic.body.owner, 'adm');
    const adminFor = await h.call('admin@adm', 'POST', '/v2/images', { owner: 'p2' });
    assert.equal(adminFor.status, 201);
    assert.equal(adminFor.body.owner, 'p2');
    assert.equal((await show(h, 'member@p2', adminFor.body.id)).owner, 'p2');
  });

  it('answers 401 without a token', async (t) => {
    const h = await harness(t);
    assert.equal((await h.call('nobody', 'POST', '/v2/images', { name: 'x' })).status, 401);
    assert.equal((await h.call('nobody', 'GET', '/v2/images')).status, 401);
  });

  async function listAll(h: Awaited<ReturnType<typeof harness>>): Promise<string[]> {
    const res = await h.call('admin@adm', 'GET', '/v2/images?visibility=all');
    assert.equal(res.status, 200);
    return res.body.images.map((i: { id: string }) => i.id);
  }
});

describe('GET /v2/images/{id}', () => {
  it('answers 404 for an unknown or malformed id', async (t) => {
    const h = await harness(t);
    for (const id of [randomUUID(), 'nope']) {
      const res = await h.call('member@p1', 'GET', `/v2/images/${id}`);
      assert.equal(res.status, 404);
      assert.equal(res.body.code, '404 Not Found');
    }
  });
});

describe('PATCH /v2/images/{id}', () => {
  it('adds, replaces and removes base and custom properties (draft 10)', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { name: 'before', os_distro: 'cirros' });
    const res = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/name', value: 'after' },
      { op: 'add', path: '/min_ram', value: 256 },
      { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
      { op: 'replace', path: '/os_distro', value: 'ubuntu' },
      { op: 'add', path: '/os_version', value: '24.04' },
      { op: 'remove', path: '/os_version' },
      { op: 'replace', path: '/protected', value: true },
      { op: 'replace', path: '/visibility', value: 'private' },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'after');
    assert.equal(res.body.min_ram, 256);
    assert.equal(res.body.hw_disk_bus, 'virtio');
    assert.equal(res.body.os_distro, 'ubuntu');
    assert.equal('os_version' in res.body, false);
    assert.equal(res.body.protected, true);
    assert.equal(res.body.visibility, 'private');
    assert.deepEqual(await show(h, 'member@p1', image.id), res.body);
    // add on an existing property replaces it in draft 10.
    const again = await patch(h, 'member@p1', image.id, [
      { op: 'add', path: '/hw_disk_bus', value: 'scsi' },
      { op: 'add', path: '/name', value: 'third' },
    ]);
    assert.equal(again.status, 200);
    assert.equal(again.body.hw_disk_bus, 'scsi');
    assert.equal(again.body.name, 'third');
  });

  it('speaks draft 4 ({"replace": "/name", "value": …}) too', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { name: 'old', os_distro: 'cirros' });
    const res = await patch(
      h,
      'member@p1',
      image.id,
      [
        { replace: '/name', value: 'new' },
        { add: '/hw_rng_model', value: 'virtio' },
        { remove: '/os_distro' },
      ],
      PATCH_V20,
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'new');
    assert.equal(res.body.hw_rng_model, 'virtio');
    assert.equal('os_distro' in res.body, false);
    // In draft 4, add of something present is a conflict.
    const dup = await patch(
      h,
      'member@p1',
      image.id,
      [{ add: '/hw_rng_model', value: 'x' }],
      PATCH_V20,
    );
    assert.equal(dup.status, 409);
    const both = await patch(
      h,
      'member@p1',
      image.id,
      [{ add: '/a', replace: '/b', value: 'x' }],
      PATCH_V20,
    );
    assert.equal(both.status, 400);
    assert.equal((await show(h, 'member@p1', image.id)).hw_rng_model, 'virtio');
  });

  it('answers 409 on replace or remove of a property that does not exist', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    for (const change of [
      { op: 'replace', path: '/missing', value: 'x' },
      { op: 'remove', path: '/missing' },
    ]) {
      const res = await patch(h, 'member@p1', image.id, [change]);
      assert.equal(res.status, 409, change.op);
    }
  });

  it('is all or nothing: a failing change leaves the image as it was', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { name: 'keep' });
    const res = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/name', value: 'lost' },
      { op: 'remove', path: '/missing' },
    ]);
    assert.equal(res.status, 409);
    assert.equal((await show(h, 'member@p1', image.id)).name, 'keep');
  });

  it('answers 403 for base, read-only and reserved paths', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const cases: unknown[] = [
      { op: 'remove', path: '/name' },
      { op: 'remove', path: '/min_disk' },
      { op: 'remove', path: '/visibility' },
      { op: 'replace', path: '/status', value: 'active' },
      { op: 'replace', path: '/size', value: 1 },
      { op: 'replace', path: '/checksum', value: 'x' },
      { op: 'replace', path: '/id', value: randomUUID() },
      { op: 'replace', path: '/created_at', value: '2020-01-01T00:00:00Z' },
      { op: 'add', path: '/self', value: 'x' },
      { op: 'add', path: '/os_glance_import_task', value: 'x' },
      { op: 'add', path: '/location', value: 'x' },
      { op: 'add', path: '/deleted', value: 'x' },
      { op: 'add', path: '/locations/-', value: { url: 'file:///etc/passwd', metadata: {} } },
      { op: 'replace', path: '/locations', value: [] },
      { op: 'replace', path: '/owner', value: 'p2' },
      { op: 'replace', path: '/visibility', value: 'public' },
    ];
    for (const change of cases) {
      const res = await patch(h, 'member@p1', image.id, [change]);
      assert.equal(res.status, 403, JSON.stringify(change));
    }
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'queued');
    assert.equal(shown.owner, 'p1');
    assert.equal(shown.visibility, 'shared');
  });

  it('answers 400 for malformed patches', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const cases: unknown[] = [
      {},
      [{ path: '/name', value: 'x' }],
      [{ op: 'move', path: '/name', value: 'x' }],
      [{ op: 'replace', value: 'x' }],
      [{ op: 'replace', path: '/name' }],
      [{ op: 'replace', path: 'name', value: 'x' }],
      [{ op: 'replace', path: '/a/b', value: 'x' }],
      [{ op: 'replace', path: '/min_disk', value: 'big' }],
      [{ op: 'add', path: '/hw_x', value: 3 }],
      [{ op: 'replace', path: '/disk_format', value: 'floppy' }],
      ['x'],
    ];
    for (const body of cases) {
      const res = await patch(h, 'member@p1', image.id, body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const broken = await h.call('member@p1', 'PATCH', `/v2/images/${image.id}`, undefined, {
      'content-type': PATCH_V21,
    });
    assert.equal(broken.status, 400);
  });

  it('answers 415 for a JSON body that is not a JSON patch', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await h.call('member@p1', 'PATCH', `/v2/images/${image.id}`, [
      { op: 'replace', path: '/name', value: 'x' },
    ]);
    assert.equal(res.status, 415);
    assert.equal((await show(h, 'member@p1', image.id)).name, 'test');
  });

  it('leaves the os_glance_* bookkeeping of an import alone', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { k: 'v' });
    // As a running import would have it, written beside the client's PATCH.
    await setProperty(h.service, image.id, 'os_glance_importing_to_stores', 'file');
    const res = await patch(h, 'member@p1', image.id, [
      { op: 'remove', path: '/k' },
      { op: 'replace', path: '/name', value: 'renamed' },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.body.k, undefined);
    assert.equal(res.body.os_glance_importing_to_stores, 'file');
  });

  it('replaces the tags', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { tags: ['old', 'keep'] });
    const res = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/tags', value: ['keep', 'new', 'new'] },
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.tags, ['keep', 'new']);
    assert.deepEqual((await show(h, 'member@p1', image.id)).tags, ['keep', 'new']);
  });

  it('changes disk and container format only while the image is queued', async (t) => {
    const h = await harness(t);
    const queued = await h.create('member@p1');
    const ok = await patch(h, 'member@p1', queued.id, [
      { op: 'replace', path: '/disk_format', value: 'iso' },
      { op: 'replace', path: '/container_format', value: 'ovf' },
    ]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.disk_format, 'iso');
    const active = await activeImage(h, 'member@p1');
    for (const [path, value] of [
      ['/container_format', 'ovf'],
      ['/disk_format', 'qcow2'],
    ]) {
      const res = await patch(h, 'member@p1', active.id, [{ op: 'replace', path, value }]);
      assert.equal(res.status, 403, path);
    }
    // The same value is no change at all.
    const same = await patch(h, 'member@p1', active.id, [
      { op: 'replace', path: '/container_format', value: 'bare' },
      { op: 'replace', path: '/name', value: 'renamed' },
    ]);
    assert.equal(same.status, 200);
    assert.equal(same.body.name, 'renamed');
    assert.equal(same.body.status, 'active');
  });

  it('lets an admin make an image public or give it away; a reader may not patch', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const reader = await patch(h, 'reader@p1', image.id, [
      { op: 'replace', path: '/name', value: 'r' },
    ]);
    assert.equal(reader.status, 403);
    const other = await patch(h, 'member@p2', image.id, [
      { op: 'replace', path: '/name', value: 'r' },
    ]);
    assert.equal(other.status, 404);
    const res = await patch(h, 'admin@adm', image.id, [
      { op: 'replace', path: '/visibility', value: 'public' },
      { op: 'replace', path: '/owner', value: 'p3' },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.body.visibility, 'public');
    assert.equal(res.body.owner, 'p3');
    // p1 still sees it (public), but it is no longer p1's to change.
    const p1 = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/name', value: 'x' },
    ]);
    assert.equal(p1.status, 403);
    assert.equal((await show(h, 'member@p3', image.id)).name, 'test');
  });

  it('lets a member make its image community', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/visibility', value: 'community' },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.body.visibility, 'community');
  });
});

describe('per-image limits', () => {
  it('refuses more than 128 tags or properties with 413', async (t) => {
    const h = await harness(t);
    const tags = Array.from({ length: 129 }, (_, i) => `t${i}`);
    assert.equal((await h.call('member@p1', 'POST', '/v2/images', { tags })).status, 413);
    const props = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`p${i}`, 'v']));
    assert.equal((await h.call('member@p1', 'POST', '/v2/images', props)).status, 413);
    const image = await h.create('member@p1', { tags: tags.slice(0, 128) });
    const extra = await h.call('member@p1', 'PUT', `/v2/images/${image.id}/tags/one-more`);
    assert.equal(extra.status, 413);
    // An existing tag is no new tag.
    assert.equal((await h.call('member@p1', 'PUT', `/v2/images/${image.id}/tags/t0`)).status, 204);
    const full = await h.create(
      'member@p1',
      Object.fromEntries(Object.entries(props).slice(0, 128)),
    );
    const add = await patch(h, 'member@p1', full.id, [{ op: 'add', path: '/p999', value: 'v' }]);
    assert.equal(add.status, 413);
    const swap = await patch(h, 'member@p1', full.id, [
      { op: 'remove', path: '/p0' },
      { op: 'add', path: '/p999', value: 'v' },
    ]);
    assert.equal(swap.status, 200);
  });
});

describe('DELETE /v2/images/{id}', () => {
  it('refuses a protected image with 403 until it is unprotected', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { protected: true });
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 403);
    assert.equal((await h.call('admin@adm', 'DELETE', `/v2/images/${image.id}`)).status, 403);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    await patch(h, 'member@p1', image.id, [{ op: 'replace', path: '/protected', value: false }]);
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 204);
  });

  it('removes the image and its data; then answers 404', async (t) => {
    const h = await harness(t);
    const image = await activeImage(h, 'member@p1', rawBytes(5000));
    assert.deepEqual(storeFiles(h), [image.id]);
    assert.equal((await h.call('reader@p1', 'DELETE', `/v2/images/${image.id}`)).status, 403);
    assert.equal((await h.call('member@p2', 'DELETE', `/v2/images/${image.id}`)).status, 404);
    const res = await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`);
    assert.equal(res.status, 204);
    assert.deepEqual(storeFiles(h), []);
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}`)).status, 404);
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 404);
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`)).status, 404);
    const patched = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/name', value: 'x' },
    ]);
    assert.equal(patched.status, 404);
    assert.equal((await h.call('admin@adm', 'GET', `/v2/images/${image.id}`)).status, 404);
    const list = await h.call('member@p1', 'GET', '/v2/images');
    assert.deepEqual(list.body.images, []);
  });

  it('deletes a queued image that never had data', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 204);
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}`)).status, 404);
  });
});

describe('deactivate and reactivate', () => {
  it('follows the state rules and blocks downloads for non-admins', async (t) => {
    const h = await harness(t);
    const queued = await h.create('member@p1');
    const act = (token: string, id: string, name: string) =>
      h.call(token, 'POST', `/v2/images/${id}/actions/${name}`);
    assert.equal((await act('member@p1', queued.id, 'deactivate')).status, 403);
    assert.equal((await act('member@p1', queued.id, 'reactivate')).status, 403);
    assert.equal((await show(h, 'member@p1', queued.id)).status, 'queued');

    const data = rawBytes(2048);
    const image = await activeImage(h, 'member@p1', data, { visibility: 'community' });
    assert.equal((await act('reader@p1', image.id, 'deactivate')).status, 403);
    assert.equal((await act('member@p2', image.id, 'deactivate')).status, 403);
    assert.equal((await act('member@p1', image.id, 'deactivate')).status, 204);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'deactivated');
    // Deactivating again is a no-op.
    assert.equal((await act('member@p1', image.id, 'deactivate')).status, 204);

    const denied = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.equal(denied.status, 403);
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${image.id}/file`)).status, 403);
    const admin = await h.call('admin@adm', 'GET', `/v2/images/${image.id}/file`);
    assert.equal(admin.status, 200);
    assert.ok(admin.raw.equals(data));

    assert.equal((await act('member@p1', image.id, 'reactivate')).status, 204);
    assert.equal((await act('member@p1', image.id, 'reactivate')).status, 204);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'active');
    const ok = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.equal(ok.status, 200);
    assert.ok(ok.raw.equals(data));
  });

  it('answers 404 for an image the caller cannot see', async (t) => {
    const h = await harness(t);
    const image = await activeImage(h, 'member@p1', rawBytes(10), { visibility: 'private' });
    const res = await h.call('member@p2', 'POST', `/v2/images/${image.id}/actions/deactivate`);
    assert.equal(res.status, 404);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'active');
  });
});

describe('image tags', () => {
  it('adds tags idempotently and deletes them; 404 for a missing tag', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { tags: ['one'] });
    const tag = (method: string, value: string, token = 'member@p1') =>
      h.call(token, method, `/v2/images/${image.id}/tags/${encodeURIComponent(value)}`);
    assert.equal((await tag('PUT', 'two')).status, 204);
    assert.equal((await tag('PUT', 'two')).status, 204);
    assert.equal((await tag('PUT', 'with space')).status, 204);
    assert.deepEqual((await show(h, 'member@p1', image.id)).tags, ['one', 'two', 'with space']);
    assert.equal((await tag('PUT', 't'.repeat(256))).status, 400);
    assert.equal((await tag('PUT', 'r', 'reader@p1')).status, 403);
    assert.equal((await tag('PUT', 'x', 'member@p2')).status, 404);

    assert.equal((await tag('DELETE', 'one')).status, 204);
    assert.equal((await tag('DELETE', 'one')).status, 404);
    assert.equal((await tag('DELETE', 'never')).status, 404);
    assert.equal((await tag('DELETE', 'two', 'reader@p1')).status, 403);
    assert.deepEqual((await show(h, 'member@p1', image.id)).tags, ['two', 'with space']);
    const missing = await h.call('member@p1', 'PUT', `/v2/images/${randomUUID()}/tags/x`);
    assert.equal(missing.status, 404);
  });
});
