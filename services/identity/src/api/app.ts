import { createApiServer, type ApiServer } from '@stratus/api-kit';
import type { Logger } from '@stratus/common';
import type { HealthCheck } from '@stratus/api-kit';
import type { Registry } from 'prom-client';
import type { Identity } from '../core/identity.js';
import { registerAuthRoutes, validateToken } from './auth.js';
import type { IdentityContext } from './http.js';
import { registerVersionRoutes } from './versions.js';

/** Adds one group of routes (domains, users …) to the identity API. */
export type RouteRegistrar = (app: ApiServer, identity: Identity) => void;

export interface IdentityApiOptions {
  logger: Logger;
  /** Route groups besides versions and auth; the service passes all of them. */
  routes?: readonly RouteRegistrar[];
  bodyLimit?: number;
  metrics?: Registry;
  health?: HealthCheck[];
  /** Where clients reach identity: named in the WWW-Authenticate header of every 401. */
  publicUrl?: string;
}

/** The request context of a valid token, with the `token` object Keystone's rules read. */
async function contextFor(
  identity: Identity,
  token: string,
): Promise<Omit<IdentityContext, 'request_id'>> {
  const data = await validateToken(identity, token);
  const p = data.payload;
  return {
    user_id: data.user.id,
    user_name: data.user.name,
    user_domain_id: data.user.domain_id,
    ...(data.project
      ? {
          project_id: data.project.id,
          project_name: data.project.name,
          project_domain_id: data.project.domain_id ?? '',
        }
      : {}),
    ...(data.domain ? { domain_id: data.domain.id } : {}),
    ...(data.system ? { system_scope: 'all' } : {}),
    roles: data.roles.map((r) => r.name),
    is_admin: false,
    auth_token: token,
    token: {
      user: { id: data.user.id, domain: { id: data.user.domain_id } },
      ...(data.project
        ? { project: { id: data.project.id, domain: { id: data.project.domain_id ?? '' } } }
        : {}),
      ...(data.domain ? { domain: { id: data.domain.id } } : {}),
      ...(p.system ? { system: { all: true } } : {}),
    },
  };
}

/** The identity API: every route checks the caller's X-Auth-Token except the public ones. */
export function buildIdentityApi(identity: Identity, options: IdentityApiOptions): ApiServer {
  const app = createApiServer({
    service: 'identity',
    errorFormat: 'keystone',
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    health: options.health ?? [],
    ...(options.publicUrl ? { wwwAuthenticate: `Keystone uri="${options.publicUrl}"` } : {}),
    authenticate: async (request) => {
      const token = request.headers['x-auth-token'];
      if (typeof token !== 'string' || token === '') return undefined;
      return { request_id: request.id, ...(await contextFor(identity, token)) };
    },
  });
  registerVersionRoutes(app);
  registerAuthRoutes(app, identity);
  for (const register of options.routes ?? []) register(app, identity);
  return app;
}
