import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createApiServer } from './server.js';

describe('GET /metrics', () => {
  it('counts requests by service, method, route pattern and status', async () => {
    const registry = new Registry();
    const compute = createApiServer({ service: 'compute', errorFormat: 'nova', metrics: registry });
    compute.get('/servers/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    // A second service in the same process shares the registry.
    const image = createApiServer({ service: 'image', errorFormat: 'glance', metrics: registry });
    image.get('/v2/images', async () => ({ images: [] }));

    await compute.inject({ url: '/servers/a' });
    await compute.inject({ url: '/servers/b' });
    await compute.inject({ url: '/no/such/thing/123' });
    await image.inject({ url: '/v2/images' });

    const res = await compute.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.match(
      text,
      /http_requests_total\{service="compute",method="GET",route="\/servers\/:id",status="200"\} 2/,
    );
    assert.match(
      text,
      /http_requests_total\{service="compute",method="GET",route="unmatched",status="404"\} 1/,
    );
    assert.match(
      text,
      /http_requests_total\{service="image",method="GET",route="\/v2\/images",status="200"\} 1/,
    );
    assert.match(
      text,
      /http_request_duration_seconds_count\{service="compute",method="GET",route="\/servers\/:id",status="200"\} 2/,
    );
    assert.doesNotMatch(text, /\/servers\/a|no\/such/, 'raw URLs never become labels');
  });

  it('is absent without a registry', async () => {
    const app = createApiServer({ service: 'compute', errorFormat: 'nova' });
    assert.equal((await app.inject({ url: '/metrics' })).statusCode, 404);
  });
});
