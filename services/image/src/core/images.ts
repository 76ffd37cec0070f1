import type { RequestContext } from '@stratus/api-kit';
import { NotFound } from '@stratus/common';
import type { Kysely, Selectable } from 'kysely';
import type { ImageLocation, ImageSchema, ImageTable } from '../db/schema.js';
import { isAdmin, type ImageService } from './service.js';

export type ImageRow = Selectable<ImageTable>;

/** An image with what lives beside its row. */
export interface ImageRecord {
  row: ImageRow;
  properties: Record<string, string>;
  tags: string[];
}

/** Glance prints whole seconds: `2016-06-29T16:13:07Z`. */
export function isoSeconds(date: Date | string | null): string | null {
  if (date === null) return null;
  const d = typeof date === 'string' ? new Date(date) : date;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function imageNotFound(id: string): InstanceType<typeof NotFound> {
  return new NotFound(`No image found with ID ${id}`);
}

export function locationsOf(row: Pick<ImageRow, 'locations'>): ImageLocation[] {
  return JSON.parse(row.locations) as ImageLocation[];
}

/** Loads the properties and tags of several images at once. */
export async function loadRecords(
  db: Kysely<ImageSchema>,
  rows: readonly ImageRow[],
): Promise<ImageRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [props, tags] = await Promise.all([
    db.selectFrom('image_property').selectAll().where('image_id', 'in', ids).execute(),
    db.selectFrom('image_tag').selectAll().where('image_id', 'in', ids).orderBy('value').execute(),
  ]);
  return rows.map((row) => ({
    row,
    properties: Object.fromEntries(
      props.filter((p) => p.image_id === row.id).map((p) => [p.name, p.value]),
    ),
    tags: tags.filter((t) => t.image_id === row.id).map((t) => t.value),
  }));
}

/** The membership of the caller's project in an image, if any. */
export async function membershipOf(
  db: Kysely<ImageSchema>,
  imageId: string,
  projectId: string | undefined,
): Promise<{ status: string } | undefined> {
  if (!projectId) return undefined;
  return db
    .selectFrom('image_member')
    .select('status')
    .where('image_id', '=', imageId)
    .where('member', '=', projectId)
    .executeTakeFirst();
}

/**
 * Whether the caller may see the image at all (Glance's `is_image_visible`): an admin
 * sees everything; others see their own images, public and community ones, and shared
 * ones they are a member of, whatever the membership's status.
 */
export function canSee(
  service: ImageService,
  ctx: RequestContext,
  row: ImageRow,
  member: { status: string } | undefined,
): boolean {
  if (isAdmin(service, ctx)) return true;
  if (row.owner !== null && row.owner === ctx.project_id) return true;
  if (row.visibility === 'public' || row.visibility === 'community') return true;
  return row.visibility === 'shared' && member !== undefined;
}

/** The policy target of an image rule (see policies/index.ts). */
export function imageTarget(
  row: Pick<ImageRow, 'owner' | 'visibility'>,
  ctx: RequestContext,
  member: { status: string } | undefined,
): Record<string, unknown> {
  return {
    project_id: row.owner ?? '',
    owner: row.owner ?? '',
    visibility: row.visibility,
    ...(member && ctx.project_id ? { member_id: ctx.project_id } : {}),
  };
}

export interface LoadedImage {
  record: ImageRecord;
  member: { status: string } | undefined;
}

/**
 * An image the caller can see, or 404 (also for deleted images). When `action` is
 * given, the caller must pass that policy too, else 403.
 */
export async function findImage(
  service: ImageService,
  ctx: RequestContext,
  id: string,
  action?: string,
): Promise<LoadedImage> {
  const row = await service.db
    .selectFrom('image')
    .selectAll()
    .where('id', '=', id)
    .where('status', '!=', 'deleted')
    .executeTakeFirst();
  if (!row) throw imageNotFound(id);
  const member = await membershipOf(service.db, id, ctx.project_id);
  if (!canSee(service, ctx, row, member)) throw imageNotFound(id);
  const [record] = await loadRecords(service.db, [row]);
  if (!record) throw imageNotFound(id);
  if (action) authorizeImage(service, ctx, action, row, member);
  return { record, member };
}

export function authorizeImage(
  service: ImageService,
  ctx: RequestContext,
  action: string,
  row: Pick<ImageRow, 'owner' | 'visibility'>,
  member: { status: string } | undefined,
): void {
  service.enforcer.enforce(action, imageTarget(row, ctx, member), ctx, { doRaise: true });
}

/** The API's image document (GET /v2/images/{id}). */
export function renderImage(service: ImageService, record: ImageRecord): Record<string, unknown> {
  const { row, properties, tags } = record;
  const locations = locationsOf(row);
  const body: Record<string, unknown> = {
    ...properties,
    id: row.id,
    name: row.name,
    status: row.status,
    visibility: row.visibility,
    protected: row.protected,
    os_hidden: row.os_hidden,
    checksum: row.checksum,
    os_hash_algo: row.os_hash_algo,
    os_hash_value: row.os_hash_value,
    owner: row.owner,
    size: row.size,
    virtual_size: row.virtual_size,
    min_disk: row.min_disk,
    min_ram: row.min_ram,
    container_format: row.container_format,
    disk_format: row.disk_format,
    created_at: isoSeconds(row.created_at),
    updated_at: isoSeconds(row.updated_at),
    tags,
    self: `/v2/images/${row.id}`,
    file: `/v2/images/${row.id}/file`,
    schema: '/v2/schemas/image',
  };
  if (locations.length > 0) {
    body['stores'] = [...new Set(locations.map((l) => l.store))].sort().join(',');
    const first = locations[0];
    if (first && service.settings.show_image_direct_url) body['direct_url'] = first.url;
  }
  return body;
}
