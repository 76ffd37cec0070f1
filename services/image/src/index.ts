import { hostname } from 'node:os';
import {
  databaseHealthCheck,
  resolveDataDir,
  serviceKeystoneAuth,
  startApiRole,
  type RoleContext,
  type ServiceDefinition,
} from '@stratus/runtime';
import type { Kysely } from 'kysely';
import { buildImageApi } from './api/app.js';
import { allPolicies, allRoutes } from './api/routes.js';
import { imageSection } from './config.js';
import { keystoneQuotas, unlimited } from './core/quotas.js';
import { drain, openImageService } from './core/open.js';
import { recoverInterrupted } from './core/recovery.js';
import type { ImageSchema } from './db/schema.js';
import { migrations } from './migrations/index.js';

export * from './store/index.js';
export * from './format/index.js';
export { imageSection } from './config.js';
export { buildImageApi } from './api/app.js';

const CATALOG = { type: 'image', name: 'glance', port: 'image', path: '' } as const;

/** How often a running image API looks for uploads a dead process left behind. */
const SWEEP_MS = 30_000;

async function startApi(ctx: RoleContext) {
  if (!ctx.database) throw new Error('image:api needs its database');
  const settings = ctx.settings(imageSection);
  // Identity's bootstrap names each service user after its catalog entry.
  const auth = serviceKeystoneAuth(ctx, CATALOG.name);
  const host = ctx.host || hostname();
  const service = openImageService({
    db: ctx.database.db as Kysely<ImageSchema>,
    settings,
    dataDir: resolveDataDir(ctx.config),
    logger: ctx.logger,
    policies: allPolicies,
    host,
    identityUrl: auth.authUrl,
    region: ctx.config.core.region,
    quotas: settings.use_keystone_limits
      ? keystoneQuotas({
          identityGet: (path) => auth.identityGet(path),
          region: ctx.config.core.region,
        })
      : unlimited,
  });
  // This host's claims from before a restart are dead: put those images back now.
  await recoverInterrupted(service, { deadWorkerPrefix: `${host}:` });
  const sweep = setInterval(() => {
    recoverInterrupted(service).catch((err: unknown) =>
      ctx.logger.error({ err }, 'recovering interrupted uploads failed'),
    );
  }, SWEEP_MS);
  sweep.unref();
  const app = buildImageApi(service, {
    logger: ctx.logger,
    routes: allRoutes,
    authenticate: (request) => auth.authenticate(request),
    wwwAuthenticate: auth.wwwAuthenticate,
    metrics: ctx.metrics,
    bodyLimit: ctx.config.api.body_limit_bytes,
    health: [databaseHealthCheck(ctx.database)],
  });
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await drain(service);
  });
  return startApiRole(ctx, 'image', app);
}

export const imageService: ServiceDefinition = {
  name: 'image',
  title: 'Glance v2',
  catalog: CATALOG,
  migrations,
  configSections: [imageSection],
  roles: {
    api: { port: 'image', usesDatabase: true, start: startApi },
  },
};
