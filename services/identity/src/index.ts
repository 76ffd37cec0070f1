import {
  databaseHealthCheck,
  resolveDataDir,
  startApiRole,
  type RoleContext,
  type ServiceDefinition,
} from '@stratus/runtime';
import type { Kysely } from 'kysely';
import { buildIdentityApi } from './api/app.js';
import { identitySection } from './config.js';
import { bootstrap } from './core/bootstrap.js';
import { openIdentity } from './core/open.js';
import { migrations } from './migrations/0001_initial.js';
import type { IdentitySchema } from './store/schema.js';

export { buildIdentityApi } from './api/app.js';
export { IDENTITY_V3 } from './api/versions.js';
export { identitySection } from './config.js';

async function startApi(ctx: RoleContext) {
  if (!ctx.database) throw new Error('identity:api needs its database');
  const db = ctx.database.db as Kysely<IdentitySchema>;
  const settings = ctx.settings(identitySection);
  const identity = await openIdentity({
    db,
    settings,
    dataDir: resolveDataDir(ctx.config),
    region: ctx.config.core.region,
    logger: ctx.logger,
  });
  await bootstrap(db, identity.hasher, {
    adminPassword: settings.admin_password,
    region: ctx.config.core.region,
    catalog: ctx.catalog.map((c) => ({
      type: c.type,
      name: c.name,
      urls: { public: c.url, internal: c.url, admin: c.url },
    })),
  });
  const app = buildIdentityApi(identity, {
    logger: ctx.logger,
    metrics: ctx.metrics,
    bodyLimit: ctx.config.api.body_limit_bytes,
    health: [databaseHealthCheck(ctx.database)],
    publicUrl: ctx.publicUrl('identity'),
  });
  return startApiRole(ctx, 'identity', app);
}

export const identityService: ServiceDefinition = {
  name: 'identity',
  title: 'Keystone v3',
  catalog: { type: 'identity', name: 'keystone', port: 'identity', path: '/v3' },
  migrations,
  configSections: [identitySection],
  roles: {
    api: { port: 'identity', usesDatabase: true, start: startApi },
  },
};
