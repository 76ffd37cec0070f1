import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ImageHarness } from '../testing/harness.js';
import { activeImage, harness, listIds, rawBytes } from '../testing/fixtures.js';

/** Sets an image's created_at (and updated_at) to a known time. */
async function setTimes(h: ImageHarness, id: string, iso: string): Promise<void> {
  const at = new Date(iso);
  await h.db
    .updateTable('image')
    .set({ created_at: at, updated_at: at })
    .where('id', '=', id)
    .execute();
}

/** ids of `images` sorted as `ids` would be by `pick`. */
const same = (ids: string[], expected: string[]) =>
  assert.deepEqual([...ids].sort(), [...expected].sort());

describe('GET /v2/images filters', () => {
  it('filters on name, status, disk and container format, owner and id', async (t) => {
    const h = await harness(t);
    const a = await h.create('member@p1', { name: 'alpha', disk_format: 'qcow2' });
    const b = await activeImage(h, 'member@p1', rawBytes(100), { name: 'beta' });
    const c = await h.create('member@p1', { name: 'gamma', container_format: 'ovf' });
    const d = await h.create('member@p2', { name: 'alpha' });

    same(await listIds(h, 'member@p1', 'name=alpha'), [a.id]);
    same(await listIds(h, 'member@p1', 'name=nothing'), []);
    same(await listIds(h, 'member@p1', 'status=active'), [b.id]);
    same(await listIds(h, 'member@p1', 'status=queued'), [a.id, c.id]);
    same(await listIds(h, 'member@p1', 'disk_format=qcow2'), [a.id]);
    same(await listIds(h, 'member@p1', 'disk_format=raw'), [b.id, c.id]);
    same(await listIds(h, 'member@p1', 'container_format=ovf'), [c.id]);
    same(await listIds(h, 'member@p1', `id=${b.id}`), [b.id]);
    same(await listIds(h, 'admin@adm', 'owner=p2'), [d.id]);
    same(await listIds(h, 'admin@adm', 'name=alpha'), [a.id, d.id]);
    same(await listIds(h, 'member@p1', 'owner=p2'), []);
    same(await listIds(h, 'member@p1', 'name=in:"alpha","gamma"'), [a.id, c.id]);
    same(await listIds(h, 'member@p1', `name=${encodeURIComponent('in:"alpha","beta"')}`), [
      a.id,
      b.id,
    ]);
    same(await listIds(h, 'member@p1', 'name=in:beta,gamma'), [b.id, c.id]);
    same(await listIds(h, 'member@p1', `id=in:${a.id},${c.id}`), [a.id, c.id]);
    same(await listIds(h, 'member@p1', 'status=in:active,queued'), [a.id, b.id, c.id]);
  });

  it('matches names with commas inside quotes', async (t) => {
    const h = await harness(t);
    const a = await h.create('member@p1', { name: 'a,b' });
    await h.create('member@p1', { name: 'a' });
    const q = encodeURIComponent('in:"a,b",zzz');
    same(await listIds(h, 'member@p1', `name=${q}`), [a.id]);
  });

  it('ANDs several tags', async (t) => {
    const h = await harness(t);
    const ab = await h.create('member@p1', { tags: ['a', 'b'] });
    const a = await h.create('member@p1', { tags: ['a'] });
    await h.create('member@p1', { tags: ['b', 'c'] });
    same(await listIds(h, 'member@p1', 'tag=a'), [ab.id, a.id]);
    same(await listIds(h, 'member@p1', 'tag=a&tag=b'), [ab.id]);
    same(await listIds(h, 'member@p1', 'tag=a&tag=c'), []);
  });

  it('filters on size_min and size_max (inclusive)', async (t) => {
    const h = await harness(t);
    const small = await activeImage(h, 'member@p1', rawBytes(10));
    const mid = await activeImage(h, 'member@p1', rawBytes(100));
    const big = await activeImage(h, 'member@p1', rawBytes(1000));
    await h.create('member@p1'); // no size: never matches a size filter
    same(await listIds(h, 'member@p1', 'size_min=100'), [mid.id, big.id]);
    same(await listIds(h, 'member@p1', 'size_max=100'), [small.id, mid.id]);
    same(await listIds(h, 'member@p1', 'size_min=11&size_max=999'), [mid.id]);
    for (const q of ['size_min=abc', 'size_max=1.5']) {
      assert.equal((await h.call('member@p1', 'GET', `/v2/images?${q}`)).status, 400, q);
    }
  });

  it('filters on created_at and updated_at with operators', async (t) => {
    const h = await harness(t);
    const old = await h.create('member@p1');
    const mid = await h.create('member@p1');
    const recent = await h.create('member@p1');
    await setTimes(h, old.id, '2020-01-01T00:00:00Z');
    await setTimes(h, mid.id, '2021-06-01T12:00:00Z');
    await setTimes(h, recent.id, '2023-03-03T03:03:03Z');
    const q = (s: string) => listIds(h, 'member@p1', s);
    same(await q('created_at=gt:2021-06-01T12:00:00Z'), [recent.id]);
    same(await q('created_at=gte:2021-06-01T12:00:00Z'), [mid.id, recent.id]);
    same(await q('created_at=lte:2021-06-01T12:00:00Z'), [old.id, mid.id]);
    same(await q('created_at=lt:2021-06-01T12:00:00Z'), [old.id]);
    same(await q('created_at=eq:2021-06-01T12:00:00Z'), [mid.id]);
    same(await q('created_at=neq:2021-06-01T12:00:00Z'), [old.id, recent.id]);
    same(await q('created_at=gt:2020-06-01T00:00:00Z&updated_at=lt:2022-01-01T00:00:00Z'), [
      mid.id,
    ]);
    same(await q('updated_at=gt:2022-01-01T00:00:00Z'), [recent.id]);
    same(await q(`created_at=${encodeURIComponent('gt:2021-06-01T12:00:00+01:00')}`), [
      mid.id,
      recent.id,
    ]);
    for (const bad of ['created_at=yesterday', 'created_at=gt:', 'updated_at=foo:2020-01-01']) {
      assert.equal((await h.call('member@p1', 'GET', `/v2/images?${bad}`)).status, 400, bad);
    }
  });

  it('hides os_hidden images unless asked for them', async (t) => {
    const h = await harness(t);
    const shown = await h.create('member@p1');
    const hidden = await h.create('member@p1', { os_hidden: true });
    same(await listIds(h, 'member@p1'), [shown.id]);
    same(await listIds(h, 'member@p1', 'os_hidden=true'), [hidden.id]);
    same(await listIds(h, 'member@p1', 'os_hidden=false'), [shown.id]);
    assert.equal((await h.call('member@p1', 'GET', '/v2/images?os_hidden=maybe')).status, 400);
    // Hidden from lists only: it can still be shown.
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${hidden.id}`)).status, 200);
  });

  it('filters on protected and on custom properties', async (t) => {
    const h = await harness(t);
    const scsi = await h.create('member@p1', { hw_disk_bus: 'scsi', os_distro: 'ubuntu' });
    const virtio = await h.create('member@p1', { hw_disk_bus: 'virtio', os_distro: 'ubuntu' });
    const prot = await h.create('member@p1', { protected: true });
    same(await listIds(h, 'member@p1', 'hw_disk_bus=scsi'), [scsi.id]);
    same(await listIds(h, 'member@p1', 'os_distro=ubuntu'), [scsi.id, virtio.id]);
    same(await listIds(h, 'member@p1', 'os_distro=ubuntu&hw_disk_bus=virtio'), [virtio.id]);
    same(await listIds(h, 'member@p1', 'hw_disk_bus=ide'), []);
    same(await listIds(h, 'member@p1', 'protected=true'), [prot.id]);
    same(await listIds(h, 'member@p1', 'protected=false'), [scsi.id, virtio.id]);
  });

  it('refuses bad visibility and member_status values', async (t) => {
    const h = await harness(t);
    for (const q of ['visibility=everyone', 'member_status=maybe']) {
      assert.equal((await h.call('member@p1', 'GET', `/v2/images?${q}`)).status, 400, q);
    }
  });
});

describe('GET /v2/images sorting and paging', () => {
  /** Five images of p1 with known names and times: e (oldest) … a (newest). */
  async function fixture(h: ImageHarness) {
    const names = ['e', 'b', 'b', 'a', 'c'];
    const ids: string[] = [];
    for (const [i, name] of names.entries()) {
      const image = await h.create('member@p1', { name });
      await setTimes(h, image.id, `2022-01-0${i + 1}T00:00:00Z`);
      ids.push(image.id);
    }
    return ids;
  }

  it('sorts newest first by default', async (t) => {
    const h = await harness(t);
    const ids = await fixture(h);
    assert.deepEqual(await listIds(h, 'member@p1'), [...ids].reverse());
  });

  it('sorts by several keys with sort=key:dir,…', async (t) => {
    const h = await harness(t);
    const [e, b1, b2, a, c] = (await fixture(h)) as [string, string, string, string, string];
    assert.deepEqual(await listIds(h, 'member@p1', 'sort=name:asc,created_at:desc'), [
      a,
      b2,
      b1,
      c,
      e,
    ]);
    assert.deepEqual(await listIds(h, 'member@p1', 'sort=name:desc,created_at:asc'), [
      e,
      c,
      b1,
      b2,
      a,
    ]);
    // A key without a direction sorts descending, as Glance.
    assert.deepEqual(await listIds(h, 'member@p1', 'sort=name'), [e, c, b2, b1, a]);
  });

  it('sorts with sort_key and sort_dir', async (t) => {
    const h = await harness(t);
    const [e, b1, b2, a, c] = (await fixture(h)) as [string, string, string, string, string];
    assert.deepEqual(await listIds(h, 'member@p1', 'sort_key=name&sort_dir=asc'), [
      a,
      b1,
      b2,
      c,
      e,
    ]);
    assert.deepEqual(await listIds(h, 'member@p1', 'sort_key=created_at&sort_dir=asc'), [
      e,
      b1,
      b2,
      a,
      c,
    ]);
    // One sort_dir applies to every sort_key (Glance's _get_sorting_params).
    assert.deepEqual(
      await listIds(h, 'member@p1', 'sort_key=name&sort_key=created_at&sort_dir=asc'),
      [a, b1, b2, c, e],
    );
    assert.deepEqual(
      await listIds(h, 'member@p1', 'sort_key=name&sort_key=created_at&sort_dir=asc&sort_dir=desc'),
      [a, b2, b1, c, e],
    );
    // Without a sort_dir every key sorts descending.
    assert.deepEqual(await listIds(h, 'member@p1', 'sort_key=name&sort_key=created_at'), [
      e,
      c,
      b2,
      b1,
      a,
    ]);
  });

  it('refuses bad sort keys and directions, limits and markers with 400', async (t) => {
    const h = await harness(t);
    await fixture(h);
    for (const q of [
      'sort=nope:asc',
      'sort=name:up',
      'sort_key=owner_secret',
      'sort_key=name&sort_dir=sideways',
      'sort_key=name&sort_dir=asc&sort_dir=desc',
      'sort_key=name&sort_key=size&sort_key=id&sort_dir=asc&sort_dir=desc',
      'sort=name:asc&sort_key=name',
      'limit=-1',
      'limit=abc',
      'limit=1.5',
      `marker=${randomUUID()}`,
    ]) {
      const res = await h.call('member@p1', 'GET', `/v2/images?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.code, '400 Bad Request', q);
    }
  });

  it('refuses as marker an image the caller cannot see', async (t) => {
    const h = await harness(t);
    await fixture(h);
    const secret = await h.create('member@p2', { visibility: 'private' });
    const res = await h.call('member@p1', 'GET', `/v2/images?marker=${secret.id}`);
    assert.equal(res.status, 400);
    const own = await h.call('member@p2', 'GET', `/v2/images?marker=${secret.id}`);
    assert.equal(own.status, 200);
  });

  it('walks every image exactly once through the next links', async (t) => {
    const h = await harness(t);
    const ids: string[] = [];
    // Same names and the same creation time: only the id breaks the ties.
    for (let i = 0; i < 11; i++) {
      const image = await h.create('member@p1', { name: i % 2 ? 'odd' : 'even' });
      await setTimes(h, image.id, '2022-02-02T00:00:00Z');
      ids.push(image.id);
    }
    for (const query of [
      'limit=3',
      'limit=4&sort=name:asc',
      'limit=2&sort_key=name&sort_dir=desc',
      'limit=5&sort=created_at:asc,name:desc',
      'limit=1',
      'limit=11',
    ]) {
      const seen: string[] = [];
      let url: string | undefined = `/v2/images?${query}`;
      let pages = 0;
      while (url) {
        const res = await h.call('member@p1', 'GET', url);
        assert.equal(res.status, 200, url);
        // first repeats the query without its marker, as Glance.
        assert.equal(res.body.first, `/v2/images?${new URLSearchParams(query)}`);
        assert.equal(res.body.schema, '/v2/schemas/images');
        seen.push(...res.body.images.map((i: { id: string }) => i.id));
        url = res.body.next;
        if (url) assert.match(url, /^\/v2\/images\?.*marker=/);
        assert.ok(++pages <= 12, `${query}: too many pages`);
      }
      assert.equal(seen.length, ids.length, query);
      same(seen, ids);
      const whole = await listIds(h, 'member@p1', query.replace(/limit=\d+&?/, ''));
      assert.deepEqual(seen, whole, `${query}: the pages follow the unpaged order`);
    }
  });

  it('walks once through pages sorted by a key with NULLs (size of queued images)', async (t) => {
    const h = await harness(t);
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const image =
        i % 3 === 0
          ? await h.create('member@p1')
          : await activeImage(h, 'member@p1', rawBytes(100 * (i % 4) + 1));
      await setTimes(h, image.id, `2022-03-0${1 + (i % 2)}T00:00:00Z`);
      ids.push(image.id);
    }
    for (const sort of ['size:asc', 'size:desc', 'size:asc,name:desc', 'disk_format:desc']) {
      const whole = await listIds(h, 'member@p1', `sort=${sort}`);
      same(whole, ids);
      for (const limit of [1, 2, 4]) {
        const seen: string[] = [];
        let url: string | undefined = `/v2/images?sort=${sort}&limit=${limit}`;
        while (url) {
          const res = await h.call('member@p1', 'GET', url);
          assert.equal(res.status, 200, url);
          seen.push(...res.body.images.map((i: { id: string }) => i.id));
          url = res.body.next;
          assert.ok(seen.length <= ids.length + limit, `${sort} ${limit}: runaway`);
        }
        assert.deepEqual(seen, whole, `sort=${sort} limit=${limit}`);
      }
    }
  });

  it('pages by limit_param_default and caps a limit at api_limit_max', async (t) => {
    const h = await harness(t, { settings: { limit_param_default: 2, api_limit_max: 3 } });
    for (let i = 0; i < 5; i++) await h.create('member@p1');
    const first = await h.call('member@p1', 'GET', '/v2/images');
    assert.equal(first.body.images.length, 2);
    assert.ok(first.body.next);
    const capped = await h.call('member@p1', 'GET', '/v2/images?limit=100');
    assert.equal(capped.body.images.length, 3);
    const none = await h.call('member@p1', 'GET', '/v2/images?limit=0');
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.images, []);
    assert.equal(none.body.next, undefined);
  });
});
