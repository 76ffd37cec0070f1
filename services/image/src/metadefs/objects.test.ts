import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNamespace, metadefHarness, NS } from './testing.js';

const CPU = {
  name: 'CPU Limits',
  description: 'You can configure the CPU limits with control parameters.',
  required: [],
  properties: {
    'quota:cpu_period': {
      title: 'Quota: CPU Period',
      type: 'integer',
      minimum: 1000,
      maximum: 1000000,
    },
  },
};

describe('metadef objects', () => {
  it('creates, lists, shows, updates and deletes an object', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'OS::Compute::Quota', { visibility: 'public' });
    const objects = `${NS}/OS::Compute::Quota/objects`;

    const created = await h.call('admin@p1', 'POST', objects, CPU);
    assert.equal(created.status, 201);
    const { created_at, updated_at, ...rest } = created.body;
    assert.match(created_at, /Z$/);
    assert.equal(updated_at, created_at);
    assert.deepEqual(rest, {
      ...CPU,
      self: `${objects}/CPU Limits`,
      schema: '/v2/schemas/metadefs/object',
    });

    const list = await h.call('reader@p2', 'GET', objects);
    assert.equal(list.status, 200);
    assert.equal(list.body.schema, '/v2/schemas/metadefs/objects');
    assert.deepEqual(list.body.objects, [created.body]);

    const shown = await h.call('reader@p2', 'GET', `${objects}/CPU%20Limits`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body, created.body);

    const updated = await h.call('admin@p1', 'PUT', `${objects}/CPU%20Limits`, {
      name: 'CPU Quota',
      required: ['quota:cpu_period'],
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.name, 'CPU Quota');
    assert.equal(updated.body.description, undefined);
    assert.deepEqual(updated.body.required, ['quota:cpu_period']);
    assert.deepEqual(updated.body.properties, {});
    assert.equal((await h.call('admin@p1', 'GET', `${objects}/CPU%20Limits`)).status, 404);

    assert.equal((await h.call('admin@p1', 'DELETE', `${objects}/CPU%20Quota`)).status, 204);
    assert.deepEqual((await h.call('admin@p1', 'GET', objects)).body.objects, []);
    assert.equal((await h.call('admin@p1', 'DELETE', `${objects}/CPU%20Quota`)).status, 404);
  });

  it('refuses a duplicate name with 409, on create and on rename', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const objects = `${NS}/ns/objects`;
    assert.equal((await h.call('admin@p1', 'POST', objects, { name: 'a' })).status, 201);
    assert.equal((await h.call('admin@p1', 'POST', objects, { name: 'b' })).status, 201);
    const dup = await h.call('admin@p1', 'POST', objects, { name: 'a' });
    assert.equal(dup.status, 409);
    assert.match(dup.body.message, /object with name=a already exists in namespace=ns/);
    assert.equal((await h.call('admin@p1', 'PUT', `${objects}/b`, { name: 'a' })).status, 409);
    // The same name in another namespace is fine.
    await createNamespace(h, 'other');
    assert.equal(
      (await h.call('admin@p1', 'POST', `${NS}/other/objects`, { name: 'a' })).status,
      201,
    );
  });

  it('answers 404 for an unknown namespace or object', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    assert.equal(
      (await h.call('admin@p1', 'POST', `${NS}/nope/objects`, { name: 'a' })).status,
      404,
    );
    assert.equal((await h.call('admin@p1', 'GET', `${NS}/nope/objects`)).status, 404);
    assert.equal((await h.call('admin@p1', 'GET', `${NS}/ns/objects/nope`)).status, 404);
    assert.equal(
      (await h.call('admin@p1', 'PUT', `${NS}/ns/objects/nope`, { name: 'x' })).status,
      404,
    );
    assert.equal((await h.call('admin@p1', 'DELETE', `${NS}/ns/objects/nope`)).status, 404);
  });

  it('validates object bodies', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const objects = `${NS}/ns/objects`;
    const cases: Array<[unknown, number]> = [
      [{}, 400],
      [{ name: 'o', extra: 1 }, 400],
      [{ name: 'o', required: 'p' }, 400],
      [{ name: 'o', required: ['p', 'p'] }, 400],
      [{ name: 'o', properties: { p: { type: 'string' } } }, 400],
      [{ name: 'o', properties: { p: { title: 'P', type: 'text' } } }, 400],
      [{ name: 'o', properties: { p: { title: 'P', type: 'string', colour: 1 } } }, 400],
      [{ name: 'o', schema: 'x' }, 403],
    ];
    for (const [body, status] of cases)
      assert.equal(
        (await h.call('admin@p1', 'POST', objects, body)).status,
        status,
        JSON.stringify(body),
      );
  });

  it('keeps objects of a protected namespace, and writes for admins', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      visibility: 'public',
      protected: true,
      objects: [{ name: 'o' }],
    });
    const refused = await h.call('admin@p1', 'DELETE', `${NS}/ns/objects/o`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /object o is protected/);
    for (const [method, path, body] of [
      ['POST', `${NS}/ns/objects`, { name: 'x' }],
      ['PUT', `${NS}/ns/objects/o`, { name: 'x' }],
      ['DELETE', `${NS}/ns/objects/o`, undefined],
    ] as const)
      assert.equal((await h.call('member@p1', method, path, body)).status, 403, method);
    assert.equal((await h.call('member@p2', 'GET', `${NS}/ns/objects/o`)).status, 200);
  });
});
