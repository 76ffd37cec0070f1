import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { describeEachDatabase } from '@stratus/db/testing';
import { recoverInterrupted } from '../core/recovery.js';
import type { ImageSchema } from '../db/schema.js';
import { md5, patch, rawBytes } from '../testing/fixtures.js';
import { imageHarness, type ImageHarness } from '../testing/harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are read loosely in tests */

/**
 * The image API on SQLite, PostgreSQL and MariaDB: the migrations, and every query
 * shape the service uses (visibility subqueries, property and tag filters, keyset
 * paging on qualified columns, counts and sums, booleans, timestamps) once on each.
 */
describeEachDatabase('image API', (ctx) => {
  let h: ImageHarness;
  const ids = (res: { body: any }) => (res.body.images as Array<{ id: string }>).map((i) => i.id);

  it('migrates and serves the image lifecycle', async () => {
    const database = await ctx.open<ImageSchema>();
    h = await imageHarness({ database });
    after(() => h.close());

    const a = await h.create('member@p1', { name: 'a', tags: ['x', 'y'], k: 'v' });
    const b = await h.create('member@p1', { name: 'b', os_hidden: true });
    const c = await h.create('member@p1', { name: 'c', visibility: 'private', tags: ['x'] });
    const data = rawBytes(200_000);
    assert.equal((await h.upload('member@p1', a.id, data)).status, 204);
    const shown = (await h.call('member@p1', 'GET', `/v2/images/${a.id}`)).body;
    assert.equal(shown.status, 'active');
    assert.equal(shown.checksum, md5(data));
    assert.equal(shown.size, data.length);
    assert.equal(shown.protected, false);

    const list = (q: string, token = 'member@p1') => h.call(token, 'GET', `/v2/images?${q}`);
    assert.deepEqual(ids(await list('sort=name:asc')), [a.id, c.id]);
    assert.deepEqual(ids(await list('tag=x&tag=y')), [a.id]);
    assert.deepEqual(ids(await list('k=v')), [a.id]);
    assert.deepEqual(ids(await list(`size_min=${data.length}`)), [a.id]);
    assert.deepEqual(ids(await list('os_hidden=true')), [b.id]);
    assert.deepEqual(
      ids(await list('created_at=gt:2000-01-01T00:00:00Z&sort_key=name&sort_dir=desc')),
      [c.id, a.id],
    );
    assert.deepEqual(ids(await list('name=in:"a","c"&sort=name:asc')), [a.id, c.id]);
    const page1 = await list('limit=1&sort=name:asc');
    assert.deepEqual(ids(page1), [a.id]);
    const page2 = await h.call('member@p1', 'GET', page1.body.next);
    assert.deepEqual(ids(page2), [c.id]);

    // Sharing: p2 sees a shared image only once it accepted it.
    assert.deepEqual(ids(await list('', 'member@p2')), []);
    assert.equal(
      (await h.call('member@p1', 'POST', `/v2/images/${a.id}/members`, { member: 'p2' })).status,
      200,
    );
    assert.deepEqual(ids(await list('member_status=pending', 'member@p2')), [a.id]);
    assert.equal(
      (await h.call('member@p2', 'PUT', `/v2/images/${a.id}/members/p2`, { status: 'accepted' }))
        .status,
      200,
    );
    assert.deepEqual(ids(await list('', 'member@p2')), [a.id]);
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${c.id}`)).status, 404);

    const patched = await patch(h, 'member@p1', a.id, [
      { op: 'replace', path: '/protected', value: true },
      { op: 'remove', path: '/k' },
    ]);
    assert.equal(patched.status, 200);
    assert.equal(patched.body.protected, true);
    assert.equal((await h.call('member@p1', 'DELETE', `/v2/images/${a.id}`)).status, 403);

    // Import through staging, with its task; the usage sums and counts.
    const staged = await h.create('member@p1', { name: 'staged' });
    const stage = await h.call('member@p1', 'PUT', `/v2/images/${staged.id}/stage`, rawBytes(5000));
    assert.equal(stage.status, 204);
    const imp = await h.call('member@p1', 'POST', `/v2/images/${staged.id}/import`, {
      method: { name: 'glance-direct' },
    });
    assert.equal(imp.status, 202);
    await h.drain();
    assert.equal(
      (await h.call('member@p1', 'GET', `/v2/images/${staged.id}`)).body.status,
      'active',
    );
    const tasks = await h.call('admin@adm', 'GET', '/v2/tasks?limit=1');
    assert.equal(tasks.status, 200);
    assert.equal(tasks.body.tasks[0].status, 'success');
    const usage = (await h.call('member@p1', 'GET', '/v2/info/usage')).body.usage;
    assert.equal(usage.image_count_total.usage, 4);
    assert.equal(usage.image_size_total.usage, 1);

    // A dead upload is put back.
    await h.db
      .updateTable('image')
      .set({ status: 'saving', worker: 'gone:1:x', heartbeat_at: new Date(0) })
      .where('id', '=', b.id)
      .execute();
    assert.deepEqual(await recoverInterrupted(h.service), [b.id]);
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${b.id}`)).body.status, 'queued');

    // Metadata definitions.
    const ns = await h.call('admin@p1', 'POST', '/v2/metadefs/namespaces', {
      namespace: 'OS::Test',
      visibility: 'public',
      properties: { speed: { type: 'string', title: 'Speed' } },
      objects: [{ name: 'o1', properties: {} }],
      tags: [{ name: 't1' }],
    });
    assert.equal(ns.status, 201, JSON.stringify(ns.body));
    const shownNs = await h.call('member@p2', 'GET', '/v2/metadefs/namespaces/OS::Test');
    assert.equal(shownNs.status, 200);
    assert.equal(shownNs.body.properties.speed.title, 'Speed');
    assert.equal(
      (await h.call('admin@p1', 'DELETE', '/v2/metadefs/namespaces/OS::Test')).status,
      204,
    );
  });
});
