/**
 * The Fastify instance every service API starts from: request ids, one access-log line
 * per request, OpenStack error bodies, 404/405, the authentication plug point, the
 * health check and Prometheus metrics. Services add their routes to it.
 */
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  MethodNotAllowed,
  NotFound,
  Unauthorized,
  requestId,
  silentLogger,
  type Logger,
} from '@stratus/common';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Registry } from 'prom-client';
import { requestBaseUrl } from './base-url.js';
import { anonymousContext, type RequestContext } from './context.js';
import { errorBody, toStratusError, type ErrorFormat } from './errors.js';
import { registerHealthcheck, type HealthCheck } from './healthcheck.js';
import { registerMetrics } from './metrics.js';
import { RouteTable } from './route-table.js';

export type ApiServer = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ApiServerOptions {
  /** The service's catalog type (`compute`, `identity`…): the `api` log binding and a metrics label. */
  service: string;
  errorFormat: ErrorFormat;
  /** A pino-compatible logger; silent when omitted. */
  logger?: Logger;
  /** Largest request body in bytes (default 1 MiB); larger ones get a 413. */
  bodyLimit?: number;
  /** Headers besides `x-openstack-request-id` that carry the request id (`x-compute-request-id`). */
  requestIdHeaders?: string[];
  /** The URL clients reach this service by, when a proxy hides it from us. */
  publicBaseUrl?: string;
  /** Where `GET /metrics` reads from; shared by every service in one process. */
  metrics?: Registry;
  health?: HealthCheck[];
  /**
   * Identifies the caller of every route that is not `config: { public: true }`.
   * Returning undefined refuses the request with a 401. Without it, every route sees
   * an anonymous context.
   */
  authenticate?: (request: FastifyRequest) => Promise<RequestContext | undefined>;
  /** Sent as WWW-Authenticate with every 401: `Keystone uri="<identity URL>"`. */
  wwwAuthenticate?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** `req-<uuid>`, also sent back in `x-openstack-request-id`. */
    readonly requestId: string;
    context: RequestContext;
    /** Scheme and host (or the public base URL) for links in response bodies. */
    readonly baseUrl: string;
  }
  interface FastifyContextConfig {
    /** Skips authentication: version documents, health check, metrics. */
    public?: boolean;
  }
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const REQUEST_ID_HEADER = 'x-openstack-request-id';
const GLOBAL_REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createApiServer(options: ApiServerOptions): ApiServer {
  const idHeaders = [REQUEST_ID_HEADER, ...(options.requestIdHeaders ?? [])];
  const routes = new RouteTable();

  function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
    const err = toStratusError(error);
    if (err.status >= 500) request.log.error({ err: error }, 'request failed');
    if (err.status === 401 && options.wwwAuthenticate) {
      void reply.header('www-authenticate', options.wwwAuthenticate);
    }
    return reply
      .code(err.status)
      .type('application/json; charset=utf-8')
      .send(errorBody(options.errorFormat, err));
  }

  const app = Fastify({
    // Bound as `api`: the runtime already binds `service` (the package) and `role`.
    loggerInstance: (options.logger ?? silentLogger).child({
      api: options.service,
    }) as FastifyBaseLogger,
    // Fastify's own request lines are replaced by the single access line below.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'request_id',
    }),
    // Our own id for every request: a caller's X-OpenStack-Request-ID is only the
    // global id (see below), never trusted as the local one.
    genReqId: () => requestId(),
    requestIdHeader: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // keystoneauth and others sometimes append a slash to catalog URLs.
    routerOptions: { ignoreTrailingSlash: true },
    // A malformed URL is rejected before any hook runs; give it the same id and shape.
    frameworkErrors: (error, request, reply) => {
      for (const h of idHeaders) void reply.header(h, request.id);
      return sendError(request, reply, error);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // TypeBox's compiler converts query, params and headers to their schema types but
  // leaves bodies as sent, and rejects unexpected properties instead of dropping
  // them: Nova's `additionalProperties: false` is a 400, not a silent strip.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  app.decorateRequest('requestId', {
    getter(this: FastifyRequest) {
      return this.id;
    },
  });
  app.decorateRequest('baseUrl', {
    getter(this: FastifyRequest) {
      return requestBaseUrl(this, options.publicBaseUrl);
    },
  });
  // A placeholder: Fastify forbids a shared object here, and every request gets its
  // own context in the first onRequest hook.
  app.decorateRequest('context', null as unknown as RequestContext);

  app.addHook('onRoute', (route) => routes.add(route.url, route.method));

  // OpenStack clients (keystoneauth, Tempest) send bodiless PUTs and DELETEs with
  // `Content-Type: application/json`, which the services accept: an empty JSON body is no
  // body here, where Fastify's own parser answers 400.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else json(request, text, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    for (const h of idHeaders) void reply.header(h, request.id);
    const inbound = request.headers[REQUEST_ID_HEADER];
    const globalId =
      typeof inbound === 'string' && GLOBAL_REQUEST_ID.test(inbound) ? inbound : undefined;
    request.context = anonymousContext(request.id, globalId);
  });

  if (options.authenticate) {
    const authenticate = options.authenticate;
    app.addHook('onRequest', async (request) => {
      if (request.is404 || request.routeOptions.config.public === true) return;
      const context = await authenticate(request);
      if (!context) throw new Unauthorized();
      request.context = { ...context, request_id: request.id };
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  });

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));

  app.setNotFoundHandler(async (request, reply) => {
    const allowed = routes.allowedMethods(request.url.split('?')[0] ?? '/');
    if (allowed.length === 0) throw new NotFound();
    void reply.header('allow', allowed.join(', '));
    throw new MethodNotAllowed(`The method ${request.method} is not allowed for this resource.`);
  });

  registerHealthcheck(app, options.health ?? []);
  if (options.metrics) registerMetrics(app, options.service, options.metrics);
  return app;
}
