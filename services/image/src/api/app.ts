import {
  createApiServer,
  type ApiServer,
  type HealthCheck,
  type RequestContext,
} from '@stratus/api-kit';
import type { Logger } from '@stratus/common';
import { BadRequest, NotFound } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { ImageService } from '../core/service.js';

/** Adds one group of routes (images, members, metadefs …) to the image API. */
export type RouteRegistrar = (app: ApiServer, service: ImageService) => void;

export interface ImageApiOptions {
  logger: Logger;
  routes: readonly RouteRegistrar[];
  /** Who the caller is: keystoneAuth's `authenticate`, or a test's. */
  authenticate: (request: FastifyRequest) => Promise<RequestContext | undefined>;
  wwwAuthenticate?: string;
  bodyLimit?: number;
  metrics?: Registry;
  health?: HealthCheck[];
}

/** The media types of Glance's PATCH bodies (JSON-patch drafts 4 and 10). */
export const PATCH_TYPES = [
  'application/openstack-images-v2.0-json-patch',
  'application/openstack-images-v2.1-json-patch',
] as const;

export function buildImageApi(service: ImageService, options: ImageApiOptions): ApiServer {
  const app = createApiServer({
    service: 'image',
    errorFormat: 'glance',
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    health: options.health ?? [],
    ...(options.wwwAuthenticate ? { wwwAuthenticate: options.wwwAuthenticate } : {}),
    authenticate: options.authenticate,
  });
  // Image data is streamed, never parsed: the handler gets the raw request stream, and
  // no body limit applies (image_size_cap does, in the store).
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
    done(null, payload);
  });
  app.addContentTypeParser(
    [...PATCH_TYPES],
    { parseAs: 'string', bodyLimit: options.bodyLimit ?? 1024 * 1024 },
    (_request, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(new BadRequest('Malformed JSON in request body.'), undefined);
      }
    },
  );
  // `/v2/images/` names no image: 404 as in Glance, where the router would otherwise
  // ignore the slash and answer for the collection.
  app.addHook('onRequest', async (request) => {
    if (/^\/v2\/images\/(\?|$)/.test(request.url)) throw new NotFound('No image id given.');
  });
  for (const register of options.routes) register(app, service);
  return app;
}
