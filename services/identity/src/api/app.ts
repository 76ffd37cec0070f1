import { createApiServer, type ApiServer } from '@stratus/api-kit';
import { databaseHealthCheck, type RoleContext } from '@stratus/runtime';
import { registerVersionRoutes } from './versions.js';

/** The identity API application; routes are added here as the service grows. */
export function buildIdentityApi(
  ctx: Pick<RoleContext, 'logger' | 'config' | 'database'> & Partial<Pick<RoleContext, 'metrics'>>,
): ApiServer {
  const app = createApiServer({
    service: 'identity',
    errorFormat: 'keystone',
    logger: ctx.logger,
    metrics: ctx.metrics,
    bodyLimit: ctx.config.api.body_limit_bytes,
    health: ctx.database ? [databaseHealthCheck(ctx.database)] : [],
  });
  registerVersionRoutes(app);
  return app;
}
