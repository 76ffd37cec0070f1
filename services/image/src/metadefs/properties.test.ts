import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNamespace, metadefHarness, NS } from './testing.js';

const ENUM = ['xen', 'qemu', 'kvm', 'lxc', 'uml', 'vmware', 'hyperv'];

describe('metadef properties', () => {
  it('creates, shows, updates, lists and deletes a property (Tempest’s flow)', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', { visibility: 'public' });
    const properties = `${NS}/ns/properties`;
    const name = 'OS::Glance::Image';

    const created = await h.call('admin@p1', 'POST', properties, {
      name,
      title: 'property-1',
      type: 'string',
      enum: ENUM,
      default: 'kvm',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, {
      name,
      title: 'property-1',
      type: 'string',
      enum: ENUM,
      default: 'kvm',
    });

    const shown = await h.call('reader@p2', 'GET', `${properties}/${name}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body, created.body);

    const updated = await h.call('admin@p1', 'PUT', `${properties}/${name}`, {
      name,
      title: 'update-property',
      type: 'string',
      enum: ENUM,
    });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body, { name, title: 'update-property', type: 'string', enum: ENUM });

    const list = await h.call('reader@p2', 'GET', properties);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, {
      properties: { [name]: { title: 'update-property', type: 'string', enum: ENUM } },
    });

    assert.equal((await h.call('admin@p1', 'DELETE', `${properties}/${name}`)).status, 204);
    assert.deepEqual((await h.call('admin@p1', 'GET', properties)).body, { properties: {} });
    assert.equal((await h.call('admin@p1', 'GET', `${properties}/${name}`)).status, 404);
    assert.equal((await h.call('admin@p1', 'DELETE', `${properties}/${name}`)).status, 404);
  });

  it('keeps every JSON-schema keyword of a definition', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const definition = {
      title: 'Serial ports',
      description: 'How many.',
      type: 'array',
      operators: ['<or>'],
      readonly: false,
      items: { type: 'string', enum: ['a', 'b'] },
      minItems: 1,
      maxItems: 4,
      uniqueItems: true,
      additionalItems: false,
    };
    const res = await h.call('admin@p1', 'POST', `${NS}/ns/properties`, {
      name: 'p',
      ...definition,
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { name: 'p', ...definition });
    const number = { title: 'N', type: 'integer', minimum: 0, maximum: 10, default: 3 };
    const n = await h.call('admin@p1', 'POST', `${NS}/ns/properties`, { name: 'n', ...number });
    assert.deepEqual(n.body, { name: 'n', ...number });
  });

  it('renames, refusing duplicates with 409', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      properties: {
        a: { title: 'A', type: 'string' },
        b: { title: 'B', type: 'string' },
      },
    });
    const p = `${NS}/ns/properties`;
    const dup = await h.call('admin@p1', 'POST', p, { name: 'a', title: 'A', type: 'string' });
    assert.equal(dup.status, 409);
    assert.match(dup.body.message, /property with name=a already exists in namespace=ns/);
    const clash = await h.call('admin@p1', 'PUT', `${p}/b`, {
      name: 'a',
      title: 'B',
      type: 'string',
    });
    assert.equal(clash.status, 409);
    const renamed = await h.call('admin@p1', 'PUT', `${p}/b`, {
      name: 'c',
      title: 'C',
      type: 'string',
    });
    assert.equal(renamed.status, 200);
    assert.deepEqual(Object.keys((await h.call('admin@p1', 'GET', p)).body.properties), ['a', 'c']);
  });

  it('validates property bodies', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns');
    const p = `${NS}/ns/properties`;
    const cases: Array<[unknown, number, RegExp]> = [
      [{ title: 'T', type: 'string' }, 400, /'name' is a required property/],
      [{ name: 'p', type: 'string' }, 400, /'title' is a required property/],
      [{ name: 'p', title: 'T' }, 400, /'type' is a required property/],
      [{ name: 'p', title: 'T', type: 'text' }, 400, /'text' is not one of/],
      [{ name: 'p', title: 'T', type: 'string', maxLength: -1 }, 400, /less than the minimum/],
      [{ name: 'p', title: 'T', type: 'string', namespace: 'ns' }, 400, /Additional properties/],
      [{ name: 'p'.repeat(81), title: 'T', type: 'string' }, 400, /is too long/],
      [{ name: 'p', title: 'T', type: 'string', created_at: 'x' }, 403, /read-only/],
    ];
    for (const [body, status, message] of cases) {
      const res = await h.call('admin@p1', 'POST', p, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(res.body.message, message);
    }
  });

  it('shows a property by its prefixed name for a resource type', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      resource_type_associations: [
        { name: 'OS::Glance::Image', prefix: 'hw_' },
        { name: 'OS::Nova::Flavor' },
      ],
      properties: { cpu: { title: 'CPU', type: 'string' } },
    });
    const p = `${NS}/ns/properties`;
    const res = await h.call('admin@p1', 'GET', `${p}/hw_cpu?resource_type=OS::Glance::Image`);
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'cpu');
    assert.equal(
      (await h.call('admin@p1', 'GET', `${p}/cpu?resource_type=OS::Glance::Image`)).status,
      404,
    );
    assert.equal(
      (await h.call('admin@p1', 'GET', `${p}/cpu?resource_type=OS::Nova::Flavor`)).status,
      404,
    );
    assert.equal(
      (await h.call('admin@p1', 'GET', `${p}/cpu?resource_type=OS::Nova::Server`)).status,
      404,
    );
  });

  it('protects properties of a protected namespace; writes are for admins', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      visibility: 'public',
      protected: true,
      properties: { a: { title: 'A', type: 'string' } },
    });
    const p = `${NS}/ns/properties`;
    assert.equal((await h.call('admin@p1', 'DELETE', `${p}/a`)).status, 403);
    const body = { name: 'b', title: 'B', type: 'string' };
    assert.equal((await h.call('member@p1', 'POST', p, body)).status, 403);
    assert.equal((await h.call('member@p1', 'PUT', `${p}/a`, body)).status, 403);
    assert.equal((await h.call('member@p1', 'DELETE', `${p}/a`)).status, 403);
    assert.equal((await h.call('admin@p1', 'POST', p, body)).status, 201);
  });
});
