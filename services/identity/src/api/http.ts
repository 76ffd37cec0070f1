import type { RequestContext } from '@stratus/api-kit';
import { BadRequest, NotFound } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../core/identity.js';

/**
 * The request context of an identity API call: api-kit's, plus the `token` object that
 * Keystone's policy rules read (`token.domain.id`, `token.project.domain.id`).
 */
export interface IdentityContext extends RequestContext {
  token?: {
    user: { id: string; domain: { id: string } };
    project?: { id: string; domain: { id: string } };
    domain?: { id: string };
    system?: { all: boolean };
  };
}

/**
 * Checks `identity:<action>` against the caller, or throws 403 (oslo's wording). The
 * target carries what the rule may refer to, e.g. `{ project: row }` for
 * `%(target.project.domain_id)s`, plus flat keys like `domain_id` for list filters.
 */
export function authorize(
  identity: Identity,
  request: FastifyRequest,
  action: string,
  target: Record<string, unknown> = {},
): void {
  identity.enforcer.enforce(action, { target, ...target }, request.context, { doRaise: true });
}

/** The absolute URL of a path under /v3, for `links.self`. */
export function selfLink(request: FastifyRequest, path: string): string {
  return `${request.baseUrl}/v3/${path.replace(/^\/+/, '')}`;
}

/** Keystone's list envelope: `{ <key>: [...], links: { self, previous, next } }`. */
export function collection<T>(
  request: FastifyRequest,
  key: string,
  items: T[],
): Record<string, unknown> {
  const path = request.url.split('?')[0] ?? '';
  return { [key]: items, links: { self: `${request.baseUrl}${path}`, previous: null, next: null } };
}

/** Keystone's 404 message shape: `Could not find project: <id>.` */
export function notFound(kind: string, id: string): InstanceType<typeof NotFound> {
  return new NotFound(`Could not find ${kind}: ${id}.`);
}

/** Keystone parses boolean query filters leniently (`true`, `True`, `1`, `yes`). */
export function queryBool(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  const v = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on', ''].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new BadRequest(`Invalid value for ${name}: ${String(value)}`);
}

/** JSON column helpers: `extra` holds attributes Keystone stores without a column. */
export function parseJson(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  const value: unknown = JSON.parse(text);
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
