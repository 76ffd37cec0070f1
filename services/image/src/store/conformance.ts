/**
 * The behaviour every image store must show. Each driver's test file runs it:
 *
 *   storeConformance('file', (t) => ({ store, leftovers, plantStalePartial }));
 *
 * `leftovers` lists everything the store holds (finished images and unfinished
 * uploads), so the suite can check that a failed upload left nothing behind.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { NotFound, uuid } from '@stratus/common';
import type { AddResult, ImageStore } from './driver.js';
import {
  ImageDataExists,
  ImageDataNotFound,
  ImageSizeLimitExceeded,
  ImageSizeMismatch,
  InvalidImageId,
  InvalidImageRange,
  InvalidStoreLocation,
} from './errors.js';

export interface StoreHarness {
  store: ImageStore;
  /** Names of everything the store holds, finished or not, sorted. */
  leftovers(): Promise<string[]>;
  /** Leaves an unfinished upload of `imageId` behind, as a process that died would. */
  plantStalePartial(imageId: string): Promise<void>;
}

export type MakeStore = (t: TestContext) => Promise<StoreHarness> | StoreHarness;

// Sources and sinks.

/** A source of `data` cut into chunks of the given sizes (the last one repeats). */
export function chunkedSource(data: Buffer, sizes: readonly number[] = [64 * 1024]): Readable {
  const chunks: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const size = sizes[Math.min(i++, sizes.length - 1)] ?? 1;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks, { objectMode: false });
}

export interface CountingSource extends Readable {
  /** Bytes the consumer has pulled so far. */
  readonly pulled: number;
}

/**
 * A source producing `total` bytes (Infinity: endless) in chunks of `chunkSize`, each
 * made when asked for, never all at once; optionally `delayMs` apart, and failing with
 * `failWith` once `failAfter` bytes were produced.
 */
export function generatedSource(
  total: number,
  options: { chunkSize?: number; delayMs?: number; failAfter?: number; failWith?: Error } = {},
): CountingSource {
  const { chunkSize = 64 * 1024, delayMs = 0, failAfter, failWith } = options;
  let produced = 0;
  const source = new Readable({
    highWaterMark: chunkSize,
    read() {
      const produce = () => {
        if (source.destroyed) return;
        if (failAfter !== undefined && produced >= failAfter) {
          source.destroy(failWith ?? new Error('the source failed'));
          return;
        }
        if (produced >= total) {
          source.push(null);
          return;
        }
        const size = Math.min(chunkSize, total - produced);
        const chunk = Buffer.allocUnsafe(size);
        // Position-dependent content: each 4 KiB block has its own (hashed) byte value.
        for (let i = 0; i < size; i += 4096) {
          const block = Math.floor((produced + i) / 4096);
          chunk.fill(Math.imul(block, 2654435761) >>> 24, i, Math.min(size, i + 4096));
        }
        produced += size;
        source.push(chunk);
      };
      if (delayMs > 0) setTimeout(produce, delayMs);
      else produce();
    },
  }) as Readable & { pulled: number };
  Object.defineProperty(source, 'pulled', { get: () => produced });
  return source;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function hashesOf(data: Buffer): { md5: string; sha512: string } {
  return {
    md5: createHash('md5').update(data).digest('hex'),
    sha512: createHash('sha512').update(data).digest('hex'),
  };
}

function isError(cls: abstract new (...args: never[]) => Error, status?: number) {
  return (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    if (status !== undefined) assert.equal((err as { status?: number }).status, status);
    return true;
  };
}

function isAbort(err: unknown): boolean {
  assert.ok(err instanceof Error && err.name === 'AbortError', `expected AbortError, got ${err}`);
  return true;
}

function newId(): string {
  return uuid();
}

export function storeConformance(name: string, makeStore: MakeStore): void {
  describe(`image store conformance: ${name}`, () => {
    async function stored(
      harness: StoreHarness,
      data: Buffer,
      sizes?: readonly number[],
    ): Promise<AddResult & { imageId: string }> {
      const imageId = newId();
      const result = await harness.store.add(imageId, chunkedSource(data, sizes), {
        sizeCap: data.length,
      });
      return { ...result, imageId };
    }

    it('stores data and reads it back whole, with md5 and sha512 of the whole data', async (t) => {
      const h = await makeStore(t);
      const data = randomBytes(1024 * 1024 + 13);
      const result = await stored(h, data, [1, 7, 65536, 300_000, 4096]);
      assert.equal(result.size, data.length);
      assert.deepEqual({ md5: result.md5, sha512: result.sha512 }, hashesOf(data));
      assert.ok(h.store.owns(result.location), `${name} does not own ${result.location}`);
      const back = await readAll(await h.store.get(result.location));
      assert.ok(back.equals(data), 'the data read back differs');
      assert.equal(await h.store.size(result.location), data.length);
      assert.equal(await h.store.exists(result.location), true);
    });

    it('stores an empty image', async (t) => {
      const h = await makeStore(t);
      const result = await stored(h, Buffer.alloc(0));
      assert.equal(result.size, 0);
      assert.deepEqual({ md5: result.md5, sha512: result.sha512 }, hashesOf(Buffer.alloc(0)));
      assert.equal((await readAll(await h.store.get(result.location))).length, 0);
      assert.equal(await h.store.size(result.location), 0);
    });

    it('reads byte ranges, cut at the end of the data', async (t) => {
      const h = await makeStore(t);
      const data = randomBytes(200_000);
      const { location } = await stored(h, data, [70_000]);
      const cases: [{ offset?: number; length?: number }, Buffer][] = [
        [{ offset: 0, length: 10 }, data.subarray(0, 10)],
        [{ offset: 1000 }, data.subarray(1000)],
        [{ offset: 69_999, length: 2 }, data.subarray(69_999, 70_001)],
        [{ offset: 150_000, length: 100_000 }, data.subarray(150_000)],
        [{ offset: 199_999, length: 1 }, data.subarray(199_999)],
        [{ length: 65_537 }, data.subarray(0, 65_537)],
        [{ offset: 200_000 }, Buffer.alloc(0)],
        [{ offset: 5, length: 0 }, Buffer.alloc(0)],
      ];
      for (const [range, expected] of cases) {
        const got = await readAll(await h.store.get(location, range));
        assert.ok(got.equals(expected), `range ${JSON.stringify(range)} read the wrong bytes`);
      }
      for (const range of [{ offset: 200_001 }, { offset: -1 }, { offset: 1.5 }, { length: -2 }]) {
        await assert.rejects(
          h.store.get(location, range),
          isError(InvalidImageRange, 416),
          JSON.stringify(range),
        );
      }
    });

    it('accepts exactly sizeCap bytes, and the announced size', async (t) => {
      const h = await makeStore(t);
      const data = randomBytes(100_000);
      const result = await h.store.add(newId(), chunkedSource(data, [30_000]), {
        sizeCap: 100_000,
        expectedSize: 100_000,
      });
      assert.equal(result.size, 100_000);
    });

    it('stops as soon as the size cap is passed and leaves nothing behind', async (t) => {
      const h = await makeStore(t);
      const before = await h.leftovers();
      const imageId = newId();
      const source = generatedSource(10 * 1024 * 1024, { chunkSize: 16 * 1024 });
      await assert.rejects(
        h.store.add(imageId, source, { sizeCap: 100_000 }),
        isError(ImageSizeLimitExceeded, 413),
      );
      assert.ok(source.pulled < 1024 * 1024, `read ${source.pulled} bytes past a 100000 cap`);
      assert.equal(source.destroyed, false, 'the store destroyed the caller’s source');
      source.destroy();
      assert.deepEqual(await h.leftovers(), before);
      // Nothing is reserved either: the same image can be uploaded now.
      const data = randomBytes(1000);
      const again = await h.store.add(imageId, chunkedSource(data), { sizeCap: 100_000 });
      assert.equal(again.md5, hashesOf(data).md5);
    });

    it('refuses an announced size above the cap before reading anything', async (t) => {
      const h = await makeStore(t);
      const source = generatedSource(1000);
      await assert.rejects(
        h.store.add(newId(), source, { sizeCap: 999, expectedSize: 1000 }),
        isError(ImageSizeLimitExceeded, 413),
      );
      assert.equal(source.pulled, 0);
      source.destroy();
      assert.deepEqual(await h.leftovers(), []);
    });

    it('fails when the data is shorter or longer than announced, leaving nothing', async (t) => {
      const h = await makeStore(t);
      const shorter = generatedSource(999, { chunkSize: 100 });
      await assert.rejects(
        h.store.add(newId(), shorter, { sizeCap: 10_000, expectedSize: 1000 }),
        isError(ImageSizeMismatch, 400),
      );
      const longer = generatedSource(1024 * 1024, { chunkSize: 100 });
      await assert.rejects(
        h.store.add(newId(), longer, { sizeCap: 10 * 1024 * 1024, expectedSize: 1000 }),
        isError(ImageSizeMismatch, 400),
      );
      assert.ok(longer.pulled < 10_000, 'kept reading past the announced size');
      longer.destroy();
      assert.deepEqual(await h.leftovers(), []);
    });

    it('stops when the signal aborts, even while the source is silent, leaving nothing', async (t) => {
      const h = await makeStore(t);
      const source = generatedSource(Infinity, { chunkSize: 1024, delayMs: 5 });
      t.after(() => source.destroy());
      const controller = new AbortController();
      const adding = h.store.add(newId(), source, {
        sizeCap: 1024 * 1024 * 1024,
        signal: controller.signal,
      });
      while (source.pulled < 5 * 1024) await sleep(5);
      controller.abort();
      await assert.rejects(adding, isAbort);
      assert.deepEqual(await h.leftovers(), []);

      // A stalled source: the abort still ends the upload.
      const stalled = new Readable({ read() {} });
      t.after(() => stalled.destroy());
      stalled.push(Buffer.alloc(100));
      const reason = new Error('client went away');
      const second = new AbortController();
      const waiting = h.store.add(newId(), stalled, {
        sizeCap: 1000,
        signal: second.signal,
      });
      await sleep(20);
      second.abort(reason);
      await assert.rejects(waiting, (err) => err === reason);
      assert.deepEqual(await h.leftovers(), []);
    });

    it('refuses to start with a signal that has already aborted', async (t) => {
      const h = await makeStore(t);
      const source = generatedSource(1000);
      await assert.rejects(
        h.store.add(newId(), source, { sizeCap: 1000, signal: AbortSignal.abort() }),
        isAbort,
      );
      assert.equal(source.pulled, 0);
      source.destroy();
      assert.deepEqual(await h.leftovers(), []);
    });

    it('passes on the error of a failing source, leaving nothing', async (t) => {
      const h = await makeStore(t);
      const failure = new Error('connection reset');
      const source = generatedSource(1024 * 1024, { failAfter: 200_000, failWith: failure });
      await assert.rejects(
        h.store.add(newId(), source, { sizeCap: 1024 * 1024 }),
        (err) => err === failure,
      );
      assert.deepEqual(await h.leftovers(), []);
    });

    it('refuses a stream of strings', async (t) => {
      const h = await makeStore(t);
      const source = Readable.from(['not', 'bytes']);
      await assert.rejects(h.store.add(newId(), source, { sizeCap: 1000 }), TypeError);
      assert.deepEqual(await h.leftovers(), []);
    });

    it('stores concurrent uploads of different images apart', async (t) => {
      const h = await makeStore(t);
      const datas = Array.from({ length: 8 }, (_, i) => randomBytes(100_000 + i * 12_345));
      const results = await Promise.all(
        datas.map(async (data, i) => {
          // Slow, interleaved sources: every upload is in flight at once.
          const chunks = chunkedSource(data, [1000 + i * 17]);
          const slow = Readable.from(
            (async function* () {
              for await (const chunk of chunks) {
                await new Promise((resolve) => setImmediate(resolve));
                yield chunk as Buffer;
              }
            })(),
            { objectMode: false },
          );
          return h.store.add(newId(), slow, { sizeCap: 1024 * 1024 });
        }),
      );
      assert.equal(new Set(results.map((r) => r.location)).size, datas.length);
      for (const [i, data] of datas.entries()) {
        const result = results[i];
        assert.ok(result);
        assert.deepEqual({ md5: result.md5, sha512: result.sha512 }, hashesOf(data));
        assert.ok((await readAll(await h.store.get(result.location))).equals(data));
      }
      assert.equal((await h.leftovers()).length, datas.length);
    });

    it('deletes idempotently; what is gone is NotFound', async (t) => {
      const h = await makeStore(t);
      const keep = await stored(h, randomBytes(1000));
      const { location } = await stored(h, randomBytes(1000));
      await h.store.delete(location);
      await h.store.delete(location);
      assert.equal(await h.store.exists(location), false);
      await assert.rejects(h.store.get(location), isError(ImageDataNotFound, 404));
      await assert.rejects(h.store.get(location), isError(NotFound, 404));
      await assert.rejects(h.store.size(location), isError(NotFound, 404));
      assert.equal((await h.leftovers()).length, 1);
      assert.equal(await h.store.exists(keep.location), true);
    });

    it('refuses a second upload of the same image, keeping the first', async (t) => {
      const h = await makeStore(t);
      const data = randomBytes(5000);
      const first = await stored(h, data);
      await assert.rejects(
        h.store.add(first.imageId, chunkedSource(randomBytes(10)), { sizeCap: 5000 }),
        isError(ImageDataExists, 409),
      );
      assert.ok((await readAll(await h.store.get(first.location))).equals(data));
    });

    it('refuses an upload of an image that is uploading now', async (t) => {
      const h = await makeStore(t);
      const imageId = newId();
      const source = generatedSource(Infinity, { chunkSize: 1024, delayMs: 5 });
      t.after(() => source.destroy());
      const controller = new AbortController();
      const first = h.store.add(imageId, source, { sizeCap: 1e9, signal: controller.signal });
      while (source.pulled < 2048) await sleep(5);
      await assert.rejects(
        h.store.add(imageId, chunkedSource(randomBytes(10)), { sizeCap: 1000 }),
        isError(ImageDataExists, 409),
      );
      controller.abort();
      await assert.rejects(first, isAbort);
      assert.deepEqual(await h.leftovers(), []);
    });

    it('refuses image ids that cannot name data', async (t) => {
      const h = await makeStore(t);
      for (const id of ['', '../escape', 'a/b', '.hidden', 'x.partial', 'a..b', 'x'.repeat(300)]) {
        await assert.rejects(
          h.store.add(id, chunkedSource(Buffer.from('x')), { sizeCap: 10 }),
          isError(InvalidImageId, 400),
          JSON.stringify(id),
        );
      }
      assert.deepEqual(await h.leftovers(), []);
    });

    it('refuses locations that are not its own', async (t) => {
      const h = await makeStore(t);
      const { location } = await stored(h, randomBytes(10));
      const foreign = [
        '',
        'http://example.com/images/x',
        'swift+https://example.com/v1/glance/x',
        location + '/more',
        location.replace(/[^/]+$/, '../../etc/passwd'),
        location + '.partial',
      ];
      for (const other of foreign) {
        assert.equal(h.store.owns(other), false, other);
        await assert.rejects(h.store.get(other), isError(InvalidStoreLocation, 400), other);
        await assert.rejects(h.store.size(other), isError(InvalidStoreLocation, 400), other);
        await assert.rejects(h.store.delete(other), isError(InvalidStoreLocation, 400), other);
      }
      assert.equal(await h.store.exists(location), true);
    });

    it('removes stale partial uploads on cleanup, keeping images and live uploads', async (t) => {
      const h = await makeStore(t);
      const kept = await stored(h, randomBytes(1000));
      const staleId = newId();
      await h.plantStalePartial(staleId);
      const liveId = newId();
      const source = generatedSource(Infinity, { chunkSize: 1024, delayMs: 5 });
      t.after(() => source.destroy());
      const controller = new AbortController();
      const live = h.store.add(liveId, source, { sizeCap: 1e9, signal: controller.signal });
      while (source.pulled < 2048) await sleep(5);
      assert.equal((await h.leftovers()).length, 3);

      assert.deepEqual(await h.store.cleanupPartials(), [staleId]);
      assert.equal((await h.leftovers()).length, 2);
      assert.equal(await h.store.exists(kept.location), true);
      controller.abort();
      await assert.rejects(live, isAbort);
      assert.equal((await h.leftovers()).length, 1);
      // The stale upload's id is free again.
      await h.store.add(staleId, chunkedSource(randomBytes(10)), { sizeCap: 10 });
    });

    it('removes the partial uploads of the images named, and only those', async (t) => {
      const h = await makeStore(t);
      const [one, two] = [newId(), newId()];
      await h.plantStalePartial(one);
      await h.plantStalePartial(two);
      assert.deepEqual(await h.store.cleanupPartials({ imageIds: [two, newId()] }), [two]);
      assert.equal((await h.leftovers()).length, 1);
      assert.deepEqual(await h.store.cleanupPartials({ imageIds: [one] }), [one]);
      assert.equal((await h.leftovers()).length, 0);
    });

    it('describes itself for /v2/info/stores', async (t) => {
      const h = await makeStore(t);
      const { id, type, description, isDefault } = h.store.descriptor;
      assert.ok(typeof id === 'string' && id.length > 0);
      assert.equal(type, name);
      assert.ok(typeof description === 'string' && description.length > 0);
      assert.equal(typeof isDefault, 'boolean');
    });
  });
}
