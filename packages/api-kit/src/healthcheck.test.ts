import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthCheck } from './healthcheck.js';
import { createApiServer } from './server.js';

const healthy: HealthCheck = { name: 'database', check: async () => undefined };
const broken: HealthCheck = {
  name: 'bus',
  check: async () => {
    throw new Error('connection refused');
  },
};
const hanging: HealthCheck = { name: 'cache', check: () => new Promise(() => {}), timeoutMs: 20 };

function app(health: HealthCheck[]) {
  return createApiServer({ service: 'image', errorFormat: 'glance', health });
}

describe('GET /healthcheck', () => {
  it('answers 200 OK as text when every check passes', async () => {
    const res = await app([healthy]).inject({ url: '/healthcheck' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal(res.body, 'OK');
  });

  it('answers JSON detail when asked for it', async () => {
    const res = await app([healthy]).inject({
      url: '/healthcheck',
      headers: { accept: 'application/json' },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { detailed: false, reasons: ['OK'] });
  });

  it('answers 503 listing each failing check, including one that never answers', async () => {
    const res = await app([healthy, broken, hanging]).inject({ url: '/healthcheck' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.body, 'bus: connection refused\ncache: no answer within 20 ms');
    const json = await app([broken]).inject({
      url: '/healthcheck',
      headers: { accept: 'application/json' },
    });
    assert.equal(json.statusCode, 503);
    assert.deepEqual(json.json().reasons, ['bus: connection refused']);
  });
});

describe('HEAD /healthcheck', () => {
  it('answers 204 when healthy and 503 when not, without a body', async () => {
    const ok = await app([healthy]).inject({ method: 'HEAD', url: '/healthcheck' });
    assert.equal(ok.statusCode, 204);
    assert.equal(ok.body, '');
    const bad = await app([broken]).inject({ method: 'HEAD', url: '/healthcheck' });
    assert.equal(bad.statusCode, 503);
    assert.equal(bad.body, '');
  });
});
