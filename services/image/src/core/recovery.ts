import { finishTask } from './tasks.js';
import { setProperty } from './import.js';
import { STALE_MS } from './ingest.js';
import type { ImageService } from './service.js';

/**
 * Puts back images whose data a dead process was writing: an upload (`saving`) or a
 * staging (`uploading` with a claim) goes back to `queued`, an import back to
 * `uploading` when its staged data survived and to `queued` otherwise, a copy leaves the
 * image active; the import's task fails. A claim is dead when it is this process's
 * own from a previous life (its id starts with `deadWorkerPrefix`: this host's, when one
 * image API runs per host) or its heartbeat is older than STALE_MS.
 * Partial files left in the stores are removed too. Returns the ids put back.
 */
export async function recoverInterrupted(
  service: ImageService,
  options: { now?: Date; staleMs?: number; deadWorkerPrefix?: string } = {},
): Promise<string[]> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - (options.staleMs ?? STALE_MS));
  const stale = await service.db
    .selectFrom('image')
    .selectAll()
    .where('worker', 'is not', null)
    .where('worker', '!=', service.worker)
    .where((eb) =>
      eb.or([
        eb('heartbeat_at', 'is', null),
        eb('heartbeat_at', '<', cutoff),
        ...(options.deadWorkerPrefix
          ? [eb('worker', 'like', `${options.deadWorkerPrefix.replace(/[%_\\]/g, '')}%`)]
          : []),
      ]),
    )
    .execute();
  const recovered: string[] = [];
  for (const row of stale) {
    let status = row.status;
    let clearLocations = false;
    if (row.status === 'saving') status = 'queued';
    else if (row.status === 'uploading') {
      status = 'queued';
      await service.staging.delete(service.staging.locationOf(row.id)).catch(() => undefined);
    } else if (row.status === 'importing') {
      const staged = await service.staging
        .exists(service.staging.locationOf(row.id))
        .catch(() => false);
      status = staged ? 'uploading' : 'queued';
      clearLocations = true;
    }
    const done = await service.db
      .updateTable('image')
      .set({
        status,
        worker: null,
        heartbeat_at: null,
        updated_at: now,
        ...(clearLocations ? { locations: '[]' } : {}),
        ...(status === 'queued' ? { size: null } : {}),
      })
      .where('id', '=', row.id)
      .where('worker', '=', row.worker)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) continue;
    if (clearLocations) {
      for (const loc of JSON.parse(row.locations) as Array<{ url: string }>)
        await service.stores
          .forLocation(loc.url)
          .delete(loc.url)
          .catch(() => undefined);
    }
    const task = await service.db
      .selectFrom('image_property')
      .select('value')
      .where('image_id', '=', row.id)
      .where('name', '=', 'os_glance_import_task')
      .executeTakeFirst();
    if (task) {
      await finishTask(service, task.value, {
        status: 'failure',
        message: 'The image service stopped during the import.',
      });
      await setProperty(service, row.id, 'os_glance_import_task', null);
      await setProperty(service, row.id, 'os_glance_importing_to_stores', '');
    }
    service.logger.warn(
      { image: row.id, from: row.status, to: status },
      'recovered an interrupted upload',
    );
    recovered.push(row.id);
  }
  // Finished tasks are listed for image.task_time_to_live_s, then forgotten (Glance's
  // task scrubbing).
  await service.db.deleteFrom('task').where('expires_at', '<', now).execute();
  // The partial data of the uploads put back goes whatever its age (a fresh restart
  // finds it fresh); any other partial file only once nobody has written it for a while.
  if (recovered.length > 0) {
    await service.stores.cleanupPartials({ imageIds: recovered });
    await service.staging.cleanupPartials({ imageIds: recovered });
  }
  await service.stores.cleanupPartials({ olderThanMs: options.staleMs ?? STALE_MS });
  await service.staging.cleanupPartials({ olderThanMs: options.staleMs ?? STALE_MS });
  return recovered;
}
