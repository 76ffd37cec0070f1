import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { staticQuotas } from '../core/quotas.js';
import { createTask } from '../core/tasks.js';
import type { ImageHarness } from '../testing/harness.js';
import {
  activeImage,
  harness,
  deleteDuringUpload,
  imageRow,
  md5,
  qcow2WithBackingFile,
  rawBytes,
  sha512,
  show,
  stagingFiles,
  storeFiles,
} from '../testing/fixtures.js';

function stage(h: ImageHarness, id: string, data: Buffer, token = 'member@p1') {
  return h.call(token, 'PUT', `/v2/images/${id}/stage`, data);
}

function importImage(h: ImageHarness, id: string, body: unknown, token = 'member@p1') {
  return h.call(token, 'POST', `/v2/images/${id}/import`, body);
}

async function tasksOf(h: ImageHarness, id: string, token = 'member@p1') {
  const res = await h.call(token, 'GET', `/v2/images/${id}/tasks`);
  assert.equal(res.status, 200);
  return res.body.tasks as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A local HTTP server: `routes` maps a path to bytes or to a redirect target. */
async function serve(
  routes: Record<string, Buffer | { redirect: string }>,
): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end();
    } else if (Buffer.isBuffer(route)) {
      res.writeHead(200, { 'content-length': String(route.length) }).end(route);
    } else {
      res.writeHead(302, { location: route.redirect }).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe('glance-direct', () => {
  it('stages, imports and records a successful task', async (t) => {
    const h = await harness(t);
    const data = rawBytes(150_000, 4);
    const image = await h.create('member@p1');
    const staged = await stage(h, image.id, data);
    assert.equal(staged.status, 204);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'uploading');
    assert.deepEqual(stagingFiles(h), [image.id]);
    assert.deepEqual(storeFiles(h), []);
    // Data cannot be downloaded, nor staged again, while it waits.
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`)).status, 204);
    assert.equal((await stage(h, image.id, data)).status, 409);
    assert.equal((await h.upload('member@p1', image.id, data)).status, 409);

    const res = await importImage(h, image.id, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 202);
    const requestId = res.headers['x-openstack-request-id'];
    assert.match(String(requestId), /^req-/);
    await h.drain();

    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, data.length);
    assert.equal(shown.checksum, md5(data));
    assert.equal(shown.os_hash_value, sha512(data));
    assert.equal(shown.stores, 'file');
    // The import's bookkeeping is emptied (Glance leaves the lists behind, empty).
    for (const [key, value] of Object.entries(shown))
      if (key.startsWith('os_glance_')) assert.equal(value, '', key);
    assert.deepEqual(stagingFiles(h), []);
    assert.deepEqual(storeFiles(h), [image.id]);
    const file = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.ok(file.raw.equals(data));

    const tasks = await tasksOf(h, image.id);
    assert.equal(tasks.length, 1);
    const [task] = tasks;
    assert.equal(task?.['status'], 'success');
    assert.equal(task?.['type'], 'api_image_import');
    assert.equal(task?.['image_id'], image.id);
    assert.equal(task?.['owner'], 'p1');
    assert.equal(task?.['request_id'], requestId);
    assert.equal(task?.['user_id'], 'user-member-p1');
    assert.equal(task?.['input']?.import_req?.method?.name, 'glance-direct');
    assert.deepEqual(task?.['result'], { image_id: image.id });
    assert.match(String(task?.['expires_at']), /^\d{4}-/);
  });

  it('answers 409 to an import of an image that was never staged', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await importImage(h, image.id, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 409);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    assert.deepEqual(await tasksOf(h, image.id), []);
    const active = await activeImage(h, 'member@p1');
    const again = await importImage(h, active.id, { method: { name: 'glance-direct' } });
    assert.equal(again.status, 409);
  });

  it('kills the image and fails the task when the staged data is not what it claims', async (t) => {
    const h = await harness(t);
    for (const [what, data] of [
      ['raw as qcow2', rawBytes(80_000)],
      ['qcow2 with a backing file', qcow2WithBackingFile()],
    ] as const) {
      const image = await h.create('member@p1', { disk_format: 'qcow2' });
      // Staging takes any bytes: they are checked when imported.
      assert.equal((await stage(h, image.id, data)).status, 204, what);
      const res = await importImage(h, image.id, { method: { name: 'glance-direct' } });
      assert.equal(res.status, 202, what);
      await h.drain();
      const shown = await show(h, 'member@p1', image.id);
      assert.equal(shown.status, 'killed', what);
      assert.equal(shown.checksum, null, what);
      assert.equal('stores' in shown, false, what);
      const [task] = await tasksOf(h, image.id);
      assert.equal(task?.['status'], 'failure', what);
      assert.notEqual(task?.['message'], '', what);
      assert.deepEqual(stagingFiles(h), [], what);
      assert.deepEqual(storeFiles(h), [], what);
    }
  });

  it('puts the image back to queued when staging fails; nothing stays staged', async (t) => {
    const h = await harness(t, {
      settings: { image_size_cap: 100_000 },
      quotas: staticQuotas({ image_stage_total: 1 }),
    });
    const image = await h.create('member@p1');
    const truncated = await h.app.inject({
      method: 'PUT',
      url: `/v2/images/${image.id}/stage`,
      headers: {
        'x-auth-token': 'member@p1',
        'content-type': 'application/octet-stream',
        'content-length': '90000',
      },
      payload: Readable.from([rawBytes(1000)]),
    });
    assert.equal(truncated.statusCode, 400);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    assert.deepEqual(stagingFiles(h), []);

    const tooBig = await stage(h, image.id, rawBytes(100_001));
    assert.equal(tooBig.status, 413);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    assert.deepEqual(stagingFiles(h), []);

    // 1 MiB of staging: a second 600 KiB staging is over the quota.
    const capped = await harness(t, { quotas: staticQuotas({ image_stage_total: 1 }) });
    const first = await capped.create('member@p1');
    assert.equal((await stage(capped, first.id, rawBytes(600 * 1024))).status, 204);
    const second = await capped.create('member@p1');
    assert.equal((await stage(capped, second.id, rawBytes(600 * 1024))).status, 413);
    assert.equal((await show(capped, 'member@p1', second.id)).status, 'queued');
    assert.deepEqual(stagingFiles(capped), [first.id]);
  });

  it('counts staged images against image_count_uploading', async (t) => {
    const h = await harness(t, { quotas: staticQuotas({ image_count_uploading: 1 }) });
    const first = await h.create('member@p1');
    assert.equal((await stage(h, first.id, rawBytes(100))).status, 204);
    const second = await h.create('member@p1');
    assert.equal((await h.upload('member@p1', second.id, rawBytes(100))).status, 413);
    assert.equal((await stage(h, second.id, rawBytes(100))).status, 413);
    assert.equal((await show(h, 'member@p1', second.id)).status, 'queued');
    // Once the first is imported, the second may go.
    await importImage(h, first.id, { method: { name: 'glance-direct' } });
    await h.drain();
    assert.equal((await show(h, 'member@p1', first.id)).status, 'active');
    assert.equal((await h.upload('member@p1', second.id, rawBytes(100))).status, 204);
  });

  it('keeps no staged data of an image deleted while it was being staged', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const status = await deleteDuringUpload(h, image.id, 'stage', 256 * 1024, 'uploading');
    assert.equal(status, 409);
    assert.equal((await imageRow(h, image.id)).status, 'deleted');
    assert.deepEqual(stagingFiles(h), []);
  });

  it('deletes an image with staged data, and the staged data with it', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await stage(h, image.id, rawBytes(1000));
    assert.deepEqual(stagingFiles(h), [image.id]);
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 204);
    assert.deepEqual(stagingFiles(h), []);
    const res = await importImage(h, image.id, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 404);
  });

  it('imports to every store with all_stores', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast'] } });
    const data = rawBytes(5000);
    const image = await h.create('member@p1');
    await stage(h, image.id, data);
    const res = await importImage(h, image.id, {
      method: { name: 'glance-direct' },
      all_stores: true,
    });
    assert.equal(res.status, 202);
    await h.drain();
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.stores, 'fast,file');
    assert.deepEqual(storeFiles(h, 'file'), [image.id]);
    assert.deepEqual(storeFiles(h, 'fast'), [image.id]);
  });

  it('refuses malformed import requests with 400', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await stage(h, image.id, rawBytes(100));
    for (const body of [
      {},
      { method: 'glance-direct' },
      { method: { name: 'magic' } },
      { method: { name: 'glance-direct' }, stores: ['nowhere'] },
      { method: { name: 'glance-direct' }, stores: 'file' },
      { method: { name: 'glance-direct' }, all_stores: 'yes' },
      { method: { name: 'glance-direct' }, stores: ['file'], all_stores: true },
      { method: { name: 'glance-direct' }, all_stores_must_succeed: 'no' },
    ]) {
      const res = await importImage(h, image.id, body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await show(h, 'member@p1', image.id)).status, 'uploading');
    assert.equal(
      (await importImage(h, image.id, { method: { name: 'glance-direct' } }, 'reader@p1')).status,
      403,
    );
  });

  it('offers only the enabled methods', async (t) => {
    const h = await harness(t, { settings: { import_methods: ['web-download'] } });
    const image = await h.create('member@p1');
    assert.equal((await stage(h, image.id, rawBytes(100))).status, 404);
    const res = await importImage(h, image.id, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 400);
    const info = await h.call('member@p1', 'GET', '/v2/info/import');
    assert.deepEqual(info.body['import-methods'].value, ['web-download']);
  });
});

describe('web-download', () => {
  it('downloads from an allowed host', async (t) => {
    const data = rawBytes(70_000, 8);
    const { port, hits } = await serve({ '/cirros.img': data });
    const h = await harness(t, { settings: { web_download_allowed_hosts: [`127.0.0.1:${port}`] } });
    const image = await h.create('member@p1');
    const res = await importImage(h, image.id, {
      method: { name: 'web-download', uri: `http://127.0.0.1:${port}/cirros.img` },
    });
    assert.equal(res.status, 202);
    await h.drain();
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.checksum, md5(data));
    assert.equal(shown.size, data.length);
    assert.deepEqual(hits, ['/cirros.img']);
    assert.deepEqual(stagingFiles(h), []);
    const [task] = await tasksOf(h, image.id);
    assert.equal(task?.['status'], 'success');
    assert.equal(task?.['input']?.import_req?.method?.name, 'web-download');
  });

  it('refuses a host that is not allowed: the image stays queued and the store failed', async (t) => {
    const { port, hits } = await serve({ '/x.img': rawBytes(1000) });
    const h = await harness(t, {
      settings: { web_download_allowed_hosts: ['images.example.com'] },
    });
    const image = await h.create('member@p1');
    const res = await importImage(h, image.id, {
      method: { name: 'web-download', uri: `http://127.0.0.1:${port}/x.img` },
    });
    assert.equal(res.status, 202);
    await h.drain();
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'queued');
    assert.equal(shown.os_glance_failed_import, 'file');
    assert.ok(!shown.os_glance_importing_to_stores);
    assert.ok(!shown.os_glance_import_task);
    assert.deepEqual(hits, []);
    const [task] = await tasksOf(h, image.id);
    assert.equal(task?.['status'], 'failure');
    assert.deepEqual(stagingFiles(h), []);
    assert.deepEqual(storeFiles(h), []);
    assert.equal((await imageRow(h, image.id)).worker, null);
  });

  it('follows no redirect to a host that is not allowed', async (t) => {
    const secret = await serve({ '/secret': rawBytes(100) });
    const front = await serve({ '/img': { redirect: `http://127.0.0.1:${secret.port}/secret` } });
    const h = await harness(t, {
      settings: { web_download_allowed_hosts: [`127.0.0.1:${front.port}`] },
    });
    const image = await h.create('member@p1');
    await importImage(h, image.id, {
      method: { name: 'web-download', uri: `http://127.0.0.1:${front.port}/img` },
    });
    await h.drain();
    assert.deepEqual(front.hits, ['/img']);
    assert.deepEqual(secret.hits, []);
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'queued');
    assert.equal(shown.os_glance_failed_import, 'file');
  });

  it('fails on an HTTP error and on data that is not what it claims', async (t) => {
    const { port } = await serve({ '/raw': rawBytes(80_000) });
    const h = await harness(t, { settings: { web_download_allowed_hosts: [`127.0.0.1:${port}`] } });
    const missing = await h.create('member@p1');
    await importImage(h, missing.id, {
      method: { name: 'web-download', uri: `http://127.0.0.1:${port}/nothing` },
    });
    const lying = await h.create('member@p1', { disk_format: 'qcow2' });
    await importImage(h, lying.id, {
      method: { name: 'web-download', uri: `http://127.0.0.1:${port}/raw` },
    });
    await h.drain();
    assert.equal((await show(h, 'member@p1', missing.id)).status, 'queued');
    assert.equal((await show(h, 'member@p1', lying.id)).status, 'killed');
    assert.deepEqual(storeFiles(h), []);
    assert.deepEqual(stagingFiles(h), []);
  });

  it('keeps nothing of a download that breaks off or passes image_size_cap', async (t) => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '200000' });
        res.write(rawBytes(20_000));
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(200);
        res.end(rawBytes(300_000));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const h = await harness(t, {
      settings: { web_download_allowed_hosts: [`127.0.0.1:${port}`], image_size_cap: 100_000 },
    });
    const cut = await h.create('member@p1');
    const big = await h.create('member@p1');
    for (const [image, path] of [
      [cut, '/cut'],
      [big, '/big'],
    ] as const) {
      const res = await importImage(h, image.id, {
        method: { name: 'web-download', uri: `http://127.0.0.1:${port}${path}` },
      });
      assert.equal(res.status, 202);
    }
    await h.drain();
    assert.deepEqual(hits.sort(), ['/big', '/cut']);
    for (const image of [cut, big]) {
      const shown = await show(h, 'member@p1', image.id);
      assert.equal(shown.status, 'queued');
      assert.equal(shown.os_glance_failed_import, 'file');
      assert.equal((await tasksOf(h, image.id))[0]?.['status'], 'failure');
    }
    assert.deepEqual(stagingFiles(h), []);
    assert.deepEqual(storeFiles(h), []);
  });

  it('keeps nothing of an image deleted while it downloads', async (t) => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(rawBytes(50_000));
      void gate.then(() => res.end(rawBytes(50_000, 1)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const h = await harness(t, { settings: { web_download_allowed_hosts: [`127.0.0.1:${port}`] } });
    const image = await h.create('member@p1');
    await importImage(h, image.id, {
      method: { name: 'web-download', uri: `http://127.0.0.1:${port}/x` },
    });
    while (stagingFiles(h).length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 204);
    release();
    await h.drain();
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}`)).status, 404);
    assert.equal((await imageRow(h, image.id)).status, 'deleted');
    assert.deepEqual(stagingFiles(h), []);
    assert.deepEqual(storeFiles(h), []);
    const task = (await h.call('admin@adm', 'GET', `/v2/tasks?limit=5`)).body.tasks[0] as {
      status: string;
    };
    assert.equal(task.status, 'failure');
  });

  it('needs a uri and a queued image', async (t) => {
    const h = await harness(t, { settings: { web_download_allowed_hosts: ['127.0.0.1'] } });
    const image = await h.create('member@p1');
    assert.equal(
      (await importImage(h, image.id, { method: { name: 'web-download' } })).status,
      400,
    );
    const active = await activeImage(h, 'member@p1');
    const res = await importImage(h, active.id, {
      method: { name: 'web-download', uri: 'http://127.0.0.1/x' },
    });
    assert.equal(res.status, 409);
  });
});

describe('copy-image', () => {
  it('lets an admin copy an active image to another store', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast'] } });
    const data = rawBytes(30_000, 2);
    const image = await activeImage(h, 'member@p1', data);
    assert.equal(image.stores, 'file');
    const denied = await importImage(h, image.id, {
      method: { name: 'copy-image' },
      stores: ['fast'],
    });
    assert.equal(denied.status, 403);
    const res = await importImage(
      h,
      image.id,
      { method: { name: 'copy-image' }, stores: ['fast'] },
      'admin@adm',
    );
    assert.equal(res.status, 202);
    await h.drain();
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    // Sorted, as Tempest compares it.
    assert.equal(shown.stores, 'fast,file');
    assert.equal(shown.checksum, md5(data));
    assert.deepEqual(storeFiles(h, 'fast'), [image.id]);
    assert.deepEqual(storeFiles(h, 'file'), [image.id]);
    const tasks = await tasksOf(h, image.id);
    assert.equal(tasks[0]?.['status'], 'success');
    assert.equal(tasks[0]?.['input']?.import_req?.method?.name, 'copy-image');

    const again = await importImage(
      h,
      image.id,
      { method: { name: 'copy-image' }, stores: ['fast'] },
      'admin@adm',
    );
    assert.equal(again.status, 409);
    // Deleting the image removes every copy.
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 204);
    assert.deepEqual(storeFiles(h, 'fast'), []);
    assert.deepEqual(storeFiles(h, 'file'), []);
  });

  it('keeps no copy of an image deleted while it was being copied', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast'] } });
    const image = await activeImage(h, 'member@p1', rawBytes(20_000));
    // Hold the copy at the target store's door until the image is gone.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const fast = h.service.stores.get('fast');
    const add = fast.add.bind(fast);
    fast.add = async (...args) => {
      await gate;
      return add(...args);
    };
    const res = await importImage(
      h,
      image.id,
      { method: { name: 'copy-image' }, stores: ['fast'] },
      'admin@adm',
    );
    assert.equal(res.status, 202);
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${image.id}`)).status, 204);
    open();
    await h.drain();
    assert.equal((await imageRow(h, image.id)).status, 'deleted');
    assert.deepEqual(storeFiles(h, 'file'), []);
    assert.deepEqual(storeFiles(h, 'fast'), []);
    const [task] = (await h.call('admin@adm', 'GET', '/v2/tasks')).body.tasks;
    assert.equal(task.status, 'failure');
  });

  it('reverts the copies of a failed copy unless all_stores_must_succeed is false', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast', 'broken'] } });
    const broken = h.service.stores.get('broken');
    broken.add = async () => {
      throw new Error('the disk is on fire');
    };
    const data = rawBytes(10_000);
    const image = await activeImage(h, 'member@p1', data);
    const copy = async (must: boolean) => {
      const res = await importImage(
        h,
        image.id,
        {
          method: { name: 'copy-image' },
          stores: ['fast', 'broken'],
          all_stores_must_succeed: must,
        },
        'admin@adm',
      );
      assert.equal(res.status, 202);
      await h.drain();
      return show(h, 'member@p1', image.id);
    };
    const strict = await copy(true);
    assert.equal(strict.status, 'active');
    assert.equal(strict.stores, 'file');
    assert.equal(strict.os_glance_failed_import, 'broken');
    assert.deepEqual(storeFiles(h, 'fast'), []);
    assert.equal((await tasksOf(h, image.id))[0]?.['status'], 'failure');

    const lenient = await copy(false);
    assert.equal(lenient.status, 'active');
    assert.equal(lenient.stores, 'fast,file');
    assert.equal(lenient.os_glance_failed_import, 'broken');
    assert.deepEqual(storeFiles(h, 'fast'), [image.id]);
    assert.equal((await tasksOf(h, image.id))[0]?.['status'], 'success');
    const file = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.ok(file.raw.equals(data));
  });

  it('copies only active images, to named stores', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast'] } });
    const queued = await h.create('member@p1');
    const body = { method: { name: 'copy-image' }, stores: ['fast'] };
    assert.equal((await importImage(h, queued.id, body, 'admin@adm')).status, 409);
    const active = await activeImage(h, 'member@p1');
    const none = await importImage(h, active.id, { method: { name: 'copy-image' } }, 'admin@adm');
    assert.equal(none.status, 400);
  });
});

describe('tasks API', () => {
  it('is for admins only', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await stage(h, image.id, rawBytes(100));
    await importImage(h, image.id, { method: { name: 'glance-direct' } });
    await h.drain();
    const [task] = await tasksOf(h, image.id);
    const id = String(task?.['id']);

    for (const token of ['member@p1', 'reader@p1', 'member@p2']) {
      assert.equal((await h.call(token, 'GET', '/v2/tasks')).status, 403, token);
      assert.equal((await h.call(token, 'GET', `/v2/tasks/${id}`)).status, 403, token);
    }
    const list = await h.call('admin@adm', 'GET', '/v2/tasks');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.tasks.map((x: { id: string }) => x.id),
      [id],
    );
    assert.equal(list.body.tasks[0].input, undefined);
    assert.equal(list.body.schema, '/v2/schemas/tasks');
    const one = await h.call('admin@adm', 'GET', `/v2/tasks/${id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, id);
    assert.equal(one.body.status, 'success');
    assert.equal(one.body.image_id, image.id);
    assert.equal(one.body.self, `/v2/tasks/${id}`);
    assert.equal(one.body.input.import_req.method.name, 'glance-direct');
    assert.equal(
      (await h.call('admin@adm', 'GET', '/v2/tasks?status=failure')).body.tasks.length,
      0,
    );
    assert.equal((await h.call('admin@adm', 'GET', '/v2/tasks/nope')).status, 404);
  });

  it('pages tasks keeping the filters and the limit in the next links', async (t) => {
    const h = await harness(t, { settings: { limit_param_default: 2 } });
    const made: Record<string, string[]> = { success: [], failure: [] };
    for (let i = 0; i < 7; i++) {
      const status = i % 3 === 0 ? 'failure' : 'success';
      const task = await createTask(h.service, {
        type: 'api_image_import',
        owner: 'p1',
        input: {},
        imageId: null,
        requestId: null,
        userId: null,
        status,
      });
      made[status]?.push(task.id);
    }
    const walk = async (first: string) => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let url: string | undefined = first;
      while (url) {
        const res = await h.call('admin@adm', 'GET', url);
        assert.equal(res.status, 200, url);
        seen.push(...res.body.tasks.map((x: { id: string }) => x.id));
        sizes.push(res.body.tasks.length);
        for (const task of res.body.tasks as Array<{ status: string }>)
          if (first.includes('status=')) assert.equal(task.status, 'success', url);
        url = res.body.next;
        assert.ok(sizes.length <= 10);
      }
      return { seen, sizes };
    };
    const filtered = await walk('/v2/tasks?status=success&limit=2');
    assert.deepEqual([...filtered.seen].sort(), [...(made['success'] ?? [])].sort());
    assert.deepEqual(filtered.sizes, [2, 2, 0]);
    // Without a limit, pages have limit_param_default tasks.
    const all = await walk('/v2/tasks');
    assert.equal(all.seen.length, 7);
    assert.equal(new Set(all.seen).size, 7);
    assert.deepEqual(all.sizes, [2, 2, 2, 1]);
  });

  it('shows an image’s tasks to those who see the image only', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { visibility: 'private' });
    await stage(h, image.id, rawBytes(100));
    await importImage(h, image.id, { method: { name: 'glance-direct' } });
    await h.drain();
    assert.equal((await tasksOf(h, image.id, 'reader@p1')).length, 1);
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${image.id}/tasks`)).status, 404);
  });
});
