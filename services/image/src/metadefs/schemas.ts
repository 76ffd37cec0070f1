/**
 * The JSON schemas of the metadefs API as GET /v2/schemas/metadefs/* serves them, in
 * Glance's shape (glance/api/v2/metadef_*.py `get_schema`, glance/schema.py `raw`).
 * Request bodies are validated against these same documents (see validate.ts), so
 * what the API accepts is what it publishes.
 */

export type JsonSchema = Record<string, unknown>;

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', null];

const readOnlyTime = (description: string): JsonSchema => ({
  type: 'string',
  readOnly: true,
  description,
  format: 'date-time',
});

/** The definitions a namespace (and an object) document refers to. */
function namespaceDefinitions(): JsonSchema {
  return {
    positiveInteger: { type: 'integer', minimum: 0 },
    positiveIntegerDefault0: {
      allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }],
    },
    stringArray: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    property: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['title', 'type'],
        properties: propertyFields(),
      },
    },
  };
}

/** The fields of one property definition: a JSON-schema fragment. */
function propertyFields(): JsonSchema {
  return {
    name: { type: 'string', maxLength: 80 },
    title: { type: 'string' },
    description: { type: 'string' },
    operators: { type: 'array', items: { type: 'string' } },
    type: { type: 'string', enum: TYPES },
    required: { $ref: '#/definitions/stringArray' },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    maxLength: { $ref: '#/definitions/positiveInteger' },
    minLength: { $ref: '#/definitions/positiveIntegerDefault0' },
    pattern: { type: 'string', format: 'regex' },
    enum: { type: 'array' },
    readonly: { type: 'boolean' },
    default: {},
    items: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: TYPES },
        enum: { type: 'array' },
      },
    },
    maxItems: { $ref: '#/definitions/positiveInteger' },
    minItems: { $ref: '#/definitions/positiveIntegerDefault0' },
    uniqueItems: { type: 'boolean', default: false },
    additionalItems: { type: 'boolean' },
  };
}

interface SchemaParts {
  name: string;
  properties: JsonSchema;
  required?: string[];
  definitions?: JsonSchema;
}

/** glance.schema.Schema.raw(). */
function raw(parts: SchemaParts): JsonSchema {
  return {
    name: parts.name,
    properties: parts.properties,
    additionalProperties: false,
    ...(parts.definitions ? { definitions: parts.definitions } : {}),
    ...(parts.required && parts.required.length > 0 ? { required: parts.required } : {}),
  };
}

const COLLECTION_LINKS = [
  { rel: 'first', href: '{first}' },
  { rel: 'next', href: '{next}' },
  { rel: 'describedby', href: '{schema}' },
];

/**
 * glance.schema.CollectionSchema.raw() (or DictCollectionSchema's, with `dict`): the
 * item's definitions move up to the collection.
 */
function collection(name: string, item: SchemaParts, dict = false): JsonSchema {
  const { definitions, ...rest } = item;
  const items = raw(rest);
  return {
    name,
    properties: {
      [name]: dict
        ? { type: 'object', additionalProperties: items }
        : { type: 'array', items: items },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: COLLECTION_LINKS,
    ...(definitions ? { definitions } : {}),
  };
}

function namespaceParts(): SchemaParts {
  return {
    name: 'namespace',
    required: ['namespace'],
    definitions: namespaceDefinitions(),
    properties: {
      namespace: { type: 'string', description: 'The unique namespace text.', maxLength: 80 },
      display_name: {
        type: 'string',
        description: 'The user friendly name for the namespace. Used by UI if available.',
        maxLength: 80,
      },
      description: {
        type: 'string',
        description: 'Provides a user friendly description of the namespace.',
        maxLength: 500,
      },
      visibility: {
        type: 'string',
        description: 'Scope of namespace accessibility.',
        enum: ['public', 'private'],
      },
      protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
      owner: { type: 'string', description: 'Owner of the namespace.', maxLength: 255 },
      created_at: readOnlyTime('Date and time of namespace creation'),
      updated_at: readOnlyTime('Date and time of the last namespace modification'),
      schema: { readOnly: true, type: 'string' },
      self: { readOnly: true, type: 'string' },
      resource_type_associations: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            prefix: { type: 'string' },
            properties_target: { type: 'string' },
          },
        },
      },
      properties: { $ref: '#/definitions/property' },
      objects: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            required: { $ref: '#/definitions/stringArray' },
            properties: { $ref: '#/definitions/property' },
          },
        },
      },
      tags: {
        type: 'array',
        items: { type: 'object', properties: { name: { type: 'string' } } },
      },
    },
  };
}

function objectParts(): SchemaParts {
  return {
    name: 'object',
    required: ['name'],
    definitions: namespaceDefinitions(),
    properties: {
      name: { type: 'string', maxLength: 80 },
      description: { type: 'string' },
      required: { $ref: '#/definitions/stringArray' },
      properties: { $ref: '#/definitions/property' },
      schema: { readOnly: true, type: 'string' },
      self: { readOnly: true, type: 'string' },
      created_at: readOnlyTime('Date and time of object creation'),
      updated_at: readOnlyTime('Date and time of the last object modification'),
    },
  };
}

/** A single property; inside a collection its name is the key, so it is not required. */
function propertyParts(requireName = true): SchemaParts {
  return {
    name: 'property',
    required: requireName ? ['title', 'type', 'name'] : ['title', 'type'],
    definitions: {
      positiveInteger: { type: 'integer', minimum: 0 },
      positiveIntegerDefault0: {
        allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }],
      },
      stringArray: {
        type: 'array',
        items: { type: 'string' },
        minItems: 1,
        uniqueItems: true,
      },
    },
    properties: propertyFields(),
  };
}

function resourceTypeParts(): SchemaParts {
  return {
    name: 'resource_type_association',
    required: ['name'],
    properties: {
      name: {
        type: 'string',
        description:
          'Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html',
        maxLength: 80,
      },
      prefix: {
        type: 'string',
        description:
          'Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type. Must include prefix separator (e.g. a colon :).',
        maxLength: 80,
      },
      properties_target: {
        type: 'string',
        description:
          'Some resource types allow more than one key / value pair per instance.  For example, Cinder allows user and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or drivers). This property allows a namespace target to remove the ambiguity.',
        maxLength: 80,
      },
      created_at: readOnlyTime('Date and time of resource type association'),
      updated_at: readOnlyTime('Date and time of the last resource type association modification'),
    },
  };
}

function tagParts(): SchemaParts {
  return {
    name: 'tag',
    required: ['name'],
    properties: {
      name: { type: 'string', maxLength: 80 },
      created_at: readOnlyTime('Date and time of tag creation'),
      updated_at: readOnlyTime('Date and time of the last tag modification'),
    },
  };
}

/** The body of POST .../tags: several tags at once. */
export function tagListSchema(): JsonSchema {
  return raw({
    name: 'tags',
    properties: {
      tags: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' } },
          required: ['name'],
          additionalProperties: false,
        },
      },
    },
  });
}

export const namespaceSchema = (): JsonSchema => raw(namespaceParts());
export const objectSchema = (): JsonSchema => raw(objectParts());
export const propertySchema = (requireName = true): JsonSchema => raw(propertyParts(requireName));
export const resourceTypeSchema = (): JsonSchema => raw(resourceTypeParts());
export const tagSchema = (): JsonSchema => raw(tagParts());

/** Every document under /v2/schemas/metadefs/, by the last segment of its path. */
export function metadefSchemaDocuments(): Record<string, JsonSchema> {
  return {
    namespace: namespaceSchema(),
    namespaces: collection('namespaces', namespaceParts()),
    resource_type: resourceTypeSchema(),
    resource_types: collection('resource_type_associations', resourceTypeParts()),
    object: objectSchema(),
    objects: collection('objects', objectParts()),
    property: propertySchema(),
    properties: collection('properties', propertyParts(false), true),
    tag: tagSchema(),
    tags: collection('tags', tagParts()),
  };
}
