import type { RequestContext } from '@stratus/api-kit';
import { BadRequest } from '@stratus/common';
import { paginate } from '@stratus/db';
import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import type { ImageSchema } from '../db/schema.js';
import { canSee, loadRecords, membershipOf, type ImageRecord } from './images.js';
import { isAdmin, type ImageService } from './service.js';

/** The keys GET /v2/images sorts by. */
export const SORT_KEYS = [
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'id',
  'created_at',
  'updated_at',
] as const;

/** Columns a plain `key=value` (or `key=in:a,b`) filters on. */
const COLUMN_FILTERS = [
  'name',
  'status',
  'owner',
  'disk_format',
  'container_format',
  'id',
  'checksum',
  'os_hash_value',
] as const;

/** Query parameters that are not property filters. */
const PARAMS = new Set<string>([
  ...COLUMN_FILTERS,
  'limit',
  'marker',
  'sort',
  'sort_key',
  'sort_dir',
  'member_status',
  'visibility',
  'tag',
  'size',
  'size_min',
  'size_max',
  'created_at',
  'updated_at',
  'os_hidden',
  'protected',
]);

const OPERATORS: Record<string, '>' | '>=' | '<' | '<=' | '=' | '!='> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  eq: '=',
  neq: '!=',
};

export interface ImageListOptions {
  query: Record<string, string | string[] | undefined>;
  limit: number;
  marker: string | undefined;
  sort: Array<{ key: string; dir: 'asc' | 'desc' }>;
}

function single(query: ImageListOptions['query'], name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v.at(-1) : v;
}

function all(query: ImageListOptions['query'], name: string): string[] {
  const v = query[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** `in:a,"b,c"` → ['a', 'b,c']; anything else → [value]. */
export function parseIn(value: string): string[] {
  if (!value.startsWith('in:')) return [value];
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  const text = value.slice(3);
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '').trim());
    if (m[0] === '') break;
  }
  return out;
}

function parseBool(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(v)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(v)) return false;
  throw new BadRequest(`Invalid value for ${name}: ${value}. It must be a boolean.`);
}

function parseSize(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new BadRequest(`Invalid value for ${name}: ${value}`);
  return Number(value);
}

/** `gt:2016-…` → ['>', Date]; a bare time means `eq`. */
function parseTimeFilter(
  value: string,
  name: string,
): ['>' | '>=' | '<' | '<=' | '=' | '!=', Date] {
  const colon = value.indexOf(':');
  const maybeOp = colon > 0 ? value.slice(0, colon) : '';
  const op = OPERATORS[maybeOp];
  const time = op ? value.slice(colon + 1) : value;
  const date = new Date(time);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(time)) {
    throw new BadRequest(
      `Invalid value for ${name}: ${value}. Use an ISO 8601 time, optionally after gt:, gte:, lt:, lte:, eq: or neq:.`,
    );
  }
  return [op ?? '=', date];
}

/**
 * GET /v2/images: the images the caller may see, filtered, sorted and paged exactly as
 * Glance's database API does (see `_select_images_query`).
 */
export async function listImages(
  service: ImageService,
  ctx: RequestContext,
  options: ImageListOptions,
): Promise<ImageRecord[]> {
  const { query } = options;
  const admin = isAdmin(service, ctx);
  const project = ctx.project_id;
  const memberStatus = single(query, 'member_status') ?? 'accepted';
  if (!['accepted', 'pending', 'rejected', 'all'].includes(memberStatus))
    throw new BadRequest(
      `Invalid status: ${memberStatus}. member_status must be accepted, pending, rejected or all.`,
    );
  const visibility = single(query, 'visibility');
  if (
    visibility !== undefined &&
    !['public', 'private', 'shared', 'community', 'all'].includes(visibility)
  )
    throw new BadRequest(`Invalid visibility value: ${visibility}`);

  let q = service.db.selectFrom('image').selectAll('image').where('image.status', '!=', 'deleted');

  if (!admin) {
    q = q.where((eb) => {
      const member = eb.exists(
        eb
          .selectFrom('image_member')
          .select('image_member.image_id')
          .whereRef('image_member.image_id', '=', 'image.id')
          .where('image_member.member', '=', project ?? '')
          .$if(memberStatus !== 'all', (sq) =>
            sq.where('image_member.status', '=', memberStatus as 'accepted'),
          ),
      );
      const ors: Expression<SqlBool>[] = [
        eb('image.visibility', 'in', ['public', 'community']),
        eb.and([eb('image.visibility', '=', 'shared'), member]),
      ];
      if (project) ors.push(eb('image.owner', '=', project));
      return eb.or(ors);
    });
  }
  if (visibility !== undefined) {
    if (visibility !== 'all') q = q.where('image.visibility', '=', visibility as 'public');
  } else if (project) {
    q = q.where((eb) =>
      eb.or([eb('image.owner', '=', project), eb('image.visibility', '!=', 'community')]),
    );
  } else {
    q = q.where('image.visibility', '!=', 'community');
  }

  const hidden = single(query, 'os_hidden');
  q = q.where(
    'image.os_hidden',
    '=',
    hidden === undefined ? false : parseBool(hidden, 'os_hidden'),
  );
  const prot = single(query, 'protected');
  if (prot !== undefined) q = q.where('image.protected', '=', parseBool(prot, 'protected'));

  for (const column of COLUMN_FILTERS) {
    const value = single(query, column);
    if (value === undefined) continue;
    const values = parseIn(value);
    q = q.where(`image.${column}`, 'in', values as never[]);
  }
  const size = single(query, 'size');
  if (size !== undefined) q = q.where('image.size', '=', parseSize(size, 'size'));
  const sizeMin = single(query, 'size_min');
  if (sizeMin !== undefined) q = q.where('image.size', '>=', parseSize(sizeMin, 'size_min'));
  const sizeMax = single(query, 'size_max');
  if (sizeMax !== undefined) q = q.where('image.size', '<=', parseSize(sizeMax, 'size_max'));
  for (const column of ['created_at', 'updated_at'] as const) {
    const value = single(query, column);
    if (value === undefined) continue;
    const [op, date] = parseTimeFilter(value, column);
    q = q.where(`image.${column}`, op, date);
  }
  for (const tag of all(query, 'tag')) {
    q = q.where((eb: ExpressionBuilder<ImageSchema, 'image'>) =>
      eb.exists(
        eb
          .selectFrom('image_tag')
          .select('image_tag.image_id')
          .whereRef('image_tag.image_id', '=', 'image.id')
          .where('image_tag.value', '=', tag),
      ),
    );
  }
  for (const [name, raw] of Object.entries(query)) {
    if (PARAMS.has(name) || raw === undefined) continue;
    const value = Array.isArray(raw) ? (raw.at(-1) ?? '') : raw;
    q = q.where((eb: ExpressionBuilder<ImageSchema, 'image'>) =>
      eb.exists(
        eb
          .selectFrom('image_property')
          .select('image_property.image_id')
          .whereRef('image_property.image_id', '=', 'image.id')
          .where('image_property.name', '=', name)
          .where('image_property.value', '=', value),
      ),
    );
  }

  let marker: object | undefined;
  if (options.marker !== undefined) {
    const row = await service.db
      .selectFrom('image')
      .selectAll()
      .where('id', '=', options.marker)
      .where('status', '!=', 'deleted')
      .executeTakeFirst();
    // As Glance's _image_get: a marker the caller may not see does not exist.
    if (row && canSee(service, ctx, row, await membershipOf(service.db, row.id, project)))
      marker = row;
    if (!marker)
      throw new BadRequest(`Invalid marker. Image ${options.marker} could not be found.`);
  }
  const sort = [...options.sort];
  if (!sort.some((s) => s.key === 'created_at'))
    sort.push({ key: 'created_at', dir: sort[0]?.dir ?? 'desc' });
  const rows = await paginate(q, {
    sort: sort.map((s) => ({ key: `image.${s.key}`, dir: s.dir })),
    idKey: 'image.id',
    ...(marker ? { marker } : {}),
    limit: options.limit,
  });
  return loadRecords(service.db, rows);
}
