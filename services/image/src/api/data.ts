import type { Readable } from 'node:stream';
import type { ApiServer, RequestContext } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, NotFound, UnsupportedMediaType } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import { findImage, locationsOf, type ImageRow } from '../core/images.js';
import { heartbeat, ingestData, isBadData, type Ingested } from '../core/ingest.js';
import { enforceQuota, remainingBytes } from '../core/quotas.js';
import { isAdmin, type ImageService } from '../core/service.js';
import { countUploading, stagedBytes, storedBytes } from '../core/usage.js';
import { InvalidImageRange, type ImageStore } from '../store/index.js';

type Params = { image_id: string };

/** The body as a byte stream: only application/octet-stream bodies carry image data. */
function dataStream(request: FastifyRequest): Readable {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/octet-stream')
    throw new UnsupportedMediaType(
      `Image data must be sent as application/octet-stream, not ${type || 'without a Content-Type'}.`,
    );
  return request.body as Readable;
}

/** Content-Length, when the client sent one (a chunked body has none). */
function announcedSize(request: FastifyRequest): number | undefined {
  if (request.headers['transfer-encoding']) return undefined;
  const raw = request.headers['content-length'];
  return raw === undefined || !/^\d+$/.test(raw) ? undefined : Number(raw);
}

/**
 * Moves an image from `from` to `to` for this process, or answers 409: only one upload
 * of an image at a time, and never into an image that already has data.
 */
export async function claim(
  service: ImageService,
  row: ImageRow,
  from: ImageRow['status'],
  to: ImageRow['status'],
): Promise<void> {
  const now = new Date();
  const done = await service.db
    .updateTable('image')
    .set({ status: to, worker: service.worker, heartbeat_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('status', '=', from)
    .where('worker', 'is', null)
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) === 0) {
    const current = await service.db
      .selectFrom('image')
      .select('status')
      .where('id', '=', row.id)
      .executeTakeFirst();
    throw new Conflict(
      `Image status transition from ${current?.status ?? row.status} to ${to} is not allowed.`,
    );
  }
}

/**
 * Gives up this process's claim: the image goes to `status` (queued, killed …). False
 * when the claim was gone already (the image was deleted meanwhile).
 */
export async function release(
  service: ImageService,
  imageId: string,
  status: ImageRow['status'],
  extra: Partial<Pick<ImageRow, 'size'>> = {},
): Promise<boolean> {
  const done = await service.db
    .updateTable('image')
    .set({ status, worker: null, heartbeat_at: null, updated_at: new Date(), ...extra })
    .where('id', '=', imageId)
    .where('worker', '=', service.worker)
    .executeTakeFirst();
  return Number(done.numUpdatedRows) > 0;
}

function storeFor(service: ImageService, request: FastifyRequest): ImageStore {
  const header = request.headers['x-image-meta-store'];
  return typeof header === 'string' && header !== ''
    ? service.stores.get(header)
    : service.stores.default;
}

/**
 * Takes an image's data (the request body) into `store`, for an upload (`saving`) or
 * a staging (`uploading`): the count quota, the bytes the size quota leaves, this
 * process's claim with its heartbeat, the inspected stream. `keep` records the data and
 * answers false when the image went away meanwhile (its data is then removed again, 409);
 * on any failure the claim goes, the image becoming `failed(err)`.
 */
async function receive(
  service: ImageService,
  request: FastifyRequest,
  row: ImageRow,
  source: Readable,
  options: {
    to: 'saving' | 'uploading';
    quota: 'image_size_total' | 'image_stage_total';
    store: ImageStore;
    diskFormat?: string | null;
    keep(result: Ingested): Promise<boolean>;
    failed(err: unknown): ImageRow['status'];
  },
): Promise<void> {
  const owner = row.owner ?? undefined;
  await enforceQuota(service.quotas, owner, 'image_count_uploading', () =>
    countUploading(service, owner ?? ''),
  );
  const used = options.quota === 'image_size_total' ? storedBytes : stagedBytes;
  const remaining = await remainingBytes(service.quotas, owner, options.quota, () =>
    used(service, owner ?? ''),
  );
  await claim(service, row, 'queued', options.to);
  const stop = heartbeat(service, row.id);
  try {
    const expected = announcedSize(request);
    const result = await ingestData(row.id, source, options.store, {
      sizeCap: Math.min(service.settings.image_size_cap, remaining),
      capIsQuota: remaining < service.settings.image_size_cap,
      ...(options.diskFormat !== undefined ? { diskFormat: options.diskFormat } : {}),
      ...(expected !== undefined ? { expectedSize: expected } : {}),
    });
    if (!(await options.keep(result))) {
      // Deleted meanwhile: the data has nowhere to go.
      await options.store.delete(result.location);
      throw new Conflict(`Image ${row.id} was deleted during the upload.`);
    }
  } catch (err) {
    await release(service, row.id, options.failed(err));
    throw err;
  } finally {
    stop();
  }
}

async function upload(service: ImageService, request: FastifyRequest, params: Params) {
  const ctx = request.context;
  const { record } = await findImage(service, ctx, params.image_id, 'upload_image');
  const { row } = record;
  if (row.status !== 'queued')
    throw new Conflict(`Image status transition from ${row.status} to saving is not allowed.`);
  if (!row.disk_format || !row.container_format)
    throw new BadRequest(
      'Properties disk_format, container_format must be set prior to saving data.',
    );
  const source = dataStream(request);
  const store = storeFor(service, request);
  await receive(service, request, row, source, {
    to: 'saving',
    quota: 'image_size_total',
    store,
    diskFormat: row.disk_format,
    failed: (err) => (isBadData(err) ? 'killed' : 'queued'),
    keep: async (result) => {
      const location = {
        url: result.location,
        store: store.descriptor.id,
        metadata: { store: store.descriptor.id },
      };
      const done = await service.db
        .updateTable('image')
        .set({
          status: 'active',
          size: result.size,
          virtual_size: result.inspection.virtualSize,
          checksum: result.md5,
          os_hash_algo: 'sha512',
          os_hash_value: result.sha512,
          locations: JSON.stringify([location]),
          worker: null,
          heartbeat_at: null,
          updated_at: new Date(),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'saving')
        .where('worker', '=', service.worker)
        .executeTakeFirst();
      return Number(done.numUpdatedRows) > 0;
    },
  });
}

async function stage(service: ImageService, request: FastifyRequest, params: Params) {
  const ctx = request.context;
  if (!service.settings.import_methods.includes('glance-direct'))
    throw new NotFound('The glance-direct import method is not enabled.');
  const { record } = await findImage(service, ctx, params.image_id, 'upload_image');
  const { row } = record;
  if (row.status !== 'queued')
    throw new Conflict(`Image status transition from ${row.status} to uploading is not allowed.`);
  await receive(service, request, row, dataStream(request), {
    to: 'uploading',
    quota: 'image_stage_total',
    store: service.staging,
    failed: () => 'queued',
    // Staged: still `uploading`, but no longer claimed, so an import may take it.
    keep: (result) => release(service, row.id, 'uploading', { size: result.size }),
  });
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` against data of `size` bytes. */
export function parseRange(header: string, size: number): { offset: number; length: number } {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === ''))
    throw new InvalidImageRange(`Invalid Range header: ${header}`, { size });
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start)
    throw new InvalidImageRange(`Range ${header} cannot be satisfied by ${size} bytes.`, { size });
  return { offset: start, length: end - start + 1 };
}

async function download(
  service: ImageService,
  ctx: RequestContext,
  request: FastifyRequest,
  params: Params,
) {
  const { record } = await findImage(service, ctx, params.image_id, 'download_image');
  const { row } = record;
  if (row.status === 'deactivated' && !isAdmin(service, ctx))
    throw new Forbidden(
      'The requested image has been deactivated. Image data download is prohibited.',
    );
  const locations = locationsOf(row);
  if (locations.length === 0 || (row.status !== 'active' && row.status !== 'deactivated'))
    return undefined;
  const size = row.size ?? 0;
  const rangeHeader = request.headers['range'];
  const range = typeof rangeHeader === 'string' ? parseRange(rangeHeader, size) : undefined;
  let lastError: unknown;
  for (const loc of locations) {
    try {
      const store = service.stores.forLocation(loc.url);
      const stream = await store.get(loc.url, range ?? {});
      return { stream, size, range, checksum: row.checksum };
    } catch (err) {
      lastError = err;
      service.logger.warn({ err, image: row.id, location: loc.url }, 'image data unreadable here');
    }
  }
  throw lastError instanceof Error
    ? lastError
    : new NotFound(`Image ${row.id} has no readable data.`);
}

export function registerDataRoutes(app: ApiServer, service: ImageService): void {
  app.put<{ Params: Params }>('/v2/images/:image_id/file', async (request, reply) => {
    await upload(service, request, request.params);
    return reply.code(204).send();
  });

  app.put<{ Params: Params }>('/v2/images/:image_id/stage', async (request, reply) => {
    await stage(service, request, request.params);
    return reply.code(204).send();
  });

  app.get<{ Params: Params }>('/v2/images/:image_id/file', async (request, reply) => {
    const found = await download(service, request.context, request, request.params);
    if (!found) return reply.code(204).send();
    const { stream, size, range, checksum } = found;
    void reply.header('content-type', 'application/octet-stream');
    if (range) {
      void reply
        .code(206)
        .header('content-range', `bytes ${range.offset}-${range.offset + range.length - 1}/${size}`)
        .header('content-length', String(range.length));
    } else {
      void reply.header('content-length', String(size));
      if (checksum) void reply.header('content-md5', checksum);
    }
    return reply.send(stream);
  });
}
