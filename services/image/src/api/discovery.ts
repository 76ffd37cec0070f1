import type { ApiServer } from '@stratus/api-kit';
import type { ImageService } from '../core/service.js';
import { QUOTA_RESOURCES } from '../core/quotas.js';
import { countImages, countUploading, stagedBytes, storedBytes } from '../core/usage.js';
import type { FastifyRequest } from 'fastify';

/** The v2 minor versions Glance has shipped; the last is the one served. */
const MINORS = 16;

function versions(request: FastifyRequest) {
  const href = `${request.baseUrl}/v2/`;
  const list = [];
  for (let minor = MINORS; minor >= 0; minor--) {
    list.push({
      id: `v2.${minor}`,
      status: minor === MINORS ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href }],
    });
  }
  return { versions: list };
}

export function registerDiscoveryRoutes(app: ApiServer, service: ImageService): void {
  // Glance answers the root with 300 Multiple Choices and /versions with 200.
  app.get('/', { config: { public: true } }, async (request, reply) =>
    reply.code(300).send(versions(request)),
  );
  app.get('/versions', { config: { public: true } }, async (request) => versions(request));
  app.get('/v2', { config: { public: true } }, async (request) => versions(request));

  app.get('/v2/info/import', async () => ({
    'import-methods': {
      description: 'Import methods available.',
      type: 'array',
      value: [...service.settings.import_methods],
    },
  }));

  app.get('/v2/info/stores', async () => ({
    stores: service.stores.descriptors().map((d) => ({
      id: d.id,
      description: d.description,
      ...(d.isDefault ? { default: true } : {}),
    })),
  }));

  app.get('/v2/info/stores/detail', async (request) => {
    const ctx = request.context;
    service.enforcer.enforce('stores_info_detail', {}, ctx, { doRaise: true });
    return {
      stores: service.stores.all().map((store) => {
        const d = store.descriptor;
        return {
          id: d.id,
          description: d.description,
          ...(d === service.stores.default.descriptor ? { default: true } : {}),
          type: d.type,
          weight: 0,
          properties: 'dir' in store ? { datadir: (store as { dir: string }).dir } : {},
        };
      }),
    };
  });

  app.get('/v2/info/usage', async (request) => {
    const ctx = request.context;
    const project = ctx.project_id ?? '';
    const mib = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
    const usage: Record<string, number> = {
      image_count_total: await countImages(service, project),
      image_count_uploading: await countUploading(service, project),
      image_size_total: mib(await storedBytes(service, project)),
      image_stage_total: mib(await stagedBytes(service, project)),
    };
    const out: Record<string, { limit: number; usage: number }> = {};
    for (const resource of QUOTA_RESOURCES) {
      const limit = service.quotas.enabled
        ? await service.quotas.limit(project, resource)
        : undefined;
      out[resource] = { limit: limit ?? -1, usage: usage[resource] ?? 0 };
    }
    return { usage: out };
  });
}
