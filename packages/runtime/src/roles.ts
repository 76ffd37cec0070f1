import {
  keystoneAuth,
  type ApiServer,
  type HealthCheck,
  type KeystoneAuth,
} from '@stratus/api-kit';
import { pingDatabase, type Database } from '@stratus/db';
import { connectHost, formatHost } from './cloud.js';
import { portFor, type PortName } from './ports.js';
import { sectionSettings, serviceAuthSection } from './sections.js';
import type { RoleContext, RunningRole } from './service.js';

/** Serves an API application on its standard port (plus offset) until stopped. */
export async function startApiRole(
  ctx: RoleContext,
  portName: PortName,
  app: ApiServer,
): Promise<RunningRole> {
  const port = ctx.port(portName);
  try {
    await app.listen({ host: ctx.bindHost, port });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `${ctx.service}:${ctx.role} cannot listen on ${ctx.bindHost}:${port}: the port is in use (try --port-offset)`,
      );
    }
    throw err;
  }
  ctx.logger.info({ port }, 'listening');
  return {
    url: ctx.publicUrl(portName),
    localUrl: `http://${formatHost(connectHost(ctx.bindHost))}:${port}`,
    stop: () => app.close(),
  };
}

/** The `/healthcheck` probe of a role that uses its service's database. */
export function databaseHealthCheck(database: Database<unknown>): HealthCheck {
  return { name: 'database', check: () => pingDatabase(database) };
}

/**
 * How an API role other than identity's checks its callers' tokens: keystoneAuth as the
 * service's own user (`glance` …, in the `service_auth` project), against
 * `service_auth.auth_url` or, when that is empty, this node's identity service.
 */
export function serviceKeystoneAuth(ctx: RoleContext, userName: string): KeystoneAuth {
  const settings = sectionSettings(ctx.config, serviceAuthSection);
  if (!settings.password) {
    throw new Error(
      `${ctx.service}:${ctx.role} needs service_auth.password (STRATUS_SERVICE_AUTH__PASSWORD) to validate tokens`,
    );
  }
  const local = `http://${formatHost(connectHost(ctx.bindHost))}:${portFor('identity', ctx.config.core.port_offset)}/v3`;
  return keystoneAuth({
    authUrl: settings.auth_url || local,
    serviceUser: {
      name: userName,
      password: settings.password,
      domain: settings.domain,
      project: settings.project,
      projectDomain: settings.domain,
    },
  });
}
