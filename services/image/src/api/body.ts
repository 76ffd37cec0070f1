import { BadRequest, Forbidden } from '@stratus/common';
import type { FastifyRequest } from 'fastify';

/** The request body as an object, or Glance's 400. */
export function bodyObject(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) throw new BadRequest('Body expected in request.');
  if (typeof body !== 'object' || Array.isArray(body))
    throw new BadRequest('Request body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** Glance's `_check_allowed`: read-only attributes in a body are a 403. */
export function refuseReadOnly(body: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) if (key in body) throw new Forbidden(`Attribute '${key}' is read-only.`);
}
