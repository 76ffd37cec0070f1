import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNamespace, metadefHarness, NS } from './testing.js';

const names = (body: { tags: Array<{ name: string }> }) => body.tags.map((t) => t.name);

describe('metadef tags', () => {
  it('creates several tags, lists them, and deletes them all (Tempest’s flow)', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const tags = `${NS}/ns/tags`;
    const body = {
      tags: [{ name: 'sample-tag1' }, { name: 'sample-tag2' }, { name: 'sample-tag3' }],
    };
    const created = await h.call('admin@p1', 'POST', tags, body);
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, body);
    const list = await h.call('admin@p1', 'GET', tags);
    assert.equal(list.status, 200);
    assert.deepEqual(names(list.body).sort(), ['sample-tag1', 'sample-tag2', 'sample-tag3']);
    assert.equal((await h.call('admin@p1', 'DELETE', tags)).status, 204);
    assert.deepEqual((await h.call('admin@p1', 'GET', tags)).body, { tags: [] });
  });

  it('replaces the tags, or adds to them with X-Openstack-Append', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', { tags: [{ name: 'old' }] });
    const tags = `${NS}/ns/tags`;
    await h.call('admin@p1', 'POST', tags, { tags: [{ name: 'a' }] });
    assert.deepEqual(names((await h.call('admin@p1', 'GET', tags)).body), ['a']);
    const appended = await h.call(
      'admin@p1',
      'POST',
      tags,
      { tags: [{ name: 'b' }] },
      {
        'x-openstack-append': 'True',
      },
    );
    assert.equal(appended.status, 201);
    assert.deepEqual(
      names((await h.call('admin@p1', 'GET', `${tags}?sort_key=name&sort_dir=asc`)).body),
      ['a', 'b'],
    );
    const clash = await h.call(
      'admin@p1',
      'POST',
      tags,
      { tags: [{ name: 'b' }] },
      {
        'x-openstack-append': 'true',
      },
    );
    assert.equal(clash.status, 409);
    const twice = await h.call('admin@p1', 'POST', tags, { tags: [{ name: 'c' }, { name: 'c' }] });
    assert.equal(twice.status, 409);
    // A refused batch changes nothing.
    assert.deepEqual(
      names((await h.call('admin@p1', 'GET', `${tags}?sort_key=name&sort_dir=asc`)).body),
      ['a', 'b'],
    );
  });

  it('creates, shows, renames and deletes one tag', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const tags = `${NS}/ns/tags`;
    // Tempest posts with a JSON content type and no body.
    const created = await h.call('admin@p1', 'POST', `${tags}/tag_name-1`, undefined, {
      'content-type': 'application/json',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'tag_name-1');
    assert.match(created.body.created_at, /Z$/);
    assert.equal((await h.call('admin@p1', 'POST', `${tags}/tag_name-1`)).status, 409);

    const shown = await h.call('admin@p1', 'GET', `${tags}/tag_name-1`);
    assert.deepEqual(shown.body, created.body);

    const renamed = await h.call('admin@p1', 'PUT', `${tags}/tag_name-1`, { name: 'update-tag' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'update-tag');
    assert.equal((await h.call('admin@p1', 'GET', `${tags}/tag_name-1`)).status, 404);

    assert.equal((await h.call('admin@p1', 'DELETE', `${tags}/update-tag`)).status, 204);
    assert.deepEqual((await h.call('admin@p1', 'GET', tags)).body, { tags: [] });
    assert.equal((await h.call('admin@p1', 'DELETE', `${tags}/update-tag`)).status, 404);
  });

  it('refuses a rename onto an existing tag with 409, bad bodies with 400', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', { tags: [{ name: 'a' }, { name: 'b' }] });
    const tags = `${NS}/ns/tags`;
    assert.equal((await h.call('admin@p1', 'PUT', `${tags}/a`, { name: 'b' })).status, 409);
    assert.equal((await h.call('admin@p1', 'PUT', `${tags}/a`, {})).status, 400);
    assert.equal(
      (await h.call('admin@p1', 'PUT', `${tags}/a`, { name: 'x', colour: 1 })).status,
      400,
    );
    assert.equal(
      (await h.call('admin@p1', 'PUT', `${tags}/a`, { name: 'x', created_at: 'x' })).status,
      403,
    );
    assert.equal((await h.call('admin@p1', 'POST', `${tags}/${'x'.repeat(81)}`)).status, 400);
    assert.equal((await h.call('admin@p1', 'POST', tags, { tags: [{ label: 'x' }] })).status, 400);
    assert.equal((await h.call('admin@p1', 'POST', tags, { tags: 'x' })).status, 400);
  });

  it('pages with limit, marker, sort_key and sort_dir', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', { tags: ['d', 'b', 'a', 'c'].map((name) => ({ name })) });
    const tags = `${NS}/ns/tags`;
    const page = await h.call('admin@p1', 'GET', `${tags}?sort_key=name&sort_dir=asc&limit=2`);
    assert.deepEqual(names(page.body), ['a', 'b']);
    const next = await h.call(
      'admin@p1',
      'GET',
      `${tags}?sort_key=name&sort_dir=asc&limit=2&marker=b`,
    );
    assert.deepEqual(names(next.body), ['c', 'd']);
    const desc = await h.call('admin@p1', 'GET', `${tags}?sort_key=name`);
    assert.deepEqual(names(desc.body), ['d', 'c', 'b', 'a']);
    assert.equal((await h.call('admin@p1', 'GET', `${tags}?marker=zz`)).status, 404);
    assert.equal((await h.call('admin@p1', 'GET', `${tags}?sort_dir=sideways`)).status, 400);
    assert.equal((await h.call('admin@p1', 'GET', `${tags}?limit=-2`)).status, 400);
  });

  it('protects tags of a protected namespace; writes are for admins', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      visibility: 'public',
      protected: true,
      tags: [{ name: 'a' }],
    });
    const tags = `${NS}/ns/tags`;
    assert.equal((await h.call('admin@p1', 'DELETE', `${tags}/a`)).status, 403);
    assert.equal((await h.call('member@p1', 'POST', `${tags}/b`)).status, 403);
    assert.equal((await h.call('member@p1', 'POST', tags, { tags: [{ name: 'b' }] })).status, 403);
    assert.equal((await h.call('member@p1', 'PUT', `${tags}/a`, { name: 'b' })).status, 403);
    assert.equal((await h.call('member@p1', 'DELETE', `${tags}/a`)).status, 403);
    assert.deepEqual((await h.call('reader@p7', 'GET', tags)).body, { tags: [{ name: 'a' }] });
  });
});
