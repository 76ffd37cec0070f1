import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ImageHarness } from '../testing/harness.js';
import { harness, listIds } from '../testing/fixtures.js';
import { MEMBER_QUOTA } from './members.js';

const members = (id: string) => `/v2/images/${id}/members`;

async function share(h: ImageHarness, id: string, member: string, token = 'member@p1') {
  return h.call(token, 'POST', members(id), { member });
}

describe('image members', () => {
  it('adds a pending member; the member accepts, then sees the image in its list', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const res = await share(h, image.id, 'p2');
    assert.equal(res.status, 200);
    assert.deepEqual(
      { ...res.body, created_at: undefined, updated_at: undefined },
      {
        image_id: image.id,
        member_id: 'p2',
        status: 'pending',
        schema: '/v2/schemas/member',
        created_at: undefined,
        updated_at: undefined,
      },
    );
    assert.match(res.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(await listIds(h, 'member@p2'), []);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=pending'), [image.id]);

    const accepted = await h.call('member@p2', 'PUT', `${members(image.id)}/p2`, {
      status: 'accepted',
    });
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.status, 'accepted');
    assert.equal(accepted.body.member_id, 'p2');
    assert.deepEqual(await listIds(h, 'member@p2'), [image.id]);
    const one = await h.call('member@p1', 'GET', `${members(image.id)}/p2`);
    assert.equal(one.status, 200);
    assert.equal(one.body.status, 'accepted');
  });

  it('lets only the member itself accept or reject', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await share(h, image.id, 'p2');
    await share(h, image.id, 'p3');
    const put = (token: string, member: string, status: unknown = 'accepted') =>
      h.call(token, 'PUT', `${members(image.id)}/${member}`, { status });
    assert.equal((await put('member@p1', 'p2')).status, 403);
    assert.equal((await put('reader@p1', 'p2')).status, 403);
    assert.equal((await put('member@p2', 'p3')).status, 403);
    assert.equal((await put('reader@p2', 'p2')).status, 403);
    assert.equal((await put('member@p4', 'p2')).status, 404);
    for (const token of ['member@p2', 'member@p3']) {
      const own = await h.call(token, 'GET', `${members(image.id)}/${token.slice(-2)}`);
      assert.equal(own.body.status, 'pending');
    }
    assert.equal((await put('member@p2', 'p2', 'rejected')).body.status, 'rejected');
    assert.equal((await put('member@p2', 'p2', 'pending')).body.status, 'pending');
  });

  it('refuses a bad status with 400', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await share(h, image.id, 'p2');
    for (const status of ['maybe', 'ACCEPTED', 1, null]) {
      const res = await h.call('member@p2', 'PUT', `${members(image.id)}/p2`, { status });
      assert.equal(res.status, 400, JSON.stringify(status));
    }
    const empty = await h.call('member@p2', 'PUT', `${members(image.id)}/p2`, {});
    assert.equal(empty.status, 400);
    assert.equal(
      (await h.call('member@p2', 'GET', `${members(image.id)}/p2`)).body.status,
      'pending',
    );
  });

  it('refuses a duplicate member with 409 and bad member ids with 400', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    assert.equal((await share(h, image.id, 'p2')).status, 200);
    assert.equal((await share(h, image.id, 'p2')).status, 409);
    for (const body of [{}, { member: '' }, { member: 5 }, { member: 'x'.repeat(256) }]) {
      const res = await h.call('member@p1', 'POST', members(image.id), body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 40));
    }
    const list = await h.call('member@p1', 'GET', members(image.id));
    assert.deepEqual(
      list.body.members.map((m: { member_id: string }) => m.member_id),
      ['p2'],
    );
  });

  it('answers 403 for members of images that are not shared', async (t) => {
    const h = await harness(t);
    for (const visibility of ['private', 'community']) {
      const image = await h.create('member@p1', { visibility });
      assert.equal((await share(h, image.id, 'p2')).status, 403, visibility);
      assert.equal((await h.call('member@p1', 'GET', members(image.id))).status, 403, visibility);
    }
    const pub = await h.create('admin@adm', { visibility: 'public' });
    assert.equal((await share(h, pub.id, 'p2', 'admin@adm')).status, 403);
    assert.equal((await h.call('admin@adm', 'GET', members(pub.id))).status, 403);
  });

  it('refuses member calls once the image is no longer shared', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await share(h, image.id, 'p2');
    await h.call('member@p2', 'PUT', `${members(image.id)}/p2`, { status: 'accepted' });
    const made = await h.call(
      'member@p1',
      'PATCH',
      `/v2/images/${image.id}`,
      [{ op: 'replace', path: '/visibility', value: 'private' }],
      { 'content-type': 'application/openstack-images-v2.1-json-patch' },
    );
    assert.equal(made.status, 200);
    // As Glance's image_members: show hides the member, the rest is forbidden.
    for (const token of ['member@p1', 'admin@adm']) {
      assert.equal((await h.call(token, 'GET', `${members(image.id)}/p2`)).status, 404, token);
      assert.equal((await h.call(token, 'GET', members(image.id))).status, 403, token);
      const put = await h.call(token, 'PUT', `${members(image.id)}/p2`, { status: 'rejected' });
      assert.equal(put.status, 403, token);
      assert.equal((await h.call(token, 'DELETE', `${members(image.id)}/p2`)).status, 403, token);
    }
    // Shared again, the membership is as it was.
    await h.call(
      'member@p1',
      'PATCH',
      `/v2/images/${image.id}`,
      [{ op: 'replace', path: '/visibility', value: 'shared' }],
      { 'content-type': 'application/openstack-images-v2.1-json-patch' },
    );
    const back = await h.call('member@p2', 'GET', `${members(image.id)}/p2`);
    assert.equal(back.body.status, 'accepted');
    assert.deepEqual(await listIds(h, 'member@p2'), [image.id]);
  });

  it('shows the owner every member and a member only itself; others get 404', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await share(h, image.id, 'p2');
    await share(h, image.id, 'p3');
    const ids = async (token: string) => {
      const res = await h.call(token, 'GET', members(image.id));
      assert.equal(res.status, 200, token);
      assert.equal(res.body.schema, '/v2/schemas/members');
      return res.body.members.map((m: { member_id: string }) => m.member_id).sort();
    };
    assert.deepEqual(await ids('member@p1'), ['p2', 'p3']);
    assert.deepEqual(await ids('reader@p1'), ['p2', 'p3']);
    assert.deepEqual(await ids('admin@adm'), ['p2', 'p3']);
    assert.deepEqual(await ids('member@p2'), ['p2']);
    assert.deepEqual(await ids('reader@p3'), ['p3']);
    assert.equal((await h.call('member@p2', 'GET', `${members(image.id)}/p3`)).status, 404);
    assert.equal((await h.call('member@p4', 'GET', members(image.id))).status, 404);
    assert.equal((await h.call('member@p4', 'GET', `${members(image.id)}/p2`)).status, 404);
    assert.equal((await h.call('member@p1', 'GET', `${members(image.id)}/p9`)).status, 404);
    assert.equal((await h.call('member@p1', 'GET', members(randomUUID()))).status, 404);
  });

  it('lets only the owner add or delete members', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await share(h, image.id, 'p2');
    assert.equal((await share(h, image.id, 'p3', 'member@p2')).status, 403);
    assert.equal((await share(h, image.id, 'p3', 'reader@p1')).status, 403);
    assert.equal((await h.call('member@p2', 'DELETE', `${members(image.id)}/p2`)).status, 403);
    assert.equal((await h.call('reader@p1', 'DELETE', `${members(image.id)}/p2`)).status, 403);
    assert.equal((await h.call('member@p3', 'DELETE', `${members(image.id)}/p2`)).status, 404);
    assert.equal((await share(h, image.id, 'p3', 'admin@adm')).status, 200);
  });

  it('deletes a member, which then loses sight of the image', async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    await share(h, image.id, 'p2');
    await h.call('member@p2', 'PUT', `${members(image.id)}/p2`, { status: 'accepted' });
    assert.deepEqual(await listIds(h, 'member@p2'), [image.id]);
    const res = await h.call('member@p1', 'DELETE', `${members(image.id)}/p2`);
    assert.equal(res.status, 204);
    assert.equal((await h.call('member@p1', 'DELETE', `${members(image.id)}/p2`)).status, 404);
    assert.equal((await h.call('member@p1', 'GET', `${members(image.id)}/p2`)).status, 404);
    assert.deepEqual(await listIds(h, 'member@p2', 'member_status=all'), []);
    assert.equal((await h.call('member@p2', 'GET', `/v2/images/${image.id}`)).status, 404);
    assert.deepEqual((await h.call('member@p1', 'GET', members(image.id))).body.members, []);
    // It can be shared again, pending once more.
    assert.equal((await share(h, image.id, 'p2')).body.status, 'pending');
  });

  it(`refuses more than ${MEMBER_QUOTA} members with 413`, async (t) => {
    const h = await harness(t);
    const image = await h.create('member@p1');
    const now = new Date();
    await h.db
      .insertInto('image_member')
      .values(
        Array.from({ length: MEMBER_QUOTA - 1 }, (_, i) => ({
          image_id: image.id,
          member: `filler-${i}`,
          status: 'pending' as const,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    assert.equal((await share(h, image.id, 'last')).status, 200);
    assert.equal((await share(h, image.id, 'one-too-many')).status, 413);
  });
});
