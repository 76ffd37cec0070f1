import type { ApiServer, HealthCheck } from '@stratus/api-kit';
import { pingDatabase, type Database } from '@stratus/db';
import { connectHost, formatHost } from './cloud.js';
import type { PortName } from './ports.js';
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
