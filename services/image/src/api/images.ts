import { parseListQuery, type ApiServer, type RequestContext } from '@stratus/api-kit';
import {
  BadRequest,
  Conflict,
  Forbidden,
  NotFound,
  OverQuota,
  UnsupportedMediaType,
} from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import { randomUUID } from 'node:crypto';
import type { ImageTable } from '../db/schema.js';
import {
  authorizeImage,
  findImage,
  imageNotFound,
  locationsOf,
  renderImage,
  type ImageRecord,
} from '../core/images.js';
import { listImages, SORT_KEYS } from '../core/list.js';
import { enforceQuota } from '../core/quotas.js';
import { isAdmin, type ImageService } from '../core/service.js';
import { countImages } from '../core/usage.js';
import {
  checkTag,
  checkValue,
  checkWritableName,
  PROPERTY_QUOTA,
  RESERVED_PREFIX,
  TAG_QUOTA,
  UUID,
  WRITABLE_BASE,
  type WritableBase,
} from '../core/validate.js';
import { PATCH_TYPES } from './app.js';
import { bodyObject, refuseReadOnly } from './body.js';

type Params = { image_id: string };

const BASE = new Set<string>(WRITABLE_BASE);

/** The visibility policies: making an image public or community needs its own rule. */
function checkVisibilityPolicy(
  service: ImageService,
  ctx: RequestContext,
  visibility: string,
  target: { owner: string | null; visibility: string },
): void {
  const action =
    visibility === 'public'
      ? 'publicize_image'
      : visibility === 'community'
        ? 'communitize_image'
        : undefined;
  if (!action) return;
  const allowed = service.enforcer.enforce(
    action,
    { project_id: target.owner ?? '', owner: target.owner ?? '', visibility },
    ctx,
  );
  if (!allowed) throw new Forbidden(`You are not authorized to set visibility to '${visibility}'.`);
}

/**
 * Writes an image's properties and tags (inside a transaction). The `os_glance_*`
 * bookkeeping of an import is not the client's to write and stays as it is, so that an
 * update beside a running import cannot roll it back.
 */
async function saveExtras(
  trx: ImageService['db'],
  id: string,
  properties: Record<string, string>,
  tags: readonly string[],
): Promise<void> {
  const current = await trx
    .selectFrom('image_property')
    .select('name')
    .where('image_id', '=', id)
    .execute();
  const replaced = current.map((p) => p.name).filter((n) => !n.startsWith(RESERVED_PREFIX));
  if (replaced.length > 0)
    await trx
      .deleteFrom('image_property')
      .where('image_id', '=', id)
      .where('name', 'in', replaced)
      .execute();
  await trx.deleteFrom('image_tag').where('image_id', '=', id).execute();
  const props = Object.entries(properties).filter(([name]) => !name.startsWith(RESERVED_PREFIX));
  if (props.length > 0)
    await trx
      .insertInto('image_property')
      .values(props.map(([name, value]) => ({ image_id: id, name, value })))
      .execute();
  if (tags.length > 0)
    await trx
      .insertInto('image_tag')
      .values(tags.map((value) => ({ image_id: id, value })))
      .execute();
}

function checkQuotas(properties: Record<string, string>, tags: readonly string[]): void {
  if (Object.keys(properties).length > PROPERTY_QUOTA)
    throw new OverQuota(
      `Maximum number of properties exceeded: an image may have ${PROPERTY_QUOTA}.`,
    );
  if (tags.length > TAG_QUOTA)
    throw new OverQuota(`Maximum number of tags exceeded: an image may have ${TAG_QUOTA}.`);
}

async function reload(
  service: ImageService,
  ctx: RequestContext,
  id: string,
): Promise<ImageRecord> {
  return (await findImage(service, ctx, id)).record;
}

function registerCreate(app: ApiServer, service: ImageService): void {
  app.post('/v2/images', async (request, reply) => {
    const ctx = request.context;
    const body = bodyObject(request);
    refuseReadOnly(body, ['direct_url', 'self', 'file', 'schema', 'stores']);
    const fields: Partial<Record<WritableBase, unknown>> = {};
    const properties: Record<string, string> = {};
    let id: string | undefined;
    for (const [key, value] of Object.entries(body)) {
      if (key === 'id') {
        if (typeof value !== 'string' || !UUID.test(value))
          throw new BadRequest(
            `Provided object does not match schema 'image': ${JSON.stringify(value)} does not match the UUID pattern.`,
          );
        id = value.toLowerCase();
        continue;
      }
      if (key === 'locations')
        throw new Forbidden("It's not allowed to add locations if locations are invisible.");
      checkWritableName(key);
      const checked = checkValue(service.settings, key, value);
      if (BASE.has(key)) fields[key as WritableBase] = checked;
      else properties[key] = checked as string;
    }
    const tags = (fields.tags as string[] | undefined) ?? [];
    checkQuotas(properties, tags);
    const owner =
      fields.owner === undefined ? (ctx.project_id ?? null) : (fields.owner as string | null);
    const visibility = (fields.visibility as ImageTable['visibility'] | undefined) ?? 'shared';
    service.enforcer.enforce(
      'add_image',
      { project_id: ctx.project_id ?? '', owner: owner ?? '', visibility },
      ctx,
      { doRaise: true },
    );
    checkVisibilityPolicy(service, ctx, visibility, { owner, visibility });
    await enforceQuota(service.quotas, owner ?? undefined, 'image_count_total', () =>
      countImages(service, owner ?? ''),
    );
    const now = new Date();
    const row: ImageTable = {
      id: id ?? randomUUID(),
      name: (fields.name as string | null | undefined) ?? null,
      status: 'queued',
      visibility,
      protected: (fields.protected as boolean | undefined) ?? false,
      os_hidden: (fields.os_hidden as boolean | undefined) ?? false,
      disk_format: (fields.disk_format as string | null | undefined) ?? null,
      container_format: (fields.container_format as string | null | undefined) ?? null,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_disk: (fields.min_disk as number | undefined) ?? 0,
      min_ram: (fields.min_ram as number | undefined) ?? 0,
      owner,
      locations: '[]',
      created_at: now,
      updated_at: now,
      deleted_at: null,
      worker: null,
      heartbeat_at: null,
    };
    try {
      await service.db.transaction().execute(async (trx) => {
        await trx.insertInto('image').values(row).execute();
        await saveExtras(trx, row.id, properties, tags);
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new Conflict(`Image with identifier ${row.id} already exists!`);
      throw err;
    }
    const record = await reload(service, ctx, row.id);
    // Clients (openstacksdk's `--import`) learn the import methods and stores from these.
    void reply
      .code(201)
      .header('location', `${request.baseUrl}/v2/images/${row.id}`)
      .header('openstack-image-import-methods', service.settings.import_methods.join(','))
      .header(
        'openstack-image-store-ids',
        service.stores
          .all()
          .map((s) => s.descriptor.id)
          .join(','),
      );
    return renderImage(service, record);
  });
}

function registerReadRoutes(app: ApiServer, service: ImageService): void {
  app.get('/v2/images', async (request) => {
    const ctx = request.context;
    service.enforcer.enforce('get_images', { project_id: ctx.project_id ?? '' }, ctx, {
      doRaise: true,
    });
    const query = (request.query ?? {}) as Record<string, string | string[] | undefined>;
    const limitRaw = Array.isArray(query['limit']) ? query['limit'].at(-1) : query['limit'];
    if (limitRaw !== undefined && !/^\d+$/.test(limitRaw))
      throw new BadRequest('limit param must be an integer');
    // Glance's _get_sorting_params: one sort_dir applies to every sort_key; several
    // must pair up with the keys one to one.
    const sortKeys = [query['sort_key'] ?? []].flat();
    const sortDirs = [query['sort_dir'] ?? []].flat();
    if (sortDirs.length > 1 && sortDirs.length !== sortKeys.length)
      throw new BadRequest('Number of sort dirs does not match the number of sort keys');
    const sortQuery =
      sortDirs.length === 1 && sortKeys.length > 1
        ? { ...query, sort_dir: sortKeys.map(() => sortDirs[0] ?? '') }
        : query;
    const parsed = parseListQuery(sortQuery, {
      sortKeys: SORT_KEYS,
      defaultSort: [{ key: 'created_at', dir: 'desc' }],
      maxLimit: service.settings.api_limit_max,
      defaultDir: 'desc',
    });
    const limit =
      limitRaw === undefined
        ? Math.min(service.settings.limit_param_default, service.settings.api_limit_max)
        : parsed.limit;
    const records = await listImages(service, ctx, {
      query,
      limit,
      marker: parsed.marker,
      sort: parsed.sort,
    });
    // first and next repeat the query without its marker, as Glance.
    const q = request.url.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1));
    params.delete('marker');
    const body: Record<string, unknown> = {
      images: records.map((r) => renderImage(service, r)),
      first: params.size > 0 ? `/v2/images?${params}` : '/v2/images',
      schema: '/v2/schemas/images',
    };
    const last = records.at(-1);
    if (last && records.length === limit && limit > 0) {
      params.append('marker', last.row.id);
      body['next'] = `/v2/images?${params}`;
    }
    return body;
  });

  app.get<{ Params: Params }>('/v2/images/:image_id', async (request) => {
    const ctx = request.context;
    const { record } = await findImage(service, ctx, request.params.image_id, 'get_image');
    return renderImage(service, record);
  });
}

/** One change of a PATCH body, decoded from either JSON-patch draft. */
interface Change {
  op: 'add' | 'replace' | 'remove';
  path: string[];
  value?: unknown;
}

const OPS = ['add', 'remove', 'replace'] as const;

function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw new BadRequest('A change path must be a string.');
  if (!pointer.startsWith('/'))
    throw new BadRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1)))
    throw new BadRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/'))
    throw new BadRequest(`Pointer \`${pointer}\` end with "/".`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~'))
    throw new BadRequest(
      `Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`,
    );
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

export function parseChanges(body: unknown, draft: 4 | 10): Change[] {
  if (!Array.isArray(body))
    throw new BadRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new BadRequest('Operations must be JSON objects.');
    const change = raw as Record<string, unknown>;
    let op: Change['op'];
    let pointer: unknown;
    if (draft === 10) {
      const o = change['op'];
      if (o === undefined)
        throw new BadRequest(
          'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.',
        );
      if (!(OPS as readonly unknown[]).includes(o))
        throw new BadRequest(
          `Invalid operation: \`${String(o)}\`. It must be one of the following: add, remove, replace.`,
        );
      op = o as Change['op'];
      if (!('path' in change)) throw new BadRequest("Unable to find 'path' in JSON Schema change");
      pointer = change['path'];
    } else {
      const present = OPS.filter((k) => k in change);
      if (present.length !== 1)
        throw new BadRequest(
          'Operation objects must contain exactly one member named "add", "remove", or "replace".',
        );
      op = present[0] as Change['op'];
      pointer = change[op];
    }
    const path = decodePointer(pointer);
    const root = path[0] ?? '';
    if (op !== 'remove' && !('value' in change))
      throw new BadRequest(`Operation "${op}" requires a member named "value".`);
    if (root !== 'locations' && path.length !== 1)
      throw new BadRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    return { op, path, ...(op !== 'remove' ? { value: change['value'] } : {}) };
  });
}

function registerUpdate(app: ApiServer, service: ImageService): void {
  app.patch<{ Params: Params }>('/v2/images/:image_id', async (request) => {
    const ctx = request.context;
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const draft = contentType === PATCH_TYPES[0] ? 4 : contentType === PATCH_TYPES[1] ? 10 : 0;
    const { record, member } = await findImage(service, ctx, request.params.image_id);
    if (draft === 0)
      throw new UnsupportedMediaType(
        `Unsupported Content-Type ${contentType || '(none)'}: use ${PATCH_TYPES[1]}.`,
      );
    const changes = parseChanges(request.body, draft);
    const { row } = record;
    authorizeImage(service, ctx, 'modify_image', row, member);
    const admin = isAdmin(service, ctx);
    const next = { ...row } as Record<string, unknown> & typeof row;
    const properties = { ...record.properties };
    let tags = [...record.tags];
    for (const change of changes) {
      const name = change.path[0] ?? '';
      if (name === 'locations')
        throw new Forbidden(
          `It's not allowed to ${change.op === 'remove' ? 'remove' : change.op === 'add' ? 'add' : 'update'} locations if locations are invisible.`,
        );
      checkWritableName(name);
      const isBase = BASE.has(name);
      if (change.op === 'remove') {
        if (isBase) throw new Forbidden(`Property ${name} may not be removed.`);
        if (!(name in properties)) throw new Conflict(`Property ${name} does not exist.`);
        delete properties[name];
        continue;
      }
      if (change.op === 'add' && draft === 4 && (isBase || name in properties))
        throw new Conflict(`Property ${name} already present.`);
      if (change.op === 'replace' && !isBase && !(name in properties))
        throw new Conflict(`Property ${name} does not exist.`);
      const value = checkValue(service.settings, name, change.value);
      if (!isBase) {
        properties[name] = value as string;
        continue;
      }
      if (name === 'tags') {
        tags = value as string[];
        continue;
      }
      if (name === 'owner' && !admin && value !== row.owner)
        throw new Forbidden("Owner can't be updated by non admin.");
      if (
        (name === 'container_format' || name === 'disk_format') &&
        value !== row[name] &&
        row.status !== 'queued'
      )
        throw new Forbidden(`Attribute ${name} can be only replaced for a queued image.`);
      if (name === 'visibility' && value !== row.visibility)
        checkVisibilityPolicy(service, ctx, value as string, row);
      next[name] = value;
    }
    checkQuotas(properties, tags);
    if (changes.length > 0) {
      const now = new Date();
      await service.db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('image')
          .set({
            name: next.name,
            visibility: next.visibility,
            protected: next.protected,
            os_hidden: next.os_hidden,
            container_format: next.container_format,
            disk_format: next.disk_format,
            min_disk: next.min_disk,
            min_ram: next.min_ram,
            owner: next.owner,
            updated_at: now,
          })
          .where('id', '=', row.id)
          .where('status', '!=', 'deleted')
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) throw imageNotFound(row.id);
        await saveExtras(trx, row.id, properties, tags);
      });
    }
    return renderImage(service, await reload(service, ctx, row.id));
  });
}

function registerDelete(app: ApiServer, service: ImageService): void {
  app.delete<{ Params: Params }>('/v2/images/:image_id', async (request, reply) => {
    const ctx = request.context;
    const { record, member } = await findImage(service, ctx, request.params.image_id);
    const { row } = record;
    authorizeImage(service, ctx, 'delete_image', row, member);
    if (row.protected) throw new Forbidden(`Image ${row.id} is protected and cannot be deleted.`);
    const now = new Date();
    const deleted = await service.db
      .updateTable('image')
      .set({ status: 'deleted', deleted_at: now, updated_at: now, worker: null })
      .where('id', '=', row.id)
      .where('status', '!=', 'deleted')
      .where('protected', '=', false)
      .executeTakeFirst();
    if (Number(deleted.numUpdatedRows) === 0) throw imageNotFound(row.id);
    await removeImageData(service, row.id, locationsOf(row));
    return reply.code(204).send();
  });
}

/** Removes an image's stored and staged data; a store failure is logged, not raised. */
export async function removeImageData(
  service: ImageService,
  imageId: string,
  locations: ReadonlyArray<{ url: string; store: string }>,
): Promise<void> {
  for (const loc of locations) {
    try {
      await service.stores.forLocation(loc.url).delete(loc.url);
    } catch (err) {
      service.logger.warn(
        { err, image: imageId, location: loc.url },
        'could not delete image data',
      );
    }
  }
  try {
    await service.staging.delete(service.staging.locationOf(imageId));
  } catch (err) {
    service.logger.warn({ err, image: imageId }, 'could not delete staged image data');
  }
}

function registerActions(app: ApiServer, service: ImageService): void {
  const action = (name: 'deactivate' | 'reactivate') =>
    app.post<{ Params: Params }>(`/v2/images/:image_id/actions/${name}`, async (request, reply) => {
      const ctx = request.context;
      const { record, member } = await findImage(service, ctx, request.params.image_id);
      const { row } = record;
      authorizeImage(service, ctx, name, row, member);
      const [from, to] =
        name === 'deactivate'
          ? (['active', 'deactivated'] as const)
          : (['deactivated', 'active'] as const);
      if (row.status !== to) {
        if (row.status !== from)
          throw new Forbidden(`Not allowed to ${name} image in status '${row.status}'`);
        const done = await service.db
          .updateTable('image')
          .set({ status: to, updated_at: new Date() })
          .where('id', '=', row.id)
          .where('status', '=', from)
          .executeTakeFirst();
        if (Number(done.numUpdatedRows) === 0)
          throw new Conflict(`Image ${row.id} changed status while being ${name}d; try again.`);
      }
      return reply.code(204).send();
    });
  action('deactivate');
  action('reactivate');
}

function registerTags(app: ApiServer, service: ImageService): void {
  app.put<{ Params: Params & { tag: string } }>(
    '/v2/images/:image_id/tags/:tag',
    async (request, reply) => {
      const ctx = request.context;
      const { record, member } = await findImage(service, ctx, request.params.image_id);
      authorizeImage(service, ctx, 'modify_image', record.row, member);
      const tag = checkTag(request.params.tag);
      if (!record.tags.includes(tag)) {
        if (record.tags.length >= TAG_QUOTA)
          throw new OverQuota(`Maximum number of tags exceeded: an image may have ${TAG_QUOTA}.`);
        await service.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('image_tag')
            .values({ image_id: record.row.id, value: tag })
            .execute()
            .catch((err: unknown) => {
              if (!isUniqueViolation(err)) throw err;
            });
          await trx
            .updateTable('image')
            .set({ updated_at: new Date() })
            .where('id', '=', record.row.id)
            .execute();
        });
      }
      return reply.code(204).send();
    },
  );
  app.delete<{ Params: Params & { tag: string } }>(
    '/v2/images/:image_id/tags/:tag',
    async (request, reply) => {
      const ctx = request.context;
      const { record, member } = await findImage(service, ctx, request.params.image_id);
      authorizeImage(service, ctx, 'modify_image', record.row, member);
      const gone = await service.db
        .deleteFrom('image_tag')
        .where('image_id', '=', record.row.id)
        .where('value', '=', request.params.tag)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0)
        throw new NotFound(`Tag ${request.params.tag} not found.`);
      await service.db
        .updateTable('image')
        .set({ updated_at: new Date() })
        .where('id', '=', record.row.id)
        .execute();
      return reply.code(204).send();
    },
  );
}

export function registerImageRoutes(app: ApiServer, service: ImageService): void {
  registerCreate(app, service);
  registerReadRoutes(app, service);
  registerUpdate(app, service);
  registerDelete(app, service);
  registerActions(app, service);
  registerTags(app, service);
}
