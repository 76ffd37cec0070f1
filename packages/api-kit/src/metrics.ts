/**
 * Request count and latency per service, method, route pattern and status, exposed at
 * `GET /metrics`. The route is the pattern (`/servers/:id`), never the raw URL, so the
 * number of series stays bounded however many resources exist.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

const LABELS = ['service', 'method', 'route', 'status'] as const;
type Label = (typeof LABELS)[number];

/**
 * Every service of an all-in-one process shares one registry, and a registry refuses
 * a second metric of the same name: the first service creates them, the others reuse.
 */
function shared<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function registerMetrics(app: FastifyInstance, service: string, registry: Registry): void {
  const requests = shared(
    registry,
    'http_requests_total',
    () =>
      new Counter<Label>({
        name: 'http_requests_total',
        help: 'HTTP requests answered, by service, method, route pattern and status.',
        labelNames: LABELS,
        registers: [registry],
      }),
  );
  const duration = shared(
    registry,
    'http_request_duration_seconds',
    () =>
      new Histogram<Label>({
        name: 'http_request_duration_seconds',
        help: 'Time to answer HTTP requests, by service, method, route pattern and status.',
        labelNames: LABELS,
        registers: [registry],
      }),
  );

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      service,
      method: request.method,
      // Unknown URLs share one label: their raw paths would be unbounded.
      route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'),
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
