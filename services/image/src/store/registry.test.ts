import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError, uuid } from '@stratus/common';
import { tempDir } from '@stratus/testkit';
import { chunkedSource } from './conformance.js';
import type { StoreConfig } from './registry.js';
import { InvalidStoreLocation, UnknownImageStore } from './errors.js';
import { FakeStore } from './fake.js';
import { FileStore } from './file.js';
import { ImageStores, createStore, createStores, storeTypes } from './registry.js';

describe('image store registry', () => {
  it('creates each driver by its config type', (t) => {
    const dir = tempDir((fn) => t.after(fn));
    assert.deepEqual([...storeTypes].sort(), ['fake', 'file']);
    const file = createStore({ type: 'file', dir, id: 'local', isDefault: true });
    assert.ok(file instanceof FileStore);
    assert.deepEqual(file.descriptor, {
      id: 'local',
      type: 'file',
      description: `Images in files under ${dir}`,
      isDefault: true,
    });
    assert.ok(createStore({ type: 'fake' }) instanceof FakeStore);
  });

  it('refuses unknown types and bad settings with a message naming the problem', () => {
    assert.throws(
      () => createStore({ type: 'rbd' } as unknown as StoreConfig),
      (err) => err instanceof ValidationError && /"rbd".*file, fake|fake, file/.test(err.message),
    );
    assert.throws(() => createStore({ type: 'file', dir: '' }), ValidationError);
    assert.throws(() => createStore({ type: 'fake', chunkSize: 0 }), ValidationError);
  });

  it('routes locations to the store that holds them; lists stores for /v2/info/stores', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const stores = createStores([
      { type: 'file', id: 'fast', dir: join(dir, 'fast'), description: 'Fast' },
      { type: 'fake', id: 'cheap', isDefault: true },
    ]);
    assert.equal(stores.default.descriptor.id, 'cheap');
    assert.deepEqual(
      stores.descriptors().map((d) => [d.id, d.type, d.isDefault]),
      [
        ['fast', 'file', false],
        ['cheap', 'fake', true],
      ],
    );
    const fast = stores.get('fast');
    const { location } = await fast.add(uuid(), chunkedSource(randomBytes(10)), { sizeCap: 10 });
    assert.equal(stores.forLocation(location), fast);
    const cheap = await stores.default.add(uuid(), chunkedSource(randomBytes(10)), {
      sizeCap: 10,
    });
    assert.equal(stores.forLocation(cheap.location), stores.default);
    assert.throws(() => stores.forLocation('rbd://pool/x'), InvalidStoreLocation);
    assert.throws(
      () => stores.get('slow'),
      (err) => err instanceof UnknownImageStore && err.status === 400,
    );
  });

  it('needs one default among several stores, and unique ids', () => {
    assert.equal(createStores([{ type: 'fake', id: 'only' }]).default.descriptor.id, 'only');
    assert.equal(createStores([{ type: 'fake', id: 'only' }]).descriptors()[0]?.isDefault, true);
    assert.throws(
      () =>
        createStores([
          { type: 'fake', id: 'a' },
          { type: 'fake', id: 'b' },
        ]),
      /one must be the default/,
    );
    assert.throws(
      () =>
        createStores([
          { type: 'fake', id: 'a', isDefault: true },
          { type: 'fake', id: 'b', isDefault: true },
        ]),
      /Only one image store can be the default, not a, b/,
    );
    assert.throws(
      () =>
        createStores([
          { type: 'fake', id: 'a', isDefault: true },
          { type: 'fake', id: 'a' },
        ]),
      /Two image stores have the id a/,
    );
    assert.throws(() => new ImageStores([]), ValidationError);
  });

  it('cleans up stale partial uploads in every store', async () => {
    const one = new FakeStore({ type: 'fake', id: 'one', isDefault: true });
    const two = new FakeStore({ type: 'fake', id: 'two' });
    one.plantStalePartial('img-1');
    two.plantStalePartial('img-2');
    const stores = new ImageStores([one, two]);
    assert.deepEqual(await stores.cleanupPartials(), { one: ['img-1'], two: ['img-2'] });
    assert.deepEqual(one.contents().partials, []);
  });
});
