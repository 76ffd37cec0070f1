import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BadRequest } from '@stratus/common';
import type { ImageLocation } from '../db/schema.js';
import type { ImageStore } from '../store/index.js';
import { locationsOf } from './images.js';
import { heartbeat, ingestData, isBadData, type Ingested } from './ingest.js';
import { finishTask } from './tasks.js';
import type { ImageService } from './service.js';

export type ImportMethod = 'glance-direct' | 'web-download' | 'copy-image' | 'glance-download';

export interface ImportJob {
  imageId: string;
  taskId: string;
  method: ImportMethod;
  /** Target store ids. */
  stores: string[];
  allStoresMustSucceed: boolean;
  uri?: string;
  /** glance-download: the image to fetch from the image service of another region. */
  remote?: { imageId: string; region: string; interface: string; token: string };
  /** Bytes each copy may have (image_size_cap, or what the quota leaves). */
  sizeCap: number;
}

/** Sets (or, with null, removes) one of the image's `os_glance_*` bookkeeping properties. */
export async function setProperty(
  service: ImageService,
  imageId: string,
  name: string,
  value: string | null,
): Promise<void> {
  await service.db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('image_property')
      .where('image_id', '=', imageId)
      .where('name', '=', name)
      .execute();
    if (value !== null)
      await trx.insertInto('image_property').values({ image_id: imageId, name, value }).execute();
  });
}

async function getProperty(
  service: ImageService,
  imageId: string,
  name: string,
): Promise<string[]> {
  const row = await service.db
    .selectFrom('image_property')
    .select('value')
    .where('image_id', '=', imageId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row && row.value !== '' ? row.value.split(',') : [];
}

async function moveStore(service: ImageService, imageId: string, storeId: string, failed: boolean) {
  const pending = (await getProperty(service, imageId, 'os_glance_importing_to_stores')).filter(
    (s) => s !== storeId,
  );
  await setProperty(service, imageId, 'os_glance_importing_to_stores', pending.join(','));
  if (failed) {
    const list = await getProperty(service, imageId, 'os_glance_failed_import');
    if (!list.includes(storeId)) list.push(storeId);
    await setProperty(service, imageId, 'os_glance_failed_import', list.join(','));
  }
}

/** Whether web-download may fetch `uri` (the operator's allow-list). */
export function checkWebDownloadUri(service: ImageService, uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new BadRequest(`The URI ${uri} is not a valid URL.`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!service.settings.web_download_allowed_schemes.includes(scheme))
    throw new BadRequest(`web-download may not fetch ${scheme} URLs.`);
  const hosts = service.settings.web_download_allowed_hosts;
  if (!hosts.includes(url.host) && !hosts.includes(url.hostname))
    throw new BadRequest(
      `web-download may not fetch from ${url.host}: it is not in image.web_download_allowed_hosts.`,
    );
  return url;
}

/** Downloads `uri` into the staging area (web-download's first half). */
async function download(service: ImageService, job: ImportJob): Promise<void> {
  const url = checkWebDownloadUri(service, job.uri ?? '');
  // Redirects could lead anywhere: each hop must pass the allow-list too.
  let current = url;
  let response: Response | undefined;
  for (let hop = 0; hop < 5; hop++) {
    response = await service.fetch(current, { redirect: 'manual' });
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      current = checkWebDownloadUri(
        service,
        new URL(response.headers.get('location') ?? '', current).href,
      );
      await response.body?.cancel();
      continue;
    }
    break;
  }
  if (!response || response.status !== 200 || !response.body)
    throw new BadRequest(
      `Downloading ${current.href} failed: HTTP ${response?.status ?? 'redirect loop'}.`,
    );
  await stageResponse(service, job, response);
}

/** Streams a download into the staging area and records its size. */
async function stageResponse(
  service: ImageService,
  job: ImportJob,
  response: Response,
): Promise<void> {
  if (!response.body) throw new BadRequest('The download had no body.');
  const length = response.headers.get('content-length');
  const body = Readable.fromWeb(response.body as WebReadableStream);
  try {
    const staged = await ingestData(job.imageId, body, service.staging, {
      sizeCap: job.sizeCap,
      ...(length && /^\d+$/.test(length) ? { expectedSize: Number(length) } : {}),
    });
    await service.db
      .updateTable('image')
      .set({ size: staged.size })
      .where('id', '=', job.imageId)
      .execute();
  } finally {
    body.destroy();
  }
}

/**
 * Properties glance-download brings along from the source image (Glance's default
 * `[glance_download_properties] extra_properties`).
 */
const DOWNLOADED_PROPERTIES = [/^hw_/, /^trait:/, /^os_distro$/, /^os_secure_boot$/, /^os_type$/];

/**
 * glance-download's first half: finds the image service of the region asked for in the
 * caller's catalog, reads the image there with the caller's token, stages its data and
 * takes over its formats and the properties above.
 */
async function glanceDownload(service: ImageService, job: ImportJob): Promise<void> {
  const remote = job.remote;
  if (!remote || !service.identityUrl) throw new BadRequest('glance-download is not configured.');
  const headers = { 'x-auth-token': remote.token, accept: 'application/json' };
  const catalogRes = await service.fetch(`${service.identityUrl}/auth/catalog`, { headers });
  if (catalogRes.status !== 200)
    throw new BadRequest(`Identity refused the catalog (HTTP ${catalogRes.status}).`);
  const { catalog } = (await catalogRes.json()) as {
    catalog: Array<{
      type: string;
      endpoints: Array<{ interface: string; region_id?: string; region?: string; url: string }>;
    }>;
  };
  const endpoint = catalog
    .filter((c) => c.type === 'image')
    .flatMap((c) => c.endpoints)
    .find((e) => (e.region_id ?? e.region) === remote.region && e.interface === remote.interface);
  if (!endpoint)
    throw new BadRequest(
      `No image service in region ${remote.region} with interface ${remote.interface}.`,
    );
  const base = endpoint.url.replace(/\/+$/, '');
  const metaRes = await service.fetch(`${base}/v2/images/${remote.imageId}`, { headers });
  if (metaRes.status !== 200)
    throw new BadRequest(`Image ${remote.imageId} cannot be read there (HTTP ${metaRes.status}).`);
  const meta = (await metaRes.json()) as Record<string, unknown>;
  if (meta['status'] !== 'active')
    throw new BadRequest(`Image ${remote.imageId} is ${String(meta['status'])}, not active.`);
  const dataRes = await service.fetch(`${base}/v2/images/${remote.imageId}/file`, {
    headers: { 'x-auth-token': remote.token },
  });
  if (dataRes.status !== 200)
    throw new BadRequest(`Downloading image ${remote.imageId} failed (HTTP ${dataRes.status}).`);
  await stageResponse(service, job, dataRes);
  const diskFormat = typeof meta['disk_format'] === 'string' ? meta['disk_format'] : null;
  const containerFormat =
    typeof meta['container_format'] === 'string' ? meta['container_format'] : null;
  await service.db
    .updateTable('image')
    .set({ disk_format: diskFormat, container_format: containerFormat })
    .where('id', '=', job.imageId)
    .execute();
  for (const [name, value] of Object.entries(meta)) {
    if (typeof value === 'string' && DOWNLOADED_PROPERTIES.some((re) => re.test(name)))
      await setProperty(service, job.imageId, name, value);
  }
}

async function copyFrom(
  service: ImageService,
  job: ImportJob,
  target: ImageStore,
  sources: readonly ImageLocation[],
  diskFormat: string | null,
): Promise<Ingested> {
  let lastError: unknown;
  for (const loc of sources) {
    let stream: Readable | undefined;
    try {
      const source = service.staging.owns(loc.url)
        ? service.staging
        : service.stores.forLocation(loc.url);
      stream = await source.get(loc.url);
      return await ingestData(job.imageId, stream, target, { sizeCap: job.sizeCap, diskFormat });
    } catch (err) {
      lastError = err;
      if (isBadData(err)) throw err;
    } finally {
      stream?.destroy();
    }
  }
  throw lastError;
}

/**
 * Runs an import to its end in this process: the image's data goes to each target
 * store, which moves from `os_glance_importing_to_stores` to the image's `stores` or to
 * `os_glance_failed_import`. Bad bytes kill the image; any other failure (when every
 * store must succeed, or when none did) puts it back where the import started.
 */
export async function runImport(service: ImageService, job: ImportJob): Promise<void> {
  const stop = heartbeat(service, job.imageId);
  const added: ImageLocation[] = [];
  let first: Ingested | undefined;
  try {
    await service.db
      .updateTable('task')
      .set({ status: 'processing', updated_at: new Date() })
      .where('id', '=', job.taskId)
      .execute();
    const existing = locationsOf(
      await service.db
        .selectFrom('image')
        .select('locations')
        .where('id', '=', job.imageId)
        .executeTakeFirstOrThrow(),
    );
    if (job.method === 'web-download' || job.method === 'glance-download') {
      try {
        if (job.method === 'web-download') await download(service, job);
        else await glanceDownload(service, job);
      } catch (err) {
        for (const s of job.stores) await moveStore(service, job.imageId, s, true);
        throw err;
      }
    }
    // Read after the download: glance-download changes the formats.
    const row = await service.db
      .selectFrom('image')
      .selectAll()
      .where('id', '=', job.imageId)
      .executeTakeFirstOrThrow();
    const staged = service.staging.locationOf(job.imageId);
    const failures: unknown[] = [];
    for (const storeId of job.stores) {
      const target = service.stores.get(storeId);
      try {
        const result =
          job.method === 'copy-image'
            ? await copyFrom(service, job, target, existing, null)
            : await copyFrom(
                service,
                job,
                target,
                [{ url: staged, store: 'staging', metadata: {} }],
                row.disk_format,
              );
        first ??= result;
        const location = { url: result.location, store: storeId, metadata: { store: storeId } };
        added.push(location);
        await service.db.transaction().execute(async (trx) => {
          const current = await trx
            .selectFrom('image')
            .select('locations')
            .where('id', '=', job.imageId)
            .executeTakeFirstOrThrow();
          await trx
            .updateTable('image')
            .set({
              locations: JSON.stringify([...locationsOf(current), location]),
              updated_at: new Date(),
            })
            .where('id', '=', job.imageId)
            .execute();
        });
        await moveStore(service, job.imageId, storeId, false);
      } catch (err) {
        if (isBadData(err)) throw err;
        service.logger.warn({ err, image: job.imageId, store: storeId }, 'import to store failed');
        failures.push(err);
        await moveStore(service, job.imageId, storeId, true);
        if (job.allStoresMustSucceed) throw err;
      }
    }
    if (job.method !== 'copy-image' && !first)
      throw failures[0] ?? new Error('No store took the image.');
    const now = new Date();
    const done = await service.db
      .updateTable('image')
      .set({
        status: 'active',
        ...(first && job.method !== 'copy-image'
          ? {
              size: first.size,
              virtual_size: first.inspection.virtualSize,
              checksum: first.md5,
              os_hash_algo: 'sha512',
              os_hash_value: first.sha512,
            }
          : {}),
        worker: null,
        heartbeat_at: null,
        updated_at: now,
      })
      .where('id', '=', job.imageId)
      .where('worker', '=', service.worker)
      .where('status', '!=', 'deleted')
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0)
      throw new Error(`Image ${job.imageId} was deleted during the import.`);
    // Glance leaves both lists behind, empty when all went well: clients (Tempest's
    // waiters) read an empty os_glance_importing_to_stores as "done".
    await setProperty(service, job.imageId, 'os_glance_importing_to_stores', '');
    await setProperty(service, job.imageId, 'os_glance_import_task', null);
    if (job.method !== 'copy-image') await service.staging.delete(staged);
    await finishTask(service, job.taskId, { status: 'success', result: { image_id: job.imageId } });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    service.logger.warn({ err, image: job.imageId, method: job.method }, 'image import failed');
    // Undo this task's copies, copy-image's too (Glance's _ImportToStore.revert): none
    // may outlive a failed import, nor an image deleted meanwhile.
    for (const loc of added) {
      await service.stores
        .forLocation(loc.url)
        .delete(loc.url)
        .catch(() => undefined);
    }
    const undone = new Set(added.map((l) => l.url));
    const kept =
      job.method === 'copy-image'
        ? locationsOf(
            await service.db
              .selectFrom('image')
              .select('locations')
              .where('id', '=', job.imageId)
              .executeTakeFirstOrThrow(),
          ).filter((l) => !undone.has(l.url))
        : [];
    const stagedExists =
      job.method === 'glance-direct' &&
      (await service.staging.exists(service.staging.locationOf(job.imageId)).catch(() => false));
    if (job.method !== 'glance-direct' || isBadData(err))
      await service.staging.delete(service.staging.locationOf(job.imageId)).catch(() => undefined);
    const status =
      job.method === 'copy-image'
        ? 'active'
        : isBadData(err)
          ? 'killed'
          : stagedExists
            ? 'uploading'
            : 'queued';
    await service.db
      .updateTable('image')
      .set({
        status,
        worker: null,
        heartbeat_at: null,
        updated_at: new Date(),
        locations: JSON.stringify(kept),
      })
      .where('id', '=', job.imageId)
      .where('worker', '=', service.worker)
      .where('status', '!=', 'deleted')
      .execute();
    await setProperty(service, job.imageId, 'os_glance_importing_to_stores', '');
    await setProperty(service, job.imageId, 'os_glance_import_task', null);
    await finishTask(service, job.taskId, { status: 'failure', message });
  } finally {
    stop();
  }
}
