import { BadRequest } from '@stratus/common';
import type { JsonSchema } from './schemas.js';

export { bodyObject, refuseReadOnly } from '../api/body.js';

/**
 * Just enough JSON Schema to check request bodies against the documents of schemas.ts
 * (Glance runs `jsonschema.validate` on them): type, enum, lengths, bounds, required,
 * properties, additionalProperties, items, uniqueItems, allOf and local $refs. The first
 * failure is reported in jsonschema's words.
 */
export function validate(schema: JsonSchema, value: unknown): void {
  const problem = check(schema, value, schema);
  if (problem !== undefined)
    throw new BadRequest(
      `Provided object does not match schema '${String(schema['name'])}': ${problem}`,
    );
}

function repr(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return JSON.stringify(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isType(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeOf(value) === 'object';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
    case 'boolean':
      return typeof value === type;
    default:
      return true;
  }
}

function resolve(root: JsonSchema, ref: string): JsonSchema {
  const m = /^#\/definitions\/(.+)$/.exec(ref);
  const definitions = root['definitions'] as Record<string, JsonSchema> | undefined;
  const target = m && definitions ? definitions[m[1] ?? ''] : undefined;
  if (!target) throw new Error(`unresolvable schema reference ${ref}`);
  return target;
}

function check(schema: JsonSchema, value: unknown, root: JsonSchema): string | undefined {
  if (typeof schema['$ref'] === 'string') return check(resolve(root, schema['$ref']), value, root);
  for (const sub of (schema['allOf'] as JsonSchema[] | undefined) ?? []) {
    const problem = check(sub, value, root);
    if (problem !== undefined) return problem;
  }
  const type = schema['type'];
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (!types.some((t) => isType(value, t)))
      return `${repr(value)} is not of type ${types.map((t) => repr(t)).join(', ')}`;
  }
  const choices = schema['enum'];
  if (Array.isArray(choices) && !choices.some((c) => c === value))
    return `${repr(value)} is not one of [${choices.map(repr).join(', ')}]`;
  if (typeof value === 'string') return checkString(schema, value);
  if (typeof value === 'number') return checkNumber(schema, value);
  if (Array.isArray(value)) return checkArray(schema, value, root);
  if (typeOf(value) === 'object') return checkObject(schema, value as JsonSchema, root);
  return undefined;
}

function checkString(schema: JsonSchema, value: string): string | undefined {
  const length = [...value].length;
  const max = schema['maxLength'];
  if (typeof max === 'number' && length > max) return `${repr(value)} is too long`;
  const min = schema['minLength'];
  if (typeof min === 'number' && length < min) return `${repr(value)} is too short`;
  return undefined;
}

function checkNumber(schema: JsonSchema, value: number): string | undefined {
  const min = schema['minimum'];
  if (typeof min === 'number' && value < min) return `${value} is less than the minimum of ${min}`;
  const max = schema['maximum'];
  if (typeof max === 'number' && value > max)
    return `${value} is greater than the maximum of ${max}`;
  return undefined;
}

function checkArray(schema: JsonSchema, value: unknown[], root: JsonSchema): string | undefined {
  const min = schema['minItems'];
  if (typeof min === 'number' && value.length < min) return `${repr(value)} is too short`;
  const max = schema['maxItems'];
  if (typeof max === 'number' && value.length > max) return `${repr(value)} is too long`;
  if (schema['uniqueItems'] === true) {
    const seen = new Set(value.map((v) => JSON.stringify(v)));
    if (seen.size !== value.length) return `${repr(value)} has non-unique elements`;
  }
  const items = schema['items'] as JsonSchema | undefined;
  if (items) {
    for (const item of value) {
      const problem = check(items, item, root);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function checkObject(schema: JsonSchema, value: JsonSchema, root: JsonSchema): string | undefined {
  for (const name of (schema['required'] as string[] | undefined) ?? [])
    if (!(name in value)) return `'${name}' is a required property`;
  const properties = (schema['properties'] as Record<string, JsonSchema> | undefined) ?? {};
  const additional = schema['additionalProperties'];
  const extra = Object.keys(value).filter((k) => !(k in properties));
  if (additional === false && extra.length > 0)
    return `Additional properties are not allowed (${extra.map(repr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`;
  for (const [name, sub] of Object.entries(properties)) {
    if (!(name in value)) continue;
    const problem = check(sub, value[name], root);
    if (problem !== undefined) return problem;
  }
  if (typeof additional === 'object' && additional !== null) {
    for (const name of extra) {
      const problem = check(additional as JsonSchema, value[name], root);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** The fields Glance's PropertyType keeps of a property definition. */
const PROPERTY_FIELDS = [
  'type',
  'title',
  'description',
  'operators',
  'default',
  'readonly',
  'minimum',
  'maximum',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'confidential',
  'items',
  'uniqueItems',
  'minItems',
  'maxItems',
  'additionalItems',
] as const;

/** A property definition as stored: its known fields (not its name), as sent. */
export function propertyDefinition(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of PROPERTY_FIELDS) {
    if (!(key in body) || body[key] === null) continue;
    let value = body[key];
    if (key === 'items' && typeOf(value) === 'object') {
      const items = value as Record<string, unknown>;
      value = Object.fromEntries(
        ['type', 'enum'].filter((k) => k in items && items[k] !== null).map((k) => [k, items[k]]),
      );
    }
    out[key] = value;
  }
  return out;
}

/** A map of property definitions (a namespace's or an object's `properties`). */
export function propertyDefinitions(value: unknown): Record<string, Record<string, unknown>> {
  if (typeOf(value) !== 'object') return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([name, def]) => [
      name,
      propertyDefinition(def as Record<string, unknown>),
    ]),
  );
}

/** A string field of a validated body, or null when absent. */
export function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  return typeof value === 'string' ? value : null;
}

/** strutils.bool_from_string, for headers such as X-Openstack-Append. */
export function truthy(value: string | string[] | undefined): boolean {
  const v = (Array.isArray(value) ? value.at(-1) : value)?.trim().toLowerCase();
  return v !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(v);
}
