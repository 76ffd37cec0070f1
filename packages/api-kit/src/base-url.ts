import type { FastifyRequest } from 'fastify';

/**
 * The scheme and authority clients reached us by, for the links in version documents
 * and pagination. A configured public URL wins (it may carry a path prefix); otherwise
 * the request's own host, as rewritten by a proxy through X-Forwarded-Proto/Host.
 */
export function requestBaseUrl(request: FastifyRequest, publicBaseUrl?: string): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, '');
  const proto = firstValue(request.headers['x-forwarded-proto']) ?? request.protocol;
  const host = firstValue(request.headers['x-forwarded-host']) ?? request.host;
  return `${proto}://${host}`;
}

/** The first of a proxy chain's comma-separated values (the one the client used). */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}
