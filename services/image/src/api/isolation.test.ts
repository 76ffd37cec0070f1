import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageHarness } from '../testing/harness.js';
import { activeImage, harness, listIds, patch, rawBytes, storeFiles } from '../testing/fixtures.js';

const sorted = (ids: string[]) => [...ids].sort();

/** One image of each visibility, owned by p1 and active. */
async function visibilities(h: ImageHarness) {
  const pub = await activeImage(h, 'admin@adm', rawBytes(10), {
    name: 'public',
    visibility: 'public',
    owner: 'p1',
  });
  const priv = await activeImage(h, 'member@p1', rawBytes(11), {
    name: 'private',
    visibility: 'private',
  });
  const shared = await activeImage(h, 'member@p1', rawBytes(12), { name: 'shared' });
  const community = await activeImage(h, 'member@p1', rawBytes(13), {
    name: 'community',
    visibility: 'community',
  });
  return { pub: pub.id, priv: priv.id, shared: shared.id, community: community.id };
}

describe('private images', () => {
  it('are invisible to other projects in every API', async (t) => {
    const h = await harness(t);
    const image = await activeImage(h, 'member@p1', rawBytes(100), { visibility: 'private' });
    const queued = await h.create('member@p1', { visibility: 'private' });
    assert.deepEqual(await listIds(h, 'member@p2'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=private'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=all'), []);
    assert.deepEqual(await listIds(h, 'member@p2', `id=${image.id}`), []);
    const calls: Array<[string, string, unknown?, Record<string, string>?]> = [
      ['GET', `/v2/images/${image.id}`],
      ['GET', `/v2/images/${image.id}/file`],
      ['DELETE', `/v2/images/${image.id}`],
      [
        'PATCH',
        `/v2/images/${image.id}`,
        [{ op: 'replace', path: '/name', value: 'stolen' }],
        { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      ],
      ['PUT', `/v2/images/${queued.id}/file`, rawBytes(10)],
      ['PUT', `/v2/images/${queued.id}/stage`, rawBytes(10)],
      ['PUT', `/v2/images/${image.id}/tags/x`],
      ['DELETE', `/v2/images/${image.id}/tags/x`],
      ['POST', `/v2/images/${image.id}/actions/deactivate`],
      ['POST', `/v2/images/${image.id}/actions/reactivate`],
      ['GET', `/v2/images/${image.id}/members`],
      ['POST', `/v2/images/${image.id}/members`, { member: 'p2' }],
      ['GET', `/v2/images/${image.id}/tasks`],
      ['POST', `/v2/images/${queued.id}/import`, { method: { name: 'glance-direct' } }],
    ];
    for (const token of ['member@p2', 'reader@p2']) {
      for (const [method, url, body, headers] of calls) {
        const res = await h.call(token, method, url, body, headers);
        assert.equal(res.status, 404, `${token} ${method} ${url}`);
      }
    }
    const shown = await h.call('member@p1', 'GET', `/v2/images/${image.id}`);
    assert.equal(shown.body.name, 'test');
    assert.equal(shown.body.status, 'active');
    assert.equal(
      (await h.call('member@p1', 'GET', `/v2/images/${queued.id}`)).body.status,
      'queued',
    );
    assert.deepEqual(storeFiles(h), [image.id]);
  });

  it('are visible to readers of the owning project, who may not change them', async (t) => {
    const h = await harness(t);
    const image = await activeImage(h, 'member@p1', rawBytes(100), { visibility: 'private' });
    assert.deepEqual(await listIds(h, 'reader@p1'), [image.id]);
    assert.equal((await h.call('reader@p1', 'GET', `/v2/images/${image.id}`)).status, 200);
    // download_image needs the member role.
    assert.equal((await h.call('reader@p1', 'GET', `/v2/images/${image.id}/file`)).status, 403);
    assert.equal((await h.call('reader@p1', 'DELETE', `/v2/images/${image.id}`)).status, 403);
    const queued = await h.create('member@p1');
    assert.equal((await h.upload('reader@p1', queued.id, rawBytes(10))).status, 403);
    assert.equal(
      (await h.call('member@p1', 'GET', `/v2/images/${queued.id}`)).body.status,
      'queued',
    );
  });
});

describe('list visibility (Glance _select_images_query)', () => {
  it('shows an owner all its images but community ones of others only on request', async (t) => {
    const h = await harness(t);
    const v = await visibilities(h);
    assert.deepEqual(
      sorted(await listIds(h, 'member@p1')),
      sorted([v.pub, v.priv, v.shared, v.community]),
    );
    assert.deepEqual(await listIds(h, 'member@p2'), [v.pub]);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=community'), [v.community]);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=public'), [v.pub]);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=shared'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=private'), []);
    assert.deepEqual(
      sorted(await listIds(h, 'member@p2', 'visibility=all')),
      sorted([v.pub, v.community]),
    );
    assert.deepEqual(await listIds(h, 'member@p1', 'visibility=private'), [v.priv]);
    assert.deepEqual(await listIds(h, 'member@p1', 'visibility=shared'), [v.shared]);
  });

  it('shows public and community images to every project, and only public ones change hands', async (t) => {
    const h = await harness(t);
    const v = await visibilities(h);
    for (const id of [v.pub, v.community]) {
      const res = await h.call('member@p2', 'GET', `/v2/images/${id}`);
      assert.equal(res.status, 200);
      const file = await h.call('member@p2', 'GET', `/v2/images/${id}/file`);
      assert.equal(file.status, 200);
      assert.equal(file.raw.length, res.body.size);
      // Seeing is not owning.
      const p = await patch(h, 'member@p2', id, [{ op: 'replace', path: '/name', value: 'x' }]);
      assert.equal(p.status, 403);
      assert.equal((await h.call('member@p2', 'DELETE', `/v2/images/${id}`)).status, 403);
      assert.equal((await h.call('member@p2', 'PUT', `/v2/images/${id}/tags/x`)).status, 403);
    }
    for (const id of [v.priv, v.shared]) {
      assert.equal((await h.call('member@p2', 'GET', `/v2/images/${id}`)).status, 404);
    }
  });

  it('lets an admin list every image but others’ community ones by default', async (t) => {
    const h = await harness(t);
    const v = await visibilities(h);
    const p2 = await h.create('member@p2', { visibility: 'private' });
    const mine = await h.create('admin@adm', { visibility: 'community' });
    assert.deepEqual(
      sorted(await listIds(h, 'admin@adm')),
      sorted([v.pub, v.priv, v.shared, p2.id, mine.id]),
    );
    assert.deepEqual(
      sorted(await listIds(h, 'admin@adm', 'visibility=all')),
      sorted([v.pub, v.priv, v.shared, v.community, p2.id, mine.id]),
    );
    assert.deepEqual(
      sorted(await listIds(h, 'admin@adm', 'visibility=community')),
      sorted([v.community, mine.id]),
    );
    for (const id of Object.values(v))
      assert.equal((await h.call('admin@adm', 'GET', `/v2/images/${id}`)).status, 200);
  });

  it('shows a shared image to a member by its membership status', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const lonely = await h.create('member@p1');
    assert.equal(
      (await h.call('member@p1', 'POST', `/v2/images/${image.id}/members`, { member: 'p2' }))
        .status,
      200,
    );
    const status = async (s: string) =>
      h.call('member@p2', 'PUT', `/v2/images/${image.id}/members/p2`, { status: s });

    // pending: shown by id, listed only when asked for pending (or all) memberships.
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${image.id}`)).status, 200);
    assert.deepEqual(await listIds(h, 'member@p2'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=pending'), [image.id]);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=all'), [image.id]);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=rejected'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=shared'), []);

    assert.equal((await status('accepted')).status, 200);
    assert.deepEqual(await listIds(h, 'member@p2'), [image.id]);
    assert.deepEqual(await listIds(h, 'member@p2', 'visibility=shared'), [image.id]);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=pending'), []);
    assert.deepEqual(await listIds(h, 'reader@p2'), [image.id]);

    assert.equal((await status('rejected')).status, 200);
    assert.deepEqual(await listIds(h, 'member@p2'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=rejected'), [image.id]);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=all'), [image.id]);
    // A rejected share can still be looked at by id.
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${image.id}`)).status, 200);

    // The owner lists its shared images whatever member_status says.
    assert.deepEqual(
      sorted(await listIds(h, 'member@p1', 'member_status=rejected')),
      sorted([image.id, lonely.id]),
    );
    // Other projects see neither.
    for (const token of ['member@p3', 'member@p2']) {
      assert.equal((await h.call(token, 'GET', `/v2/images/${lonely.id}`)).status, 404, token);
    }
    assert.equal((await h.call('member@p3', 'GET', `/v2/images/${image.id}`)).status, 404);
    assert.deepEqual(await listIds(h, 'member@p3', 'member_status=all'), []);
  });

  it('lets a member download a shared image it accepted, but not change it', async (t) => {
    const h = await harness(t);
    const data = rawBytes(3000, 5);
    const image = await activeImage(h, 'member@p1', data);
    await h.call('member@p1', 'POST', `/v2/images/${image.id}/members`, { member: 'p2' });
    await h.call('member@p2', 'PUT', `/v2/images/${image.id}/members/p2`, { status: 'accepted' });
    const file = await h.call('member@p2', 'GET', `/v2/images/${image.id}/file`);
    assert.equal(file.status, 200);
    assert.ok(file.raw.equals(data));
    const p = await patch(h, 'member@p2', image.id, [{ op: 'replace', path: '/name', value: 'x' }]);
    assert.equal(p.status, 403);
    assert.equal((await h.call('member@p2', 'DELETE', `/v2/images/${image.id}`)).status, 403);
    assert.equal(
      (await h.call('member@p2', 'POST', `/v2/images/${image.id}/actions/deactivate`)).status,
      403,
    );
    assert.equal((await h.call('member@p1', 'GET', `/v2/images/${image.id}`)).body.name, 'test');
  });

  it('hides a shared image again when the owner makes it private', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await h.call('member@p1', 'POST', `/v2/images/${image.id}/members`, { member: 'p2' });
    await h.call('member@p2', 'PUT', `/v2/images/${image.id}/members/p2`, { status: 'accepted' });
    assert.deepEqual(await listIds(h, 'member@p2'), [image.id]);
    const p = await patch(h, 'member@p1', image.id, [
      { op: 'replace', path: '/visibility', value: 'private' },
    ]);
    assert.equal(p.status, 200);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=all'), []);
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${image.id}`)).status, 404);
  });
});
