import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { isStratusError, uuid } from '@stratus/common';
import { isRoot, tempDir } from '@stratus/testkit';
import {
  chunkedSource,
  generatedSource,
  hashesOf,
  readAll,
  storeConformance,
} from './conformance.js';
import type { StoreHarness } from './conformance.js';
import { InvalidStoreLocation, StorageFull, StorageWriteDenied } from './errors.js';
import { FileStore, mapFsError } from './file.js';

function fileHarness(t: TestContext): StoreHarness & { store: FileStore; dir: string } {
  const dir = join(
    tempDir((fn) => t.after(fn), 'stratus-image-store-'),
    'images',
  );
  const store = new FileStore({ type: 'file', dir });
  return {
    store,
    dir,
    leftovers: async () => {
      try {
        return (await readdir(dir)).sort();
      } catch {
        return [];
      }
    },
    plantStalePartial: async (imageId) => {
      mkdirSync(dir, { recursive: true });
      await writeFile(join(dir, `${imageId}.partial`), randomBytes(100));
    },
  };
}

storeConformance('file', fileHarness);

describe('file store', () => {
  it('keeps each image in <dir>/<id>, located as file:///abs/path, mode 0640', async (t) => {
    const { store, dir } = fileHarness(t);
    const data = randomBytes(3000);
    const imageId = uuid();
    const result = await store.add(imageId, chunkedSource(data), { sizeCap: 3000 });
    assert.equal(result.location, `file://${dir}/${imageId}`);
    assert.ok(readFileSync(join(dir, imageId)).equals(data));
    assert.equal(statSync(join(dir, imageId)).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), [imageId]);
    assert.equal(store.locationOf(imageId), result.location);
  });

  it('writes to <id>.partial and shows <id> only once the upload is complete', async (t) => {
    const { store, dir } = fileHarness(t);
    const imageId = uuid();
    const source = generatedSource(64 * 1024, { chunkSize: 1024, delayMs: 2 });
    const adding = store.add(imageId, source, { sizeCap: 64 * 1024 });
    while (source.pulled < 8 * 1024) await sleep(2);
    assert.deepEqual(readdirSync(dir), [`${imageId}.partial`]);
    const result = await adding;
    assert.deepEqual(readdirSync(dir), [imageId]);
    assert.equal(result.size, 64 * 1024);
    assert.deepEqual(
      { md5: result.md5, sha512: result.sha512 },
      hashesOf(readFileSync(join(dir, imageId))),
    );
  });

  it('refuses locations outside its directory, even of files that exist', async (t) => {
    const { store, dir } = fileHarness(t);
    const { location } = await store.add(uuid(), chunkedSource(randomBytes(10)), {
      sizeCap: 10,
    });
    mkdirSync(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'x'), 'x');
    await writeFile(join(dir, '..', 'outside'), 'x');
    const other = new FileStore({ type: 'file', dir: join(dir, '..', 'other') });
    const otherLocation = (await other.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 }))
      .location;
    for (const bad of [
      'file:///etc/passwd',
      `file://${dir}/../outside`,
      `file://${dir}/sub/x`,
      `file://${dir}/./${location.split('/').pop()}`,
      `file://${dir}//${location.split('/').pop()}`,
      `file://${dir}`,
      `file://${dir}/`,
      `file:images/x`,
      location.replace('file://', 'file://localhost'),
      otherLocation,
    ]) {
      assert.equal(store.owns(bad), false, bad);
      await assert.rejects(store.get(bad), InvalidStoreLocation, bad);
      await assert.rejects(store.delete(bad), InvalidStoreLocation, bad);
    }
    assert.ok(existsSync(join(dir, '..', 'outside')));
    assert.ok(existsSync(join(dir, 'sub', 'x')));
  });

  it('removes the partial uploads of a previous process on cleanup (restart)', async (t) => {
    const { store, dir } = fileHarness(t);
    const kept = await store.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 });
    const crashed = uuid();
    await writeFile(join(dir, `${crashed}.partial`), randomBytes(1000));
    const restarted = new FileStore({ type: 'file', dir });
    assert.deepEqual(await restarted.cleanupPartials(), [crashed]);
    assert.deepEqual(readdirSync(dir), [kept.location.split('/').pop()]);
    assert.deepEqual(await restarted.cleanupPartials(), []);
  });

  it('with olderThanMs, keeps partial files written more recently', async (t) => {
    const { store, dir } = fileHarness(t);
    mkdirSync(dir, { recursive: true });
    const recent = uuid();
    const old = uuid();
    await writeFile(join(dir, `${recent}.partial`), 'x');
    await writeFile(join(dir, `${old}.partial`), 'x');
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(join(dir, `${old}.partial`), hourAgo, hourAgo);
    assert.deepEqual(await store.cleanupPartials({ olderThanMs: 600_000 }), [old]);
    assert.deepEqual(readdirSync(dir), [`${recent}.partial`]);
  });

  it('cleans up nothing when its directory does not exist yet; add creates it', async (t) => {
    const { store, dir } = fileHarness(t);
    assert.deepEqual(await store.cleanupPartials(), []);
    assert.equal(existsSync(dir), false);
    await store.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 });
    assert.equal(existsSync(dir), true);
  });

  it('lets a read in progress finish after the image is deleted', async (t) => {
    const { store } = fileHarness(t);
    const data = randomBytes(300_000);
    const { location } = await store.add(uuid(), chunkedSource(data), { sizeCap: 300_000 });
    const stream = await store.get(location);
    await store.delete(location);
    assert.ok((await readAll(stream)).equals(data));
    assert.equal(await store.exists(location), false);
  });

  it('returns chunks of its configured size', async (t) => {
    const { dir } = fileHarness(t);
    const store = new FileStore({ type: 'file', dir, chunkSize: 1000 });
    const { location } = await store.add(uuid(), chunkedSource(randomBytes(5500)), {
      sizeCap: 5500,
    });
    const sizes: number[] = [];
    for await (const chunk of await store.get(location, { offset: 500 })) {
      sizes.push((chunk as Buffer).length);
    }
    assert.deepEqual(sizes, [1000, 1000, 1000, 1000, 1000]);
  });

  it('maps a full disk and denied writes to StorageFull (413) and StorageWriteDenied', () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const full = mapFsError(enospc, 'write image data');
    assert.ok(full instanceof StorageFull);
    assert.equal(isStratusError(full) && full.status, 413);
    const eacces = Object.assign(new Error('denied'), { code: 'EACCES' });
    assert.ok(mapFsError(eacces, 'write') instanceof StorageWriteDenied);
    const other = Object.assign(new Error('io'), { code: 'EIO' });
    assert.equal(mapFsError(other, 'write'), other);
  });

  it('fails with StorageWriteDenied in a directory it may not write to', async (t) => {
    const { store, dir } = fileHarness(t);
    mkdirSync(dir);
    // Root may write through any mode bits: for root a read-only mount denies it (EROFS).
    const root = isRoot();
    if (root) execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
    else chmodSync(dir, 0o555);
    try {
      await assert.rejects(
        store.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 }),
        StorageWriteDenied,
      );
    } finally {
      // Undone here, before the temporary directory is removed.
      if (root) execFileSync('umount', [dir]);
      else chmodSync(dir, 0o755);
    }
  });
});
