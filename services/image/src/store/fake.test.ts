import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { uuid } from '@stratus/common';
import { chunkedSource, generatedSource, readAll, storeConformance } from './conformance.js';
import { InvalidStoreLocation, StorageFull } from './errors.js';
import { FakeStore, InjectedStoreFault } from './fake.js';
import { WRITE_BATCH } from './ingest.js';

storeConformance('fake', () => {
  const store = new FakeStore();
  return {
    store,
    leftovers: async () => {
      const { images, partials } = store.contents();
      return [...images, ...partials.map((id) => `${id}.partial`)].sort();
    },
    plantStalePartial: async (imageId) => store.plantStalePartial(imageId, randomBytes(100)),
  };
});

describe('fake store failure injection', () => {
  it('fails an upload after N bytes, having read little more, and keeps nothing', async () => {
    const store = new FakeStore();
    store.faults.failAddAfterBytes = 100_000;
    const source = generatedSource(10_000_000, { chunkSize: 10_000 });
    await assert.rejects(
      store.add(uuid(), source, { sizeCap: 1e9 }),
      (err) => err instanceof InjectedStoreFault && err.status === 500,
    );
    // It stops reading at once: what it reads ahead is bounded by its write batches.
    assert.ok(source.pulled <= 100_000 + 2 * WRITE_BATCH + 10_000, `pulled ${source.pulled}`);
    source.destroy();
    assert.deepEqual(store.contents(), { images: [], partials: [] });
    // Faults are read per call: cleared, uploads work again.
    store.faults = {};
    const ok = await store.add(uuid(), chunkedSource(randomBytes(200_000)), { sizeCap: 1e9 });
    assert.equal(ok.size, 200_000);
  });

  it('fails with the error it is given', async () => {
    const store = new FakeStore();
    store.faults = { failAddAfterBytes: 0, error: () => new StorageFull() };
    await assert.rejects(
      store.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 }),
      StorageFull,
    );
  });

  it('fails deletes when told, keeping the data', async () => {
    const store = new FakeStore();
    const { location } = await store.add(uuid(), chunkedSource(randomBytes(10)), {
      sizeCap: 10,
    });
    store.faults.failDelete = true;
    await assert.rejects(store.delete(location), InjectedStoreFault);
    const custom = new Error('backend down');
    store.faults.failDelete = custom;
    await assert.rejects(store.delete(location), (err) => err === custom);
    assert.equal(await store.exists(location), true);
    store.faults.failDelete = false;
    await store.delete(location);
    assert.equal(await store.exists(location), false);
  });

  it('reads slowly when told', async () => {
    const store = new FakeStore({ type: 'fake', chunkSize: 1000 });
    const data = randomBytes(5000);
    const { location } = await store.add(uuid(), chunkedSource(data), { sizeCap: 5000 });
    store.faults.readDelayMs = 40;
    const started = Date.now();
    const back = await readAll(await store.get(location));
    const elapsed = Date.now() - started;
    assert.ok(back.equals(data));
    assert.ok(elapsed >= 5 * 40 - 10, `5 chunks at 40 ms took only ${elapsed} ms`);
  });

  it('fails a read partway when told, after the bytes before it', async () => {
    const store = new FakeStore({ type: 'fake', chunkSize: 1000 });
    const data = randomBytes(5000);
    const { location } = await store.add(uuid(), chunkedSource(data), { sizeCap: 5000 });
    store.faults.failReadAfterBytes = 2500;
    const received: Buffer[] = [];
    const stream = await store.get(location);
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) received.push(chunk as Buffer);
      })(),
      InjectedStoreFault,
    );
    assert.ok(Buffer.concat(received).equals(data.subarray(0, 2000)));
  });

  it('aborts a slow upload between writes', async () => {
    const store = new FakeStore();
    store.faults.writeDelayMs = 20;
    const controller = new AbortController();
    const source = generatedSource(1e9, { chunkSize: 64 * 1024 });
    const adding = store.add(uuid(), source, { sizeCap: 1e9, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(adding, (err) => err instanceof Error && err.name === 'AbortError');
    // A few write batches at most, not the gigabyte on offer.
    assert.ok(source.pulled < 8 * WRITE_BATCH, `pulled ${source.pulled}`);
    source.destroy();
    assert.deepEqual(store.contents(), { images: [], partials: [] });
  });

  it('keeps stores with different ids apart', async () => {
    const one = new FakeStore({ type: 'fake', id: 'one' });
    const two = new FakeStore({ type: 'fake', id: 'two' });
    const { location } = await one.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 });
    assert.ok(location.startsWith('fake://one/'));
    assert.equal(two.owns(location), false);
    await assert.rejects(two.get(location), InvalidStoreLocation);
  });
});
