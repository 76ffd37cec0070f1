import { createHash } from 'node:crypto';
import { ServiceUnavailable, Unauthorized } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { RequestContext } from './context.js';

/**
 * keystonemiddleware's `auth_token` for Stratus services: validates the caller's
 * X-Auth-Token (and an optional X-Service-Token) against the identity service over REST,
 * with a cache, and turns the answer into the request context policy checks read.
 */
export interface KeystoneAuthOptions {
  /** The identity endpoint, e.g. http://127.0.0.1:5000/v3. */
  authUrl: string;
  /** The service's own user, which asks identity to validate tokens. */
  serviceUser: {
    name: string;
    password: string;
    domain: string;
    project: string;
    projectDomain: string;
  };
  /** Validated tokens kept (keystonemiddleware's token_cache_time is 300 s). */
  cacheSize?: number;
  cacheTtlMs?: number;
  /** For tests; defaults to global fetch. */
  fetch?: typeof fetch;
}

interface KeystoneToken {
  token: {
    user: { id: string; name: string; domain: { id: string } };
    project?: { id: string; name: string; domain: { id: string } };
    domain?: { id: string };
    system?: { all: boolean };
    roles?: Array<{ name: string }>;
    expires_at: string;
  };
}

export type ValidatedContext = Omit<RequestContext, 'request_id'> & {
  service_user_id?: string;
  service_roles?: string[];
};

export interface KeystoneAuth {
  /** The `authenticate` option of createApiServer. */
  authenticate(request: FastifyRequest): Promise<RequestContext | undefined>;
  /** `Keystone uri="…"`, for the WWW-Authenticate header of a 401. */
  readonly wwwAuthenticate: string;
  /** The identity endpoint tokens are validated at (…/v3). */
  readonly authUrl: string;
  /**
   * GET `<authUrl><path>` as the service user (e.g. `/limits?project_id=…`): the JSON
   * body, or ServiceUnavailable when identity cannot answer.
   */
  identityGet(path: string): Promise<unknown>;
}

export function keystoneAuth(options: KeystoneAuthOptions): KeystoneAuth {
  const doFetch = options.fetch ?? fetch;
  const authUrl = options.authUrl.replace(/\/+$/, '');
  const cache = new LRUCache<string, { context: ValidatedContext; expires: number }>({
    max: options.cacheSize ?? 10_000,
  });
  const ttl = options.cacheTtlMs ?? 300_000;
  let serviceToken: { id: string; expires: number } | undefined;
  let pendingServiceToken: Promise<string> | undefined;

  const obtainServiceToken = async (): Promise<string> => {
    if (serviceToken && serviceToken.expires - Date.now() > 60_000) return serviceToken.id;
    pendingServiceToken ??= (async () => {
      const u = options.serviceUser;
      const res = await doFetch(`${authUrl}/auth/tokens?nocatalog`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: {
                user: { name: u.name, domain: { name: u.domain }, password: u.password },
              },
            },
            scope: { project: { name: u.project, domain: { name: u.projectDomain } } },
          },
        }),
      }).catch((err: unknown) => {
        throw new ServiceUnavailable(`identity service unreachable: ${(err as Error).message}`);
      });
      const id = res.headers.get('x-subject-token');
      if (res.status !== 201 || !id)
        throw new ServiceUnavailable(`the service user cannot authenticate (HTTP ${res.status})`);
      const body = (await res.json()) as KeystoneToken;
      serviceToken = { id, expires: Date.parse(body.token.expires_at) };
      return id;
    })().finally(() => {
      pendingServiceToken = undefined;
    });
    return pendingServiceToken;
  };

  const validate = async (
    token: string,
    retried = false,
  ): Promise<ValidatedContext | undefined> => {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && hit.expires > now) return hit.context;
    const res = await doFetch(`${authUrl}/auth/tokens?nocatalog`, {
      headers: { 'x-auth-token': await obtainServiceToken(), 'x-subject-token': token },
    }).catch((err: unknown) => {
      throw new ServiceUnavailable(`identity service unreachable: ${(err as Error).message}`);
    });
    if (res.status === 404) return undefined;
    if (res.status === 401 && !retried) {
      // Our own token went stale (revoked, keys rotated away): get a new one, once.
      serviceToken = undefined;
      return validate(token, true);
    }
    if (res.status !== 200)
      throw new ServiceUnavailable(`token validation failed (HTTP ${res.status})`);
    const { token: t } = (await res.json()) as KeystoneToken;
    const roles = (t.roles ?? []).map((r) => r.name);
    const context: ValidatedContext = {
      user_id: t.user.id,
      user_name: t.user.name,
      user_domain_id: t.user.domain.id,
      ...(t.project
        ? {
            project_id: t.project.id,
            project_name: t.project.name,
            project_domain_id: t.project.domain.id,
          }
        : {}),
      ...(t.domain ? { domain_id: t.domain.id } : {}),
      ...(t.system?.all ? { system_scope: 'all' } : {}),
      roles,
      is_admin: false,
      auth_token: token,
    };
    const expires = Math.min(Date.parse(t.expires_at), now + ttl);
    cache.set(key, { context, expires });
    return context;
  };

  const identityGet = async (path: string, retried = false): Promise<unknown> => {
    const res = await doFetch(`${authUrl}${path}`, {
      headers: { 'x-auth-token': await obtainServiceToken(), accept: 'application/json' },
    }).catch((err: unknown) => {
      throw new ServiceUnavailable(`identity service unreachable: ${(err as Error).message}`);
    });
    if (res.status === 401 && !retried) {
      serviceToken = undefined;
      return identityGet(path, true);
    }
    if (res.status !== 200)
      throw new ServiceUnavailable(`identity refused GET ${path} (HTTP ${res.status})`);
    return res.json();
  };

  return {
    identityGet,
    authUrl,
    wwwAuthenticate: `Keystone uri="${authUrl}"`,
    async authenticate(request) {
      const token = request.headers['x-auth-token'];
      if (typeof token !== 'string' || token === '') return undefined;
      const cached = await validate(token);
      if (!cached) return undefined;
      const context = { ...cached };
      const serviceHeader = request.headers['x-service-token'];
      if (typeof serviceHeader === 'string' && serviceHeader !== '') {
        const service = await validate(serviceHeader);
        if (!service) throw new Unauthorized('The service token is not valid.');
        context.service_user_id = service.user_id ?? '';
        context.service_roles = service.roles;
      }
      return { ...context, request_id: request.id };
    },
  };
}
