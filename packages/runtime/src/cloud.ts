import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createTransport, type Transport } from '@stratus/bus';
import type { Logger } from '@stratus/common';
import { defaultDataDir } from '@stratus/config';
import { migrate, openDatabase, type Database } from '@stratus/db';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { portFor, type PortName } from './ports.js';
import { sectionSettings, type CloudConfig } from './sections.js';
import type { RoleContext, RunningRole, ServiceDefinition } from './service.js';

export interface RoleRef {
  service: string;
  role: string;
}

export interface StartOptions {
  services: readonly ServiceDefinition[];
  /** The roles to start; every role of every service when omitted (the all-in-one). */
  roles?: readonly RoleRef[];
  config: CloudConfig;
  logger: Logger;
}

export interface StartedRole extends RoleRef {
  url: string | undefined;
  localUrl: string | undefined;
}

export interface RunningCloud {
  dataDir: string;
  roles: readonly StartedRole[];
  bus: Transport;
  /** Stops every role (last started first), then closes databases and the bus. */
  stop(): Promise<void>;
}

export function resolveDataDir(config: CloudConfig): string {
  return config.core.data_dir || defaultDataDir();
}

/** `service:role` → a role reference, refusing names that do not exist. */
export function parseRoleRef(services: readonly ServiceDefinition[], spec: string): RoleRef {
  const [service, role, ...rest] = spec.split(':');
  const def = services.find((s) => s.name === service);
  if (!service || !role || rest.length > 0 || !def || !def.roles[role]) {
    const known = services.flatMap((s) => Object.keys(s.roles).map((r) => `${s.name}:${r}`));
    throw new Error(`unknown role "${spec}"; known roles: ${known.join(', ')}`);
  }
  return { service, role };
}

export async function openServiceDatabase(
  service: ServiceDefinition,
  config: CloudConfig,
  logger: Logger,
): Promise<Database<unknown>> {
  return openDatabase<unknown>({
    service: service.name,
    url: config.database.url,
    dataDir: resolveDataDir(config),
    poolMax: config.database.pool_max,
    busyTimeoutMs: config.database.busy_timeout_ms,
    autoCreate: config.database.auto_create,
    logger,
  });
}

/** Applies each service's pending migrations (`stratus db sync`). */
export async function syncDatabases(
  services: readonly ServiceDefinition[],
  config: CloudConfig,
  logger: Logger,
): Promise<Array<{ service: string; applied: string[] }>> {
  await mkdir(resolveDataDir(config), { recursive: true });
  const results = [];
  for (const service of services) {
    const database = await openServiceDatabase(service, config, logger);
    try {
      results.push({ service: service.name, applied: await migrate(database, service.migrations) });
    } finally {
      await database.close();
    }
  }
  return results;
}

/**
 * Starts roles in this process: opens and migrates the databases they need, creates the
 * bus, then starts the roles. If anything fails, what was started is stopped again, so a
 * failed start leaves no listening socket or open database behind.
 */
export async function startCloud(options: StartOptions): Promise<RunningCloud> {
  const { config, logger, services } = options;
  const dataDir = resolveDataDir(config);
  await mkdir(dataDir, { recursive: true });
  const wanted =
    options.roles ??
    services.flatMap((s) => Object.keys(s.roles).map((role) => ({ service: s.name, role })));

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const databases = new Map<string, Database<unknown>>();
  const running: Array<{ ref: StartedRole; handle: RunningRole }> = [];
  const bus = createTransport({
    transport: config.bus.transport,
    url: config.bus.url,
    exchange: config.bus.exchange,
    logger,
  });

  const stop = async (): Promise<void> => {
    for (const { ref, handle } of running.splice(0).reverse()) {
      await handle
        .stop()
        .catch((err: unknown) => logger.error({ err, ...ref }, 'role failed to stop'));
    }
    for (const db of databases.values()) await db.close().catch(() => undefined);
    databases.clear();
    await bus.close();
  };

  try {
    const host = config.core.host || hostname();
    const port = (name: PortName): number => portFor(name, config.core.port_offset);
    const publicUrl = (name: PortName): string => publicUrlFor(config, name);
    const catalog = cloudCatalog(services, config);
    for (const ref of wanted) {
      const service = services.find((s) => s.name === ref.service);
      const role = service?.roles[ref.role];
      if (!service || !role) throw new Error(`unknown role ${ref.service}:${ref.role}`);
      let database = databases.get(service.name);
      if (role.usesDatabase && !database) {
        database = await openServiceDatabase(service, config, logger);
        databases.set(service.name, database);
        const applied = await migrate(database, service.migrations);
        if (applied.length > 0)
          logger.info({ service: service.name, applied }, 'database migrated');
      }
      const ctx: RoleContext = {
        service: service.name,
        role: ref.role,
        config,
        settings: (section) => sectionSettings(config, section),
        logger: logger.child({ service: service.name, role: ref.role }),
        database: role.usesDatabase ? database : undefined,
        bus,
        metrics,
        host,
        bindHost: config.core.bind_host,
        port,
        publicUrl,
        catalog,
      };
      const handle = await role.start(ctx);
      running.push({ ref: { ...ref, url: handle.url, localUrl: handle.localUrl }, handle });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { dataDir, roles: running.map((r) => r.ref), bus, stop };
}

/** The URL clients reach a port by: the public host (or the bind address) and the port. */
export function publicUrlFor(config: CloudConfig, name: PortName): string {
  const host = config.core.public_host || config.core.bind_host;
  return `http://${formatHost(host)}:${portFor(name, config.core.port_offset)}`;
}

/** The catalog entry of every service of a cloud, for the identity bootstrap. */
export function cloudCatalog(
  services: readonly ServiceDefinition[],
  config: CloudConfig,
): Array<{ type: string; name: string; url: string }> {
  return services.flatMap((s) =>
    s.catalog
      ? [
          {
            type: s.catalog.type,
            name: s.catalog.name,
            url: `${publicUrlFor(config, s.catalog.port)}${s.catalog.path}`,
          },
        ]
      : [],
  );
}

/** The address to connect to for a listening address (the wildcards mean loopback). */
export function connectHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '') return '127.0.0.1';
  if (bindHost === '::' || bindHost === '[::]') return '::1';
  return bindHost;
}

/** IPv6 literals need brackets inside a URL. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
