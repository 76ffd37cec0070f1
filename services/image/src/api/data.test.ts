import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { staticQuotas } from '../core/quotas.js';
import { sparseVmdk, VMDK_DESCRIPTOR } from '../format/testing.js';
import type { ImageHarness } from '../testing/harness.js';
import {
  activeImage,
  harness,
  deleteDuringUpload,
  imageRow,
  md5,
  qcow2Image,
  qcow2WithBackingFile,
  qcow2WithDataFile,
  rawBytes,
  sha512,
  show,
  stagingFiles,
  storeFiles,
  vmdkReadingHostFile,
  waitFor,
} from '../testing/fixtures.js';

const MIB = 1024 * 1024;

/** PUT /file with a body streamed in chunks and no Content-Length (as a chunked upload). */
function streamUpload(
  h: ImageHarness,
  id: string,
  data: Buffer,
  headers: Record<string, string> = {},
) {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += 16 * 1024)
    chunks.push(data.subarray(at, at + 16 * 1024));
  return h.app.inject({
    method: 'PUT',
    url: `/v2/images/${id}/file`,
    headers: {
      'x-auth-token': 'member@p1',
      'content-type': 'application/octet-stream',
      ...headers,
    },
    payload: Readable.from(chunks),
  });
}

describe('upload and download', () => {
  it('stores the bytes and serves them back with their checksums', async (t) => {
    const h = await harness(t);
    const data = rawBytes(200_000, 3);
    const image = await h.create('member@p1');
    const up = await h.upload('member@p1', image.id, data);
    assert.equal(up.status, 204);
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, data.length);
    assert.equal(shown.virtual_size, data.length);
    assert.equal(shown.checksum, md5(data));
    assert.equal(shown.os_hash_algo, 'sha512');
    assert.equal(shown.os_hash_value, sha512(data));
    assert.equal(shown.stores, 'file');
    assert.equal('direct_url' in shown, false);
    assert.deepEqual(storeFiles(h), [image.id]);
    assert.deepEqual(stagingFiles(h), []);

    const res = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.equal(res.status, 200);
    assert.ok(res.raw.equals(data));
    assert.equal(res.headers['content-md5'], shown.checksum);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['content-length'], String(data.length));
    assert.equal((await imageRow(h, image.id)).worker, null);
  });

  it('takes a chunked upload without Content-Length', async (t) => {
    const h = await harness(t);
    const data = rawBytes(100_000, 9);
    const image = await h.create('member@p1');
    const res = await streamUpload(h, image.id, data);
    assert.equal(res.statusCode, 204);
    assert.equal((await show(h, 'member@p1', image.id)).checksum, md5(data));
  });

  it('accepts a well-formed qcow2 declared as qcow2 and records its virtual size', async (t) => {
    const h = await harness(t);
    const data = qcow2Image({ pad: 60_000 });
    const image = await activeImage(h, 'member@p1', data, { disk_format: 'qcow2' });
    assert.equal(image.status, 'active');
    assert.equal(image.virtual_size, 1 << 30);
    assert.equal(image.size, data.length);
    const vmdk = await activeImage(h, 'member@p1', sparseVmdk(VMDK_DESCRIPTOR), {
      disk_format: 'vmdk',
    });
    assert.equal(vmdk.status, 'active');
    assert.equal(vmdk.virtual_size, 2048 * 512);
  });

  it('uploads to the store x-image-meta-store names; 400 for an unknown one', async (t) => {
    const h = await harness(t, { settings: { stores: ['file', 'fast'] } });
    const image = await h.create('member@p1');
    const unknown = await h.call('member@p1', 'PUT', `/v2/images/${image.id}/file`, rawBytes(10), {
      'x-image-meta-store': 'nowhere',
    });
    assert.equal(unknown.status, 400);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    const res = await h.call('member@p1', 'PUT', `/v2/images/${image.id}/file`, rawBytes(10), {
      'x-image-meta-store': 'fast',
    });
    assert.equal(res.status, 204);
    assert.equal((await show(h, 'member@p1', image.id)).stores, 'fast');
    assert.deepEqual(storeFiles(h, 'fast'), [image.id]);
    assert.deepEqual(storeFiles(h, 'file'), []);
  });

  it('shows direct_url only when show_image_direct_url is set', async (t) => {
    const hidden = await harness(t);
    const a = await activeImage(hidden, 'member@p1');
    assert.equal('direct_url' in a, false);
    assert.equal('direct_url' in (await show(hidden, 'admin@adm', a.id)), false);
    const shown = await harness(t, { settings: { show_image_direct_url: true } });
    const b = await activeImage(shown, 'member@p1');
    assert.equal(b.direct_url, `file://${shown.dataDir}/images/file/${b.id}`);
  });

  it('serves byte ranges with 206 and Content-Range; 416 when unsatisfiable', async (t) => {
    const h = await harness(t);
    const data = rawBytes(1000, 1);
    const image = await activeImage(h, 'member@p1', data);
    const get = (range: string) =>
      h.call('member@p1', 'GET', `/v2/images/${image.id}/file`, undefined, { range });

    const first = await get('bytes=0-9');
    assert.equal(first.status, 206);
    assert.equal(first.headers['content-range'], 'bytes 0-9/1000');
    assert.equal(first.headers['content-length'], '10');
    assert.ok(first.raw.equals(data.subarray(0, 10)));

    const middle = await get('bytes=100-199');
    assert.equal(middle.status, 206);
    assert.equal(middle.headers['content-range'], 'bytes 100-199/1000');
    assert.ok(middle.raw.equals(data.subarray(100, 200)));

    const tail = await get('bytes=-10');
    assert.equal(tail.status, 206);
    assert.equal(tail.headers['content-range'], 'bytes 990-999/1000');
    assert.ok(tail.raw.equals(data.subarray(990)));

    const open = await get('bytes=995-');
    assert.equal(open.status, 206);
    assert.equal(open.headers['content-range'], 'bytes 995-999/1000');
    assert.ok(open.raw.equals(data.subarray(995)));

    const past = await get('bytes=900-5000');
    assert.equal(past.status, 206);
    assert.equal(past.headers['content-range'], 'bytes 900-999/1000');
    assert.equal(past.raw.length, 100);

    for (const range of ['bytes=1000-', 'bytes=2000-3000', 'bytes=-0', 'bytes=5-2', 'lines=1-2']) {
      const res = await get(range);
      assert.equal(res.status, 416, range);
    }
  });

  it('answers 204 for the data of an image that has none', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.equal(res.status, 204);
    assert.equal(res.raw.length, 0);
  });

  it('refuses a second upload with 409 and keeps the first data', async (t) => {
    const h = await harness(t);
    const first = rawBytes(500, 1);
    const image = await activeImage(h, 'member@p1', first);
    const again = await h.upload('member@p1', image.id, rawBytes(600, 2));
    assert.equal(again.status, 409);
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.checksum, md5(first));
    const res = await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`);
    assert.ok(res.raw.equals(first));
    assert.deepEqual(storeFiles(h), [image.id]);
  });

  it('refuses an upload before disk_format and container_format are set', async (t) => {
    const h = await harness(t);
    for (const fields of [
      { disk_format: null },
      { container_format: null },
      { disk_format: null, container_format: null },
    ]) {
      const image = await h.create('member@p1', fields);
      const res = await h.upload('member@p1', image.id, rawBytes(100));
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    }
    assert.deepEqual(storeFiles(h), []);
  });

  it('refuses image data sent as anything but application/octet-stream with 415', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await h.call('member@p1', 'PUT', `/v2/images/${image.id}/file`, { a: 1 });
    assert.equal(res.status, 415);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
  });

  it('lets the owner’s members upload, not readers nor other projects', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { visibility: 'community' });
    assert.equal((await h.upload('reader@p1', image.id, rawBytes(10))).status, 403);
    assert.equal((await h.upload('member@p2', image.id, rawBytes(10))).status, 403);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'queued');
    assert.equal((await h.upload('admin@adm', image.id, rawBytes(10))).status, 204);
  });
});

describe('crafted image data (CVE-2024-32498 and kin)', () => {
  const cases: Array<[string, string, () => Buffer]> = [
    ['a qcow2 with a backing file', 'qcow2', qcow2WithBackingFile],
    ['a qcow2 with an external data file', 'qcow2', qcow2WithDataFile],
    ['raw data declared as qcow2', 'qcow2', () => rawBytes(70_000)],
    ['a qcow2 declared as raw', 'raw', () => qcow2Image({ pad: 70_000 })],
    ['a qcow2 declared as iso', 'iso', () => qcow2Image()],
    ['a vmdk whose descriptor points at a host file', 'vmdk', vmdkReadingHostFile],
    [
      'a vmdk with a second extent',
      'vmdk',
      () => sparseVmdk(`${VMDK_DESCRIPTOR}RW 2048 SPARSE "other.vmdk"\n`),
    ],
    [
      'a vmdk with a parent disk',
      'vmdk',
      () => sparseVmdk(`${VMDK_DESCRIPTOR}parentFileNameHint="base.vmdk"\n`),
    ],
    ['a vmdk declared as raw', 'raw', () => sparseVmdk(VMDK_DESCRIPTOR)],
  ];
  for (const [what, diskFormat, make] of cases) {
    it(`refuses ${what} with 400, kills the image and keeps nothing`, async (t) => {
      const h = await harness(t);
      const image = await h.create('member@p1', { disk_format: diskFormat });
      const res = await h.upload('member@p1', image.id, make());
      assert.equal(res.status, 400);
      assert.equal(res.body.code, '400 Bad Request');
      const shown = await show(h, 'member@p1', image.id);
      assert.equal(shown.status, 'killed');
      assert.equal(shown.size, null);
      assert.equal(shown.checksum, null);
      assert.equal('stores' in shown, false);
      assert.deepEqual(storeFiles(h), []);
      const row = await imageRow(h, image.id);
      assert.equal(row.worker, null);
      assert.equal(row.locations, '[]');
      // Nothing to download, and no second try into a killed image.
      assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`)).status, 204);
      assert.equal((await h.upload('member@p1', image.id, rawBytes(10))).status, 409);
    });
  }

  it('refuses a crafted file sent chunked as well', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1', { disk_format: 'qcow2' });
    const res = await streamUpload(
      h,
      image.id,
      Buffer.concat([qcow2WithBackingFile(), rawBytes(100_000)]),
    );
    assert.equal(res.statusCode, 400);
    assert.equal((await show(h, 'member@p1', image.id)).status, 'killed');
    assert.deepEqual(storeFiles(h), []);
  });
});

describe('interrupted and oversized uploads', () => {
  it('puts the image back to queued when the body ends before Content-Length', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await h.app.inject({
      method: 'PUT',
      url: `/v2/images/${image.id}/file`,
      headers: {
        'x-auth-token': 'member@p1',
        'content-type': 'application/octet-stream',
        'content-length': '100000',
      },
      payload: Readable.from([rawBytes(30_000)]),
    });
    assert.equal(res.statusCode, 400);
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'queued');
    assert.equal(shown.size, null);
    assert.deepEqual(storeFiles(h), []);
    assert.equal((await imageRow(h, image.id)).worker, null);
    // The upload can be retried.
    const data = rawBytes(1234);
    assert.equal((await h.upload('member@p1', image.id, data)).status, 204);
    assert.equal((await show(h, 'member@p1', image.id)).checksum, md5(data));
  });

  it('puts the image back to queued when the client disconnects mid-upload', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/v2/images/${image.id}/file`,
      headers: {
        'x-auth-token': 'member@p1',
        'content-type': 'application/octet-stream',
        'content-length': String(4 * MIB),
      },
    });
    req.on('error', () => undefined);
    req.write(rawBytes(256 * 1024));
    await waitFor(
      'the upload to start',
      async () => (await imageRow(h, image.id)).status === 'saving',
    );
    req.destroy();
    await waitFor('the image to be queued again', async () => {
      const row = await imageRow(h, image.id);
      return row.status === 'queued' && row.worker === null;
    });
    await waitFor('the partial file to go', async () => storeFiles(h).length === 0);
    assert.equal((await show(h, 'member@p1', image.id)).size, null);
    assert.equal((await h.upload('member@p1', image.id, rawBytes(100))).status, 204);
  });

  it('lets only one of two concurrent uploads win', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const [a, b] = await Promise.all([
      streamUpload(h, image.id, rawBytes(300_000, 1)),
      streamUpload(h, image.id, rawBytes(300_000, 2)),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [204, 409]);
    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'active');
    const winner = a.statusCode === 204 ? 1 : 2;
    assert.equal(shown.checksum, md5(rawBytes(300_000, winner)));
    assert.deepEqual(storeFiles(h), [image.id]);
  });

  it('keeps no data of an image deleted while its upload runs', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const response = deleteDuringUpload(h, image.id, 'file', 512 * 1024, 'saving');
    assert.equal(await response, 409);
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}`)).status, 404);
    assert.equal((await imageRow(h, image.id)).status, 'deleted');
    await waitFor('the data to go', async () => storeFiles(h).length === 0);
  });

  it('refuses data over image_size_cap with 413 and keeps nothing', async (t) => {
    const h = await harness(t, { settings: { image_size_cap: 50_000 } });
    const declared = await h.create('member@p1');
    const res = await h.upload('member@p1', declared.id, rawBytes(50_001));
    assert.equal(res.status, 413);
    assert.equal((await show(h, 'member@p1', declared.id)).status, 'queued');

    const chunked = await h.create('member@p1');
    const streamed = await streamUpload(h, chunked.id, rawBytes(200_000));
    assert.equal(streamed.statusCode, 413);
    assert.equal((await show(h, 'member@p1', chunked.id)).status, 'queued');
    assert.deepEqual(storeFiles(h), []);

    // Exactly the cap is fine.
    assert.equal((await h.upload('member@p1', declared.id, rawBytes(50_000))).status, 204);
    assert.deepEqual(storeFiles(h), [declared.id]);
  });

  it('refuses data over the image_size_total quota with 413 and keeps nothing', async (t) => {
    const h = await harness(t, { quotas: staticQuotas({ image_size_total: 1 }) });
    const big = await h.create('member@p1');
    const res = await h.upload('member@p1', big.id, rawBytes(MIB + 1));
    assert.equal(res.status, 413);
    assert.equal((await show(h, 'member@p1', big.id)).status, 'queued');
    assert.deepEqual(storeFiles(h), []);

    const first = await activeImage(h, 'member@p1', rawBytes(600 * 1024));
    const second = await h.create('member@p1');
    const over = await streamUpload(h, second.id, rawBytes(600 * 1024));
    assert.equal(over.statusCode, 413);
    assert.equal((await show(h, 'member@p1', second.id)).status, 'queued');
    assert.deepEqual(storeFiles(h), [first.id]);
    // Another project has its own quota.
    const other = await h.create('member@p2');
    assert.equal((await h.upload('member@p2', other.id, rawBytes(600 * 1024))).status, 204);
  });

  it('refuses an image over the image_count_total quota with 413', async (t) => {
    const h = await harness(t, { quotas: staticQuotas({ image_count_total: 2 }) });
    await h.create('member@p1');
    const second = await h.create('member@p1');
    const third = await h.call('member@p1', 'POST', '/v2/images', { name: 'third' });
    assert.equal(third.status, 413);
    assert.equal((await h.call('admin@adm', 'POST', '/v2/images', { owner: 'p1' })).status, 413);
    assert.equal((await h.call('member@p2', 'POST', '/v2/images', {})).status, 201);
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${second.id}`)).status, 204);
    assert.equal((await h.call('member@p1', 'POST', '/v2/images', {})).status, 201);
  });
});
