/**
 * Helpers shared by the image API's tests: a harness per test, crafted disk images,
 * what lies in the store and staging directories, and PATCH bodies.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { qcow2Header, sparseVmdk, VMDK_DESCRIPTOR } from '../format/testing.js';
import { imageHarness, type ImageHarness } from './harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are read loosely in tests */

export type HarnessOptions = Parameters<typeof imageHarness>[0];

/** A fresh harness, closed when the test ends. */
export async function harness(t: TestContext, options?: HarnessOptions): Promise<ImageHarness> {
  const h = await imageHarness(options);
  t.after(() => h.close());
  return h;
}

export const PATCH_V21 = 'application/openstack-images-v2.1-json-patch';
export const PATCH_V20 = 'application/openstack-images-v2.0-json-patch';

/** PATCH /v2/images/{id} with a JSON-patch body (draft 10 unless `type` says otherwise). */
export function patch(
  h: ImageHarness,
  token: string,
  id: string,
  changes: unknown,
  type: string = PATCH_V21,
) {
  return h.call(token, 'PATCH', `/v2/images/${id}`, changes, { 'content-type': type });
}

export const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
export const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('hex');

/** Plain bytes no inspector mistakes for a disk format: a repeated, numbered text. */
export function rawBytes(size: number, seed = 0): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = 0x61 + ((i * 7 + seed) % 26);
  return out;
}

/** A qcow2 header (version 3, 1 GiB, 64 KiB clusters) and `pad` zero bytes after it. */
export function qcow2Image(
  opts: { backing?: bigint; incompat?: bigint; version?: number; pad?: number } = {},
): Buffer {
  const h = qcow2Header(opts);
  if (opts.backing) {
    // backing_file_offset/size point at a name inside the header cluster.
    h.writeUInt32BE(16, 16);
    h.write('/etc/passwd\0\0\0\0\0', Number(opts.backing), 'latin1');
  }
  return Buffer.concat([h, Buffer.alloc(opts.pad ?? 4096)]);
}

/** A qcow2 image that names a backing file (CVE-2024-32498's first form). */
export const qcow2WithBackingFile = () => qcow2Image({ backing: 0x180n });
/** A qcow2 image whose data lives in an external data file (incompatible bit 2). */
export const qcow2WithDataFile = () => qcow2Image({ incompat: 1n << 2n });

/** A VMDK whose descriptor reads another file of the host (CVE-2024-32498's VMDK form). */
export const vmdkReadingHostFile = () =>
  sparseVmdk(VMDK_DESCRIPTOR.replace('SPARSE "disk.vmdk"', 'FLAT "/etc/passwd" 0'));

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Files in a file store's directory (partial uploads included). */
export const storeFiles = (h: ImageHarness, store = 'file') =>
  listDir(join(h.dataDir, 'images', store));

/** Files in the staging area. */
export const stagingFiles = (h: ImageHarness) => listDir(join(h.dataDir, 'image-staging'));

/** GET one image (the caller must see it). */
export async function show(h: ImageHarness, token: string, id: string): Promise<any> {
  const res = await h.call(token, 'GET', `/v2/images/${id}`);
  if (res.status !== 200) throw new Error(`show failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The ids GET /v2/images answers, in order (one page). */
export async function listIds(h: ImageHarness, token: string, query = ''): Promise<string[]> {
  const res = await h.call(token, 'GET', `/v2/images${query ? `?${query}` : ''}`);
  if (res.status !== 200) throw new Error(`list failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body.images as Array<{ id: string }>).map((i) => i.id);
}

/** An image with `data` uploaded, active. */
export async function activeImage(
  h: ImageHarness,
  token: string,
  data: Buffer = rawBytes(1000),
  fields: Record<string, unknown> = {},
): Promise<any> {
  const image = await h.create(token, fields);
  const up = await h.upload(token, image.id, data);
  if (up.status !== 204) throw new Error(`upload failed: ${up.status} ${JSON.stringify(up.body)}`);
  return show(h, token, image.id);
}

/** The image's row as the database has it. */
export function imageRow(h: ImageHarness, id: string) {
  return h.db.selectFrom('image').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Polls `check` every 10 ms until it holds; fails after `ms`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  ms = 5000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * PUT /v2/images/{id}/<target> over real HTTP: sends half of `size` bytes, deletes the
 * image (which must answer 204) once it is `busy`, then sends the rest. Resolves with
 * the upload's status code.
 */
export async function deleteDuringUpload(
  h: ImageHarness,
  imageId: string,
  target: 'file' | 'stage',
  size: number,
  busy: string,
): Promise<number> {
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as AddressInfo;
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/v2/images/${imageId}/${target}`,
        headers: {
          'x-auth-token': 'member@p1',
          'content-type': 'application/octet-stream',
          'content-length': String(size),
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.write(rawBytes(size / 2));
    void waitFor(
      `the image to be ${busy}`,
      async () => (await imageRow(h, imageId)).status === busy,
    )
      .then(() => h.call('member@p1', 'DELETE', `/v2/images/${imageId}`))
      .then((del) => {
        if (del.status !== 204) throw new Error(`delete answered ${del.status}`);
        req.end(rawBytes(size / 2));
      })
      .catch(reject);
  });
}
