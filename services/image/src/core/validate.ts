import { BadRequest, Forbidden } from '@stratus/common';
import type { ImageSettings } from '../config.js';

/** Attributes a client never sets (Glance's read-only and disallowed properties). */
export const READ_ONLY = new Set([
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
  'stores',
]);

/** Attributes no image may carry (Glance's reserved properties and namespace). */
export const RESERVED = new Set(['location', 'deleted', 'deleted_at']);
export const RESERVED_PREFIX = 'os_glance';

/** The image row's own attributes a client may write; anything else is a property. */
export const WRITABLE_BASE = [
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'container_format',
  'disk_format',
  'min_disk',
  'min_ram',
  'owner',
  'tags',
] as const;
export type WritableBase = (typeof WRITABLE_BASE)[number];

export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;

export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Most tags and properties one image may have (Glance's image_tag_quota, image_property_quota). */
export const TAG_QUOTA = 128;
export const PROPERTY_QUOTA = 128;

function invalid(detail: string): InstanceType<typeof BadRequest> {
  return new BadRequest(`Provided object does not match schema 'image': ${detail}`);
}

/** Refuses a property name clients may not set: 403, as Glance. */
export function checkWritableName(name: string): void {
  if (READ_ONLY.has(name)) throw new Forbidden(`Attribute '${name}' is read-only.`);
  if (RESERVED.has(name) || name.startsWith(RESERVED_PREFIX))
    throw new Forbidden(`Attribute '${name}' is reserved.`);
}

/** Checks one writable attribute's value against the image schema; returns it normalised. */
export function checkValue(settings: ImageSettings, name: string, value: unknown): unknown {
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  switch (name) {
    case 'name':
      if (value !== null && typeof value !== 'string')
        throw invalid(`${JSON.stringify(value)} is not of type 'null', 'string'`);
      if (typeof value === 'string' && value.length > 255)
        throw invalid(`'name' is too long (more than 255 characters)`);
      return value;
    case 'owner':
      if (value !== null && typeof value !== 'string')
        throw invalid(`${JSON.stringify(value)} is not of type 'null', 'string'`);
      if (typeof value === 'string' && value.length > 255)
        throw invalid(`'owner' is too long (more than 255 characters)`);
      return value;
    case 'visibility':
      if (!(VISIBILITIES as readonly unknown[]).includes(value))
        throw invalid(
          `${JSON.stringify(value)} is not one of ['community', 'public', 'private', 'shared']`,
        );
      return value;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean')
        throw invalid(`${JSON.stringify(value)} is not of type 'boolean'`);
      return value;
    case 'min_disk':
    case 'min_ram':
      if (!isInt(value)) throw invalid(`${JSON.stringify(value)} is not of type 'integer'`);
      if (value < 0) throw new BadRequest(`Cannot set ${name} to a negative value.`);
      if (value > 2 ** 31 - 1) throw invalid(`${name} is too large`);
      return value;
    case 'container_format':
    case 'disk_format': {
      const allowed = name === 'disk_format' ? settings.disk_formats : settings.container_formats;
      if (value !== null && !allowed.includes(value as string))
        throw invalid(
          `${JSON.stringify(value)} is not one of [None, ${allowed.map((f) => `'${f}'`).join(', ')}]`,
        );
      return value;
    }
    case 'tags': {
      if (!Array.isArray(value)) throw invalid(`${JSON.stringify(value)} is not of type 'array'`);
      const tags = [...new Set(value.map((t) => checkTag(t)))];
      return tags;
    }
    default:
      if (name.length > 255)
        throw new BadRequest('Custom property should not be greater than 255 characters.');
      if (typeof value !== 'string')
        throw invalid(`${JSON.stringify(value)} is not of type 'string' (property ${name})`);
      return value;
  }
}

export function checkTag(tag: unknown): string {
  if (typeof tag !== 'string') throw invalid(`${JSON.stringify(tag)} is not of type 'string'`);
  if (tag.length > 255)
    throw new BadRequest(`Tag '${tag.slice(0, 40)}…' is longer than 255 characters.`);
  if (tag.length === 0) throw new BadRequest('A tag cannot be empty.');
  return tag;
}
