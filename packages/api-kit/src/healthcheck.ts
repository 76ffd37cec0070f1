/**
 * `/healthcheck` as oslo.middleware serves it, so load balancers configured for
 * OpenStack work unchanged: GET answers 200 `OK` (or the failing reasons with a 503),
 * HEAD answers 204 or 503 without a body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects with the reason otherwise. */
  check(): Promise<void>;
  /** A check that has not answered by then counts as failed (default 5000 ms). */
  timeoutMs?: number;
}

export interface HealthReport {
  healthy: boolean;
  reasons: string[];
}

const DEFAULT_TIMEOUT_MS = 5000;

export async function runHealthChecks(checks: readonly HealthCheck[]): Promise<HealthReport> {
  const failures = await Promise.all(checks.map(runOne));
  const reasons = failures.filter((r): r is string => r !== undefined);
  return reasons.length === 0 ? { healthy: true, reasons: ['OK'] } : { healthy: false, reasons };
}

async function runOne(check: HealthCheck): Promise<string | undefined> {
  const ms = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return undefined;
  } catch (err) {
    return `${check.name}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthcheck(app: FastifyInstance, checks: readonly HealthCheck[]): void {
  const config = { public: true };

  app.get('/healthcheck', { config, exposeHeadRoute: false }, async (request, reply) => {
    const report = await runHealthChecks(checks);
    void reply.code(report.healthy ? 200 : 503);
    if (wantsJson(request)) return { detailed: false, reasons: report.reasons };
    return reply.type('text/plain; charset=utf-8').send(report.reasons.join('\n'));
  });

  app.head('/healthcheck', { config }, async (_request, reply: FastifyReply) => {
    const report = await runHealthChecks(checks);
    return reply.code(report.healthy ? 204 : 503).send();
  });
}

function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/json');
}
