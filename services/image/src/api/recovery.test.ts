import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setProperty } from '../core/import.js';
import { recoverInterrupted } from '../core/recovery.js';
import { createTask } from '../core/tasks.js';
import type { ImageTable } from '../db/schema.js';
import type { ImageHarness } from '../testing/harness.js';
import {
  activeImage,
  harness,
  imageRow,
  md5,
  rawBytes,
  show,
  stagingFiles,
  storeFiles,
} from '../testing/fixtures.js';

const DEAD = 'other-host:4242:deadbeef';
const LONG_AGO = () => new Date(Date.now() - 10 * 60_000);

/** Makes the image look claimed by another process: `status`, `worker`, `heartbeat_at`. */
async function claimedBy(
  h: ImageHarness,
  id: string,
  status: ImageTable['status'],
  worker = DEAD,
  heartbeat: Date | null = LONG_AGO(),
): Promise<void> {
  await h.db
    .updateTable('image')
    .set({ status, worker, heartbeat_at: heartbeat })
    .where('id', '=', id)
    .execute();
}

/** An import task of the image, as an import in flight leaves it. */
async function inFlightTask(h: ImageHarness, imageId: string): Promise<string> {
  const task = await createTask(h.service, {
    type: 'api_image_import',
    owner: 'p1',
    input: { image_id: imageId, import_req: { method: { name: 'glance-direct' } } },
    imageId,
    requestId: 'req-00000000-0000-0000-0000-000000000000',
    userId: 'user-member-p1',
    status: 'processing',
  });
  await setProperty(h.service, imageId, 'os_glance_import_task', task.id);
  await setProperty(h.service, imageId, 'os_glance_importing_to_stores', 'file');
  return task.id;
}

async function taskStatus(h: ImageHarness, id: string) {
  return h.db
    .selectFrom('task')
    .select(['status', 'message'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

describe('recoverInterrupted', () => {
  it('puts an upload of a dead process back to queued', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await claimedBy(h, image.id, 'saving');
    await h.db.updateTable('image').set({ size: 123 }).where('id', '=', image.id).execute();
    assert.deepEqual(await recoverInterrupted(h.service), [image.id]);
    const row = await imageRow(h, image.id);
    assert.equal(row.status, 'queued');
    assert.equal(row.worker, null);
    assert.equal(row.heartbeat_at, null);
    assert.equal(row.size, null);
    // Recovered once: a second pass finds nothing.
    assert.deepEqual(await recoverInterrupted(h.service), []);
    const data = rawBytes(500);
    assert.equal((await h.upload('member@p1', image.id, data)).status, 204);
    assert.equal((await show(h, 'member@p1', image.id)).checksum, md5(data));
  });

  it('leaves live claims alone: a fresh heartbeat, or this process’s own', async (t) => {
    const h = await harness(t);
    const fresh = await h.create('member@p1');
    const mine = await h.create('member@p1');
    await claimedBy(h, fresh.id, 'saving', DEAD, new Date());
    await claimedBy(h, mine.id, 'saving', h.service.worker);
    assert.deepEqual(await recoverInterrupted(h.service), []);
    assert.equal((await imageRow(h, fresh.id)).status, 'saving');
    assert.equal((await imageRow(h, mine.id)).status, 'saving');
    // A claim without a heartbeat at all is dead.
    await claimedBy(h, fresh.id, 'saving', DEAD, null);
    assert.deepEqual(await recoverInterrupted(h.service), [fresh.id]);
  });

  it('leaves staged images waiting for their import alone', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await h.call('member@p1', 'PUT', `/v2/images/${image.id}/stage`, rawBytes(100));
    await h.db
      .updateTable('image')
      .set({ updated_at: LONG_AGO() })
      .where('id', '=', image.id)
      .execute();
    assert.deepEqual(await recoverInterrupted(h.service), []);
    assert.equal((await imageRow(h, image.id)).status, 'uploading');
    assert.deepEqual(stagingFiles(h), [image.id]);
  });

  it('recovers claims of this host’s previous life by their prefix', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await claimedBy(h, image.id, 'saving', 'test-host:1:cafe', new Date());
    assert.deepEqual(await recoverInterrupted(h.service), []);
    assert.deepEqual(await recoverInterrupted(h.service, { deadWorkerPrefix: 'test-host:' }), [
      image.id,
    ]);
    assert.equal((await imageRow(h, image.id)).status, 'queued');
  });

  it('puts an import whose staged data survived back to uploading, failing its task', async (t) => {
    const h = await harness(t);
    const data = rawBytes(4000, 6);
    const image = await h.create('member@p1');
    assert.equal(
      (await h.call('member@p1', 'PUT', `/v2/images/${image.id}/stage`, data)).status,
      204,
    );
    const taskId = await inFlightTask(h, image.id);
    await claimedBy(h, image.id, 'importing');
    assert.deepEqual(await recoverInterrupted(h.service), [image.id]);

    const shown = await show(h, 'member@p1', image.id);
    assert.equal(shown.status, 'uploading');
    // Emptied or gone, as Glance leaves them after an import.
    assert.ok(!shown.os_glance_import_task);
    assert.ok(!shown.os_glance_importing_to_stores);
    const task = await taskStatus(h, taskId);
    assert.equal(task.status, 'failure');
    assert.notEqual(task.message, '');
    assert.deepEqual(stagingFiles(h), [image.id]);

    // The staged data can be imported again.
    const res = await h.call('member@p1', 'POST', `/v2/images/${image.id}/import`, {
      method: { name: 'glance-direct' },
    });
    assert.equal(res.status, 202);
    await h.drain();
    const done = await show(h, 'member@p1', image.id);
    assert.equal(done.status, 'active');
    assert.equal(done.checksum, md5(data));
    assert.deepEqual(stagingFiles(h), []);
  });

  it('puts an import without staged data back to queued and drops its copies', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const taskId = await inFlightTask(h, image.id);
    // A copy the dead import had already written to the store.
    const stored = join(h.dataDir, 'images', 'file');
    mkdirSync(stored, { recursive: true });
    writeFileSync(join(stored, image.id), rawBytes(100));
    await h.db
      .updateTable('image')
      .set({
        locations: JSON.stringify([
          { url: `file://${join(stored, image.id)}`, store: 'file', metadata: {} },
        ]),
      })
      .where('id', '=', image.id)
      .execute();
    await claimedBy(h, image.id, 'importing');
    assert.deepEqual(await recoverInterrupted(h.service), [image.id]);
    const row = await imageRow(h, image.id);
    assert.equal(row.status, 'queued');
    assert.equal(row.locations, '[]');
    assert.deepEqual(storeFiles(h), []);
    assert.equal((await taskStatus(h, taskId)).status, 'failure');
  });

  it('puts a staging of a dead process back to queued and removes what it staged', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await h.call('member@p1', 'PUT', `/v2/images/${image.id}/stage`, rawBytes(100));
    await claimedBy(h, image.id, 'uploading');
    assert.deepEqual(await recoverInterrupted(h.service), [image.id]);
    assert.equal((await imageRow(h, image.id)).status, 'queued');
    assert.deepEqual(stagingFiles(h), []);
  });

  it('leaves a copied image active and its data in place', async (t) => {
    const h = await harness(t);
    const image = await activeImage(h, 'member@p1');
    await claimedBy(h, image.id, 'active');
    assert.deepEqual(await recoverInterrupted(h.service), [image.id]);
    const row = await imageRow(h, image.id);
    assert.equal(row.status, 'active');
    assert.equal(row.worker, null);
    assert.deepEqual(storeFiles(h), [image.id]);
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}/file`)).status, 200);
  });

  it('removes stale partial files from the stores and the staging area', async (t) => {
    const h = await harness(t);
    const stored = join(h.dataDir, 'images', 'file');
    const staging = join(h.dataDir, 'image-staging');
    const old = new Date(Date.now() - 3600_000);
    for (const dir of [stored, staging]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'dead.partial'), rawBytes(10));
      utimesSync(join(dir, 'dead.partial'), old, old);
      writeFileSync(join(dir, 'young.partial'), rawBytes(10));
    }
    await recoverInterrupted(h.service);
    assert.deepEqual(storeFiles(h), ['young.partial']);
    assert.deepEqual(stagingFiles(h), ['young.partial']);
  });
});
