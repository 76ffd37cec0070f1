import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNamespace, metadefHarness, NS } from './testing.js';

const HYPERVISOR = {
  namespace: 'OS::Compute::Hypervisor',
  display_name: 'Hypervisor Selection',
  description: 'Choose capabilities that should be provided by the Compute Host.',
  visibility: 'public',
  protected: true,
  resource_type_associations: [{ name: 'OS::Glance::Image', prefix: 'hw_' }],
  properties: {
    hypervisor_type: {
      title: 'Hypervisor Type',
      type: 'string',
      description: 'The hypervisor type.',
      enum: ['xen', 'qemu', 'kvm'],
    },
  },
  objects: [
    {
      name: 'CPU Limits',
      description: 'CPU limits.',
      required: ['cpu_period'],
      properties: { cpu_period: { title: 'CPU Period', type: 'integer', minimum: 1000 } },
    },
  ],
  tags: [{ name: 'fast' }, { name: 'cheap' }],
};

describe('POST /v2/metadefs/namespaces', () => {
  it('creates a namespace with defaults: private, unprotected, owned by the caller', async (t) => {
    const h = await metadefHarness(t);
    const res = await h.call('admin@p1', 'POST', NS, { namespace: 'Stratus::Simple' });
    assert.equal(res.status, 201);
    assert.equal(res.headers['location'], `http://localhost:80${NS}/Stratus::Simple`);
    const { created_at, updated_at, ...rest } = res.body;
    assert.match(created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(updated_at, created_at);
    assert.deepEqual(rest, {
      namespace: 'Stratus::Simple',
      visibility: 'private',
      protected: false,
      owner: 'p1',
      self: `${NS}/Stratus::Simple`,
      schema: '/v2/schemas/metadefs/namespace',
    });
  });

  it('creates the contents given with it, and shows them', async (t) => {
    const h = await metadefHarness(t);
    const created = await h.call('admin@p1', 'POST', NS, HYPERVISOR);
    assert.equal(created.status, 201);
    const res = await h.call('member@p2', 'GET', `${NS}/OS::Compute::Hypervisor`);
    assert.equal(res.status, 200);
    const ns = res.body;
    assert.deepEqual(created.body, ns);
    assert.equal(ns.display_name, 'Hypervisor Selection');
    assert.equal(ns.protected, true);
    assert.deepEqual(ns.properties, HYPERVISOR.properties);
    assert.deepEqual(
      ns.resource_type_associations.map((a: { name: string; prefix: string }) => [
        a.name,
        a.prefix,
      ]),
      [['OS::Glance::Image', 'hw_']],
    );
    assert.equal(ns.objects.length, 1);
    assert.equal(ns.objects[0].name, 'CPU Limits');
    assert.deepEqual(ns.objects[0].required, ['cpu_period']);
    assert.equal(ns.objects[0].self, `${NS}/OS::Compute::Hypervisor/objects/CPU Limits`);
    assert.deepEqual(ns.tags, [{ name: 'cheap' }, { name: 'fast' }]);
  });

  it('prefixes property names for a resource type given as ?resource_type', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'OS::Compute::Hypervisor', { ...HYPERVISOR, namespace: undefined });
    const res = await h.call(
      'admin@p1',
      'GET',
      `${NS}/OS::Compute::Hypervisor?resource_type=OS::Glance::Image`,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body.properties), ['hw_hypervisor_type']);
    assert.deepEqual(Object.keys(res.body.objects[0].properties), ['hw_cpu_period']);
    assert.deepEqual(res.body.objects[0].required, ['hw_cpu_period']);
  });

  it('refuses a namespace that exists with 409', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'dup');
    const res = await h.call('admin@p2', 'POST', NS, { namespace: 'dup' });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, '409 Conflict');
    assert.match(res.body.message, /namespace=dup already exists/);
  });

  it('refuses duplicate contents with 409 and creates nothing', async (t) => {
    const h = await metadefHarness(t);
    const res = await h.call('admin@p1', 'POST', NS, {
      namespace: 'twice',
      tags: [{ name: 'a' }, { name: 'a' }],
    });
    assert.equal(res.status, 409);
    assert.equal((await h.call('admin@p1', 'GET', `${NS}/twice`)).status, 404);
  });

  it('validates the body against the namespace schema', async (t) => {
    const h = await metadefHarness(t);
    const cases: Array<[unknown, number, RegExp]> = [
      [{}, 400, /'namespace' is a required property/],
      [{ namespace: 'x', visibility: 'shared' }, 400, /'shared' is not one of/],
      [{ namespace: 'x'.repeat(81) }, 400, /is too long/],
      [{ namespace: 'x', colour: 'red' }, 400, /Additional properties are not allowed/],
      [{ namespace: 'x', protected: 'yes' }, 400, /is not of type 'boolean'/],
      [{ namespace: 'x', properties: { p: { title: 'P' } } }, 400, /'type' is a required/],
      [{ namespace: 'x', self: '/elsewhere' }, 403, /'self' is read-only/],
      [{ namespace: 'x', created_at: 'now' }, 403, /'created_at' is read-only/],
    ];
    for (const [body, status, message] of cases) {
      const res = await h.call('admin@p1', 'POST', NS, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(res.body.message, message);
    }
    assert.equal((await h.call('admin@p1', 'POST', NS)).status, 400);
  });

  it('is for administrators only by default', async (t) => {
    const h = await metadefHarness(t);
    const res = await h.call('member@p1', 'POST', NS, { namespace: 'mine' });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, '403 Forbidden');
  });
});

describe('GET /v2/metadefs/namespaces', () => {
  it('lists namespaces with their associations, newest first, with links', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'first', {
      visibility: 'public',
      resource_type_associations: [{ name: 'OS::Nova::Flavor' }],
    });
    await createNamespace(h, 'second', { visibility: 'public' });
    const res = await h.call('reader@p9', 'GET', NS);
    assert.equal(res.status, 200);
    assert.equal(res.body.first, NS);
    assert.equal(res.body.schema, '/v2/schemas/metadefs/namespaces');
    assert.equal(res.body.next, undefined);
    const names = res.body.namespaces.map((n: { namespace: string }) => n.namespace);
    assert.deepEqual(new Set(names), new Set(['first', 'second']));
    const first = res.body.namespaces.find((n: { namespace: string }) => n.namespace === 'first');
    assert.deepEqual(
      first.resource_type_associations.map((a: { name: string }) => a.name),
      ['OS::Nova::Flavor'],
    );
    assert.equal(first.properties, undefined);
  });

  it('pages with limit and marker, sorted by sort_key and sort_dir', async (t) => {
    const h = await metadefHarness(t);
    for (const name of ['c', 'a', 'd', 'b']) await createNamespace(h, name);
    const page1 = await h.call('admin@p1', 'GET', `${NS}?limit=3&sort_key=namespace&sort_dir=asc`);
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.body.namespaces.map((n: { namespace: string }) => n.namespace),
      ['a', 'b', 'c'],
    );
    assert.equal(page1.body.first, `${NS}?limit=3&sort_key=namespace&sort_dir=asc`);
    assert.equal(page1.body.next, `${NS}?limit=3&sort_key=namespace&sort_dir=asc&marker=c`);
    const page2 = await h.call('admin@p1', 'GET', page1.body.next);
    assert.deepEqual(
      page2.body.namespaces.map((n: { namespace: string }) => n.namespace),
      ['d'],
    );
    assert.equal(page2.body.next, undefined);
    const desc = await h.call('admin@p1', 'GET', `${NS}?sort_key=namespace`);
    assert.deepEqual(
      desc.body.namespaces.map((n: { namespace: string }) => n.namespace),
      ['d', 'c', 'b', 'a'],
    );
  });

  it('filters by visibility and resource_types', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'pub', {
      visibility: 'public',
      resource_type_associations: [{ name: 'OS::Glance::Image' }],
    });
    await createNamespace(h, 'priv', {
      resource_type_associations: [{ name: 'OS::Cinder::Volume' }],
    });
    const names = async (query: string) =>
      (await h.call('admin@p1', 'GET', `${NS}?${query}`)).body.namespaces
        .map((n: { namespace: string }) => n.namespace)
        .sort();
    assert.deepEqual(await names('visibility=public'), ['pub']);
    assert.deepEqual(await names('visibility=private'), ['priv']);
    assert.deepEqual(await names('resource_types=OS::Cinder::Volume'), ['priv']);
    assert.deepEqual(await names('resource_types=OS::Cinder::Volume,OS::Glance::Image'), [
      'priv',
      'pub',
    ]);
    assert.deepEqual(await names('resource_types=OS::Nova::Server'), []);
  });

  it('refuses bad list parameters with 400, an unknown marker with 404', async (t) => {
    const h = await metadefHarness(t);
    for (const q of ['visibility=shared', 'limit=x', 'limit=-1', 'sort_dir=up', 'sort_key=id'])
      assert.equal((await h.call('admin@p1', 'GET', `${NS}?${q}`)).status, 400, q);
    assert.equal((await h.call('admin@p1', 'GET', `${NS}?marker=nope`)).status, 404);
  });
});

describe('namespace visibility', () => {
  it("hides a project's private namespace from other projects, not from admins", async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'secret', { owner: 'pa', tags: [{ name: 't' }] });
    await createNamespace(h, 'open', { owner: 'pa', visibility: 'public' });

    const list = async (token: string) =>
      (await h.call(token, 'GET', NS)).body.namespaces
        .map((n: { namespace: string }) => n.namespace)
        .sort();
    assert.deepEqual(await list('reader@pa'), ['open', 'secret']);
    assert.deepEqual(await list('member@pb'), ['open']);
    assert.deepEqual(await list('admin@pz'), ['open', 'secret']);

    assert.equal((await h.call('reader@pa', 'GET', `${NS}/secret`)).status, 200);
    assert.equal((await h.call('member@pb', 'GET', `${NS}/open`)).status, 200);
    for (const path of ['', '/objects', '/properties', '/tags', '/tags/t', '/resource_types']) {
      const res = await h.call('member@pb', 'GET', `${NS}/secret${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.message, 'Metadata definition namespace=secret was not found.');
    }
    // Writes to an invisible namespace are 404s too; to a visible one, 403s.
    assert.equal((await h.call('member@pb', 'DELETE', `${NS}/secret`)).status, 404);
    assert.equal((await h.call('member@pb', 'DELETE', `${NS}/open`)).status, 403);
    assert.equal((await h.call('member@pa', 'DELETE', `${NS}/secret`)).status, 403);
    assert.equal(
      (await h.call('member@pb', 'PUT', `${NS}/secret`, { namespace: 'secret' })).status,
      404,
    );
  });
});

describe('PUT /v2/metadefs/namespaces/{namespace}', () => {
  it('replaces the attributes, defaulting what the body leaves out', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'ns', {
      display_name: 'Old',
      description: 'old',
      visibility: 'public',
      protected: true,
      tags: [{ name: 'kept' }],
    });
    const res = await h.call('admin@p1', 'PUT', `${NS}/ns`, {
      namespace: 'ns',
      description: 'new',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.description, 'new');
    assert.equal(res.body.display_name, undefined);
    assert.equal(res.body.visibility, 'private');
    assert.equal(res.body.protected, false);
    assert.equal(res.body.tags, undefined);
    const shown = await h.call('admin@p1', 'GET', `${NS}/ns`);
    assert.deepEqual(shown.body.tags, [{ name: 'kept' }]);
  });

  it('renames, and refuses a name that is taken with 409', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'a', { objects: [{ name: 'o' }] });
    await createNamespace(h, 'b');
    const clash = await h.call('admin@p1', 'PUT', `${NS}/a`, { namespace: 'b' });
    assert.equal(clash.status, 409);
    const res = await h.call('admin@p1', 'PUT', `${NS}/a`, { namespace: 'c' });
    assert.equal(res.status, 200);
    assert.equal(res.body.self, `${NS}/c`);
    assert.equal((await h.call('admin@p1', 'GET', `${NS}/a`)).status, 404);
    assert.equal((await h.call('admin@p1', 'GET', `${NS}/c/objects/o`)).status, 200);
  });

  it('answers 404 for an unknown namespace, 400 for a bad body', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'x');
    assert.equal((await h.call('admin@p1', 'PUT', `${NS}/nope`, { namespace: 'n' })).status, 404);
    assert.equal((await h.call('admin@p1', 'PUT', `${NS}/x`, { display_name: 'X' })).status, 400);
  });
});

describe('DELETE /v2/metadefs/namespaces/{namespace}', () => {
  it('refuses a protected namespace with 403, then deletes it with its contents', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'OS::Compute::Hypervisor', { ...HYPERVISOR, namespace: undefined });
    const path = `${NS}/OS::Compute::Hypervisor`;
    const refused = await h.call('admin@p1', 'DELETE', path);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /is protected and cannot be deleted/);
    const update = await h.call('admin@p1', 'PUT', path, {
      namespace: 'OS::Compute::Hypervisor',
      visibility: 'public',
      protected: false,
    });
    assert.equal(update.status, 200);
    assert.equal((await h.call('admin@p1', 'DELETE', path)).status, 204);
    assert.equal((await h.call('admin@p1', 'GET', path)).status, 404);
    assert.equal((await h.call('admin@p1', 'DELETE', path)).status, 404);
    // Nothing is left behind: the name can be used again, empty.
    await createNamespace(h, 'OS::Compute::Hypervisor');
    const again = await h.call('admin@p1', 'GET', path);
    assert.equal(again.body.objects, undefined);
    assert.equal(again.body.tags, undefined);
  });

  it('deletes all objects, properties or tags of a namespace', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'full', {
      ...HYPERVISOR,
      namespace: undefined,
      protected: false,
    });
    for (const kind of ['objects', 'properties', 'tags']) {
      assert.equal((await h.call('admin@p1', 'DELETE', `${NS}/full/${kind}`)).status, 204);
    }
    const ns = (await h.call('admin@p1', 'GET', `${NS}/full`)).body;
    assert.equal(ns.objects, undefined);
    assert.equal(ns.properties, undefined);
    assert.equal(ns.tags, undefined);
    assert.equal(ns.resource_type_associations.length, 1);
  });

  it('refuses to empty a protected namespace, or for non-admins', async (t) => {
    const h = await metadefHarness(t);
    await createNamespace(h, 'locked', { ...HYPERVISOR, namespace: undefined });
    for (const kind of ['objects', 'properties', 'tags']) {
      assert.equal((await h.call('admin@p1', 'DELETE', `${NS}/locked/${kind}`)).status, 403);
      assert.equal((await h.call('member@p1', 'DELETE', `${NS}/locked/${kind}`)).status, 403);
    }
    assert.equal((await h.call('admin@p1', 'GET', `${NS}/locked/tags`)).body.tags.length, 2);
  });
});
