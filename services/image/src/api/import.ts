import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict, NotFound, OverQuota } from '@stratus/common';
import { paginate } from '@stratus/db';
import { parseListQuery } from '@stratus/api-kit';
import { authorizeImage, findImage, locationsOf } from '../core/images.js';
import { runImport, setProperty, type ImportMethod } from '../core/import.js';
import { enforceQuota, remainingBytes } from '../core/quotas.js';
import { isAdmin, runInBackground, type ImageService } from '../core/service.js';
import { createTask, renderTask } from '../core/tasks.js';
import { countUploading, storedBytes } from '../core/usage.js';
import { claim } from './data.js';
import { bodyObject } from './body.js';
import { UUID } from '../core/validate.js';

type Params = { image_id: string };

function parseStores(service: ImageService, body: Record<string, unknown>): string[] | undefined {
  const stores = body['stores'];
  const all = body['all_stores'];
  if (all !== undefined && typeof all !== 'boolean')
    throw new BadRequest("'all_stores' must be a boolean.");
  if (stores !== undefined && all === true)
    throw new BadRequest("'stores' and 'all_stores' cannot be given together.");
  if (all === true) return service.stores.all().map((s) => s.descriptor.id);
  if (stores === undefined) return undefined;
  if (!Array.isArray(stores) || stores.some((s) => typeof s !== 'string'))
    throw new BadRequest("'stores' must be a list of store ids.");
  for (const s of stores) service.stores.get(s as string);
  return [...new Set(stores as string[])];
}

export function registerImportRoutes(app: ApiServer, service: ImageService): void {
  app.post<{ Params: Params }>('/v2/images/:image_id/import', async (request, reply) => {
    const ctx = request.context;
    const body = bodyObject(request);
    const method = body['method'] as Record<string, unknown> | undefined;
    const name = method?.['name'];
    if (typeof method !== 'object' || method === null || typeof name !== 'string')
      throw new BadRequest('Import request requires a method: {"method": {"name": …}}.');
    if (!['glance-direct', 'web-download', 'copy-image', 'glance-download'].includes(name))
      throw new BadRequest(`Unknown import method name '${name}'.`);
    if (!(service.settings.import_methods as readonly string[]).includes(name))
      throw new BadRequest(`Import method ${name} is not enabled here.`);
    const mustSucceed = body['all_stores_must_succeed'] ?? true;
    if (typeof mustSucceed !== 'boolean')
      throw new BadRequest("'all_stores_must_succeed' must be a boolean.");
    const requested = parseStores(service, body);
    const { record, member } = await findImage(service, ctx, request.params.image_id);
    const { row } = record;
    const owner = row.owner ?? undefined;
    let targets = requested ?? [service.stores.default.descriptor.id];
    let sizeCap = service.settings.image_size_cap;
    if (name === 'copy-image') {
      authorizeImage(service, ctx, 'copy_image', row, member);
      if (row.status !== 'active')
        throw new Conflict(`Image ${row.id} is ${row.status}; only active images can be copied.`);
      if (!requested)
        throw new BadRequest('copy-image needs the stores to copy to (stores or all_stores).');
      const have = new Set(locationsOf(row).map((l) => l.store));
      targets = targets.filter((s) => !have.has(s));
      if (targets.length === 0)
        throw new Conflict(`Image ${row.id} is already in every store asked for.`);
      const remaining = await remainingBytes(service.quotas, owner, 'image_size_total', () =>
        storedBytes(service, owner ?? ''),
      );
      if ((row.size ?? 0) * targets.length > remaining)
        throw new OverQuota(
          `Copying image ${row.id} to ${targets.length} stores would exceed the quota.`,
        );
      const done = await service.db
        .updateTable('image')
        .set({ worker: service.worker, heartbeat_at: new Date() })
        .where('id', '=', row.id)
        .where('status', '=', 'active')
        .where('worker', 'is', null)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0)
        throw new Conflict(`Image ${row.id} is being imported or copied already.`);
    } else {
      authorizeImage(service, ctx, 'modify_image', row, member);
      if (name === 'glance-direct' && (row.status !== 'uploading' || row.worker !== null))
        throw new Conflict("Image needs to be staged before 'glance-direct' method can be used");
      if (name === 'web-download') {
        if (row.status !== 'queued')
          throw new Conflict(
            `Image ${row.id} is ${row.status}; web-download needs a queued image.`,
          );
        if (typeof method['uri'] !== 'string' || method['uri'] === '')
          throw new BadRequest("web-download needs the 'uri' to download.");
      }
      if (name === 'glance-download') {
        if (row.status !== 'queued')
          throw new Conflict(
            `Image ${row.id} is ${row.status}; glance-download needs a queued image.`,
          );
        const remoteId = method['glance_image_id'];
        if (typeof remoteId !== 'string' || !UUID.test(remoteId))
          throw new BadRequest(
            `The glance_image_id ${JSON.stringify(remoteId)}: image id does not look like a UUID.`,
          );
        for (const key of ['glance_region', 'glance_service_interface'])
          if (method[key] !== undefined && typeof method[key] !== 'string')
            throw new BadRequest(`'${key}' must be a string.`);
      }
      if (!row.disk_format || !row.container_format)
        throw new BadRequest(
          'Properties disk_format, container_format must be set prior to importing data.',
        );
      // A staged image (glance-direct) is counted as uploading already.
      await enforceQuota(
        service.quotas,
        owner,
        'image_count_uploading',
        () => countUploading(service, owner ?? ''),
        name === 'glance-direct' ? 0 : 1,
      );
      const remaining = await remainingBytes(service.quotas, owner, 'image_size_total', () =>
        storedBytes(service, owner ?? ''),
      );
      sizeCap = Math.min(sizeCap, Math.floor(remaining / Math.max(1, targets.length)));
      await claim(service, row, name === 'glance-direct' ? 'uploading' : 'queued', 'importing');
    }
    const task = await createTask(service, {
      type: 'api_image_import',
      owner: ctx.project_id ?? row.owner ?? '',
      input: { image_id: row.id, import_req: body, backend: targets },
      imageId: row.id,
      requestId: request.id,
      userId: ctx.user_id ?? null,
      status: 'processing',
    });
    await setProperty(service, row.id, 'os_glance_import_task', task.id);
    await setProperty(service, row.id, 'os_glance_importing_to_stores', targets.join(','));
    await setProperty(service, row.id, 'os_glance_failed_import', '');
    runInBackground(service, 'image import', () =>
      runImport(service, {
        imageId: row.id,
        taskId: task.id,
        method: name as ImportMethod,
        stores: targets,
        allStoresMustSucceed: mustSucceed,
        ...(typeof method['uri'] === 'string' ? { uri: method['uri'] } : {}),
        ...(name === 'glance-download'
          ? {
              remote: {
                imageId: String(method['glance_image_id']),
                region:
                  typeof method['glance_region'] === 'string'
                    ? method['glance_region']
                    : service.region,
                interface:
                  typeof method['glance_service_interface'] === 'string'
                    ? method['glance_service_interface']
                    : 'public',
                token: ctx.auth_token ?? '',
              },
            }
          : {}),
        sizeCap,
      }),
    );
    return reply.code(202).send();
  });

  app.get<{ Params: Params }>('/v2/images/:image_id/tasks', async (request) => {
    const ctx = request.context;
    const { record } = await findImage(service, ctx, request.params.image_id, 'get_image');
    const tasks = await service.db
      .selectFrom('task')
      .selectAll()
      .where('image_id', '=', record.row.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return { tasks: tasks.map((t) => renderTask(t)) };
  });

  app.get('/v2/tasks', async (request) => {
    const ctx = request.context;
    service.enforcer.enforce('tasks_api_access', {}, ctx, { doRaise: true });
    service.enforcer.enforce('get_tasks', {}, ctx, { doRaise: true });
    const query = (request.query ?? {}) as Record<string, string | string[] | undefined>;
    const parsed = parseListQuery(query, {
      sortKeys: ['id', 'type', 'status', 'created_at', 'updated_at'],
      defaultSort: [{ key: 'created_at', dir: 'desc' }],
      maxLimit: service.settings.api_limit_max,
      defaultDir: 'desc',
      filters: ['type', 'status'],
    });
    let q = service.db.selectFrom('task').selectAll();
    if (!isAdmin(service, ctx)) q = q.where('owner', '=', ctx.project_id ?? '');
    const { type, status } = parsed.filters;
    if (typeof type === 'string') q = q.where('type', '=', type);
    if (typeof status === 'string') q = q.where('status', '=', status as 'pending');
    let marker: object | undefined;
    if (parsed.marker) {
      marker = await service.db
        .selectFrom('task')
        .selectAll()
        .where('id', '=', parsed.marker)
        .executeTakeFirst();
      if (!marker) throw new BadRequest(`Invalid marker ${parsed.marker}.`);
    }
    const { limit_param_default: pageSize, api_limit_max: maxLimit } = service.settings;
    const limit = query['limit'] === undefined ? Math.min(pageSize, maxLimit) : parsed.limit;
    const rows = await paginate(q, {
      sort: parsed.sort,
      ...(marker ? { marker } : {}),
      limit,
    });
    // first and next repeat the query (filters, limit, sort) without its marker.
    const at = request.url.indexOf('?');
    const params = new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1));
    params.delete('marker');
    const body: Record<string, unknown> = {
      tasks: rows.map((t) => renderTask(t, false)),
      first: params.size > 0 ? `/v2/tasks?${params}` : '/v2/tasks',
      schema: '/v2/schemas/tasks',
    };
    const last = rows.at(-1);
    if (last && rows.length === limit && limit > 0) {
      params.append('marker', last.id);
      body['next'] = `/v2/tasks?${params}`;
    }
    return body;
  });

  app.get<{ Params: { task_id: string } }>('/v2/tasks/:task_id', async (request) => {
    const ctx = request.context;
    service.enforcer.enforce('tasks_api_access', {}, ctx, { doRaise: true });
    service.enforcer.enforce('get_task', {}, ctx, { doRaise: true });
    const task = await service.db
      .selectFrom('task')
      .selectAll()
      .where('id', '=', request.params.task_id)
      .executeTakeFirst();
    if (!task || (!isAdmin(service, ctx) && task.owner !== ctx.project_id))
      throw new NotFound(`Task with the given ID ${request.params.task_id} was not found.`);
    return renderTask(task);
  });
}
