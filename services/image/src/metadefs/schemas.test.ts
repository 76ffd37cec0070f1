import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metadefHarness } from './testing.js';

const S = '/v2/schemas/metadefs';

describe('GET /v2/schemas/metadefs/*', () => {
  it('serves each schema under the name Glance gives it', async (t) => {
    const h = await metadefHarness(t);
    const expected: Record<string, string> = {
      namespace: 'namespace',
      namespaces: 'namespaces',
      resource_type: 'resource_type_association',
      resource_types: 'resource_type_associations',
      object: 'object',
      objects: 'objects',
      property: 'property',
      properties: 'properties',
      tag: 'tag',
      tags: 'tags',
    };
    for (const [path, name] of Object.entries(expected)) {
      const res = await h.call('reader@p1', 'GET', `${S}/${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.body.name, name, path);
    }
  });

  it('has Glance’s shapes: required fields, definitions, collection links', async (t) => {
    const h = await metadefHarness(t);
    const get = async (path: string) => (await h.call('reader@p1', 'GET', `${S}/${path}`)).body;
    const namespace = await get('namespace');
    assert.deepEqual(namespace.required, ['namespace']);
    assert.equal(namespace.additionalProperties, false);
    assert.deepEqual(namespace.properties.visibility.enum, ['public', 'private']);
    assert.deepEqual(namespace.properties.properties, { $ref: '#/definitions/property' });
    assert.deepEqual(namespace.definitions.property.additionalProperties.required, [
      'title',
      'type',
    ]);

    const namespaces = await get('namespaces');
    assert.equal(namespaces.properties.namespaces.type, 'array');
    assert.equal(namespaces.properties.namespaces.items.name, 'namespace');
    assert.equal(namespaces.properties.namespaces.items.definitions, undefined);
    assert.ok(namespaces.definitions.property);
    assert.deepEqual(
      namespaces.links.map((l: { rel: string }) => l.rel),
      ['first', 'next', 'describedby'],
    );

    const property = await get('property');
    assert.deepEqual(property.required, ['title', 'type', 'name']);
    assert.equal(property.definitions.stringArray.minItems, 1);
    const properties = await get('properties');
    assert.equal(properties.properties.properties.type, 'object');
    assert.deepEqual(properties.properties.properties.additionalProperties.required, [
      'title',
      'type',
    ]);

    assert.deepEqual((await get('object')).required, ['name']);
    assert.deepEqual((await get('tag')).required, ['name']);
    assert.equal((await get('tags')).properties.tags.items.name, 'tag');
    const rt = await get('resource_type');
    assert.equal(rt.properties.prefix.maxLength, 80);
    assert.equal(rt.definitions, undefined);
    assert.equal((await get('resource_types')).properties.resource_type_associations.type, 'array');
  });
});
