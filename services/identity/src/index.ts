import type { Database } from '@stratus/db';
import {
  databaseHealthCheck,
  resolveDataDir,
  sectionSettings,
  serviceAuthSection,
  startApiRole,
  type RoleContext,
  type ServiceDefinition,
} from '@stratus/runtime';
import type { Kysely } from 'kysely';
import { buildIdentityApi } from './api/app.js';
import { allPolicies, allRoutes } from './api/routes.js';
import { identitySection, type IdentitySettings } from './config.js';
import { bootstrap } from './core/bootstrap.js';
import { openIdentity } from './core/open.js';
import { PasswordHasher } from './core/passwords.js';
import { migrations } from './migrations/index.js';
import type { IdentitySchema } from './store/schema.js';

export { buildIdentityApi } from './api/app.js';
export { IDENTITY_V3 } from './api/versions.js';
export { identitySection } from './config.js';
export { rotateFernetKeys } from './core/keys.js';

export interface BootstrapIdentityOptions {
  database: Database<unknown>;
  settings: IdentitySettings;
  region: string;
  catalog: ReadonlyArray<{ type: string; name: string; url: string }>;
  /**
   * The password of the service users: one per catalog entry besides identity, named
   * after it (`glance` …), which other services validate tokens as. Empty: none made.
   */
  servicePassword?: string;
}

/**
 * `stratus bootstrap` and every identity start: Keystone's bootstrap (idempotent) with
 * the cloud's catalog, one URL per service for all three interfaces.
 */
export async function bootstrapIdentity(options: BootstrapIdentityOptions): Promise<void> {
  const { settings } = options;
  const hasher = new PasswordHasher({
    algorithm: settings.password_hash_algorithm,
    ...(settings.password_hash_rounds > 0 ? { rounds: settings.password_hash_rounds } : {}),
  });
  await bootstrap(options.database.db as Kysely<IdentitySchema>, hasher, {
    adminPassword: settings.admin_password,
    region: options.region,
    serviceUsers: options.servicePassword
      ? options.catalog
          .filter((c) => c.type !== 'identity')
          .map((c) => ({ name: c.name, password: options.servicePassword ?? '' }))
      : [],
    catalog: options.catalog.map((c) => ({
      type: c.type,
      name: c.name,
      urls: { public: c.url, internal: c.url, admin: c.url },
    })),
  });
}

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
    policies: allPolicies,
  });
  await bootstrapIdentity({
    database: ctx.database,
    settings,
    region: ctx.config.core.region,
    catalog: ctx.catalog,
    servicePassword: sectionSettings(ctx.config, serviceAuthSection).password,
  });
  const app = buildIdentityApi(identity, {
    logger: ctx.logger,
    metrics: ctx.metrics,
    bodyLimit: ctx.config.api.body_limit_bytes,
    health: [databaseHealthCheck(ctx.database)],
    publicUrl: ctx.publicUrl('identity'),
    routes: allRoutes,
  });
  app.addHook('onClose', async () => identity.close());
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
