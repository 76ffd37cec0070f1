import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFound, RemoteError, defineError, type Logger } from '@stratus/common';
import Type from 'typebox';
import type { RequestContext } from './context.js';
import type { ErrorFormat } from './errors.js';
import { createApiServer, type ApiServerOptions } from './server.js';

const REQ_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NetworkNotFound = defineError('NetworkNotFound', 404, 'Network could not be found.');

/** A logger that keeps every line with the bindings of the child it was written to. */
function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (lvl: string) =>
      (objOrMsg: Record<string, unknown> | string, msg?: string): void => {
        const fields = typeof objOrMsg === 'string' ? { msg: objOrMsg } : { ...objOrMsg, msg };
        lines.push({ level: lvl, ...bindings, ...fields });
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { logger: make({}), lines };
}

function server(options: Partial<ApiServerOptions> = {}) {
  const app = createApiServer({ service: 'compute', errorFormat: 'nova', ...options });
  app.get(
    '/things/:id',
    { schema: { params: Type.Object({ id: Type.String() }) } },
    async (request) => ({ id: request.params.id, rid: request.requestId }),
  );
  app.get('/missing', async () => {
    throw new NotFound('Thing 42 could not be found.');
  });
  app.get('/network', async () => {
    throw new NetworkNotFound('Network n1 could not be found.');
  });
  app.get('/boom', async () => {
    throw new Error('connect ECONNREFUSED 10.0.0.5:5432 at /srv/db.js');
  });
  app.get('/remote', async () => {
    throw new RemoteError("TypeError: Cannot read properties of undefined (reading 'host')");
  });
  app.get('/teapot', async () => {
    throw Object.assign(new Error('SELECT * FROM users'), { statusCode: 418 });
  });
  app.post(
    '/servers',
    {
      schema: {
        body: Type.Object({
          server: Type.Object(
            { name: Type.String({ maxLength: 8 }), count: Type.Optional(Type.Integer()) },
            { additionalProperties: false },
          ),
        }),
      },
    },
    async (request, reply) => reply.code(202).send({ server: request.body.server }),
  );
  app.get(
    '/search',
    { schema: { querystring: Type.Object({ limit: Type.Optional(Type.Integer()) }) } },
    async (request) => ({ limit: request.query.limit }),
  );
  app.get('/whoami', async (request) => request.context);
  app.get('/open', { config: { public: true } }, async (request) => request.context);
  app.get('/base', async (request) => ({ base: request.baseUrl }));
  return app;
}

describe('request ids', () => {
  it('answers every request with a fresh x-openstack-request-id and the extra headers', async () => {
    const app = server({ requestIdHeaders: ['x-compute-request-id'] });
    const ok = await app.inject({ url: '/things/7' });
    assert.equal(ok.statusCode, 200);
    const id = ok.headers['x-openstack-request-id'];
    assert.match(String(id), REQ_ID);
    assert.equal(ok.headers['x-compute-request-id'], id);
    assert.equal(ok.json().rid, id, 'request.requestId is the id sent back');

    for (const url of ['/missing', '/no/such/route', '/boom']) {
      const res = await app.inject({ url });
      assert.match(String(res.headers['x-openstack-request-id']), REQ_ID, url);
      assert.equal(res.headers['x-compute-request-id'], res.headers['x-openstack-request-id']);
    }
    const again = await app.inject({ url: '/things/7' });
    assert.notEqual(again.headers['x-openstack-request-id'], id);
  });

  it('takes a caller id as the global request id only, never as the local one', async () => {
    const app = server();
    const global = 'req-3dccb8c4-08fe-4706-a91d-e843b8fe9ed2';
    const res = await app.inject({ url: '/whoami', headers: { 'x-openstack-request-id': global } });
    const ctx = res.json();
    assert.notEqual(res.headers['x-openstack-request-id'], global);
    assert.equal(ctx.request_id, res.headers['x-openstack-request-id']);
    assert.equal(ctx.global_request_id, global);

    const bogus = await app.inject({
      url: '/whoami',
      headers: { 'x-openstack-request-id': 'not-an-id' },
    });
    assert.equal(bogus.json().global_request_id, undefined);
  });

  it('writes one access-log line per request with method, url, status, duration and id', async () => {
    const { logger, lines } = recordingLogger();
    const app = server({ logger });
    const res = await app.inject({ url: '/things/7?x=1' });
    const access = lines.filter((l) => l.msg === 'request completed');
    assert.equal(access.length, 1);
    const line = access[0] ?? {};
    assert.equal(line.level, 'info');
    assert.equal(line.method, 'GET');
    assert.equal(line.url, '/things/7?x=1');
    assert.equal(line.status, 200);
    assert.equal(typeof line.duration_ms, 'number');
    assert.equal(line.request_id, res.headers['x-openstack-request-id']);
    assert.equal(line.api, 'compute');
  });
});

describe('error bodies', () => {
  const cases: [ErrorFormat, string, unknown][] = [
    [
      'keystone',
      '/missing',
      { error: { code: 404, title: 'Not Found', message: 'Thing 42 could not be found.' } },
    ],
    ['nova', '/missing', { itemNotFound: { code: 404, message: 'Thing 42 could not be found.' } }],
    [
      'neutron',
      '/network',
      {
        NeutronError: {
          type: 'NetworkNotFound',
          message: 'Network n1 could not be found.',
          detail: '',
        },
      },
    ],
    [
      'glance',
      '/missing',
      { message: 'Thing 42 could not be found.', code: '404 Not Found', title: 'Not Found' },
    ],
  ];
  for (const [format, url, body] of cases) {
    it(`writes ${format}'s shape`, async () => {
      const res = await server({ errorFormat: format }).inject({ url });
      assert.equal(res.statusCode, 404);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), body);
    });
  }

  it('answers an unknown route with a 404 in the service shape', async () => {
    const nova = await server().inject({ url: '/nowhere' });
    assert.equal(nova.statusCode, 404);
    assert.deepEqual(Object.keys(nova.json()), ['itemNotFound']);
    const keystone = await server({ errorFormat: 'keystone' }).inject({ url: '/nowhere' });
    assert.equal(keystone.json().error.code, 404);
  });

  it('answers a known path with a wrong method 405 and an Allow header', async () => {
    const res = await server().inject({ method: 'DELETE', url: '/things/7' });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.equal(res.json().badMethod.code, 405);
    assert.match(res.json().badMethod.message, /DELETE/);
    // The same holds with a trailing slash, which the router ignores too.
    const slash = await server().inject({ method: 'PUT', url: '/servers/' });
    assert.equal(slash.statusCode, 405);
    assert.equal(slash.headers.allow, 'POST');
  });

  it('hides the internals of an unexpected error behind a 500 and logs it with the id', async () => {
    const { logger, lines } = recordingLogger();
    const res = await server({ logger }).inject({ url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), {
      computeFault: { code: 500, message: 'An unexpected error prevented the request.' },
    });
    assert.doesNotMatch(res.body, /ECONNREFUSED|srv|at /);
    const logged = lines.find((l) => l.level === 'error');
    assert.ok(logged, 'the error is logged');
    assert.equal(logged.request_id, res.headers['x-openstack-request-id']);
    assert.match(String((logged.err as Error).message), /ECONNREFUSED/);

    for (const url of ['/remote', '/teapot']) {
      const other = await server().inject({ url });
      assert.equal(other.statusCode, 500, url);
      assert.doesNotMatch(other.body, /TypeError|SELECT/, url);
    }
  });

  it('rejects a malformed URL in the service shape, with a request id', async () => {
    const res = await server().inject({ url: '/things/%zz' });
    assert.equal(res.statusCode, 400);
    assert.ok(res.json().badRequest);
    assert.match(String(res.headers['x-openstack-request-id']), REQ_ID);
  });
});

describe('request bodies', () => {
  const post = (
    payload: string,
    options: Partial<ApiServerOptions> = {},
    type = 'application/json',
  ) =>
    server(options).inject({
      method: 'POST',
      url: '/servers',
      payload,
      headers: { 'content-type': type },
    });

  it('accepts a valid body', async () => {
    const res = await post('{"server":{"name":"vm1"}}');
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { server: { name: 'vm1' } });
  });

  it('names the field that failed validation', async () => {
    const wrongType = await post('{"server":{"name":42}}');
    assert.equal(wrongType.statusCode, 400);
    assert.match(wrongType.json().badRequest.message, /^Invalid input for field 'server\/name': /);

    const missing = await post('{"server":{}}', { errorFormat: 'keystone' });
    assert.equal(missing.statusCode, 400);
    assert.equal(
      missing.json().error.message,
      "Invalid input for field 'server/name': 'name' is a required property",
    );

    const extra = await post('{"server":{"name":"a","flavor":1}}');
    assert.equal(extra.statusCode, 400, 'unexpected properties are refused, not dropped');
    assert.match(extra.json().badRequest.message, /'server'.*'flavor' was unexpected/);

    const noCoercion = await post('{"server":{"name":"a","count":"3"}}');
    assert.equal(noCoercion.statusCode, 400, 'bodies are not coerced');
    assert.match(noCoercion.json().badRequest.message, /'server\/count'/);
  });

  it('converts and validates query parameters, naming the bad one', async () => {
    const app = server();
    assert.deepEqual((await app.inject({ url: '/search?limit=5' })).json(), { limit: 5 });
    const bad = await app.inject({ url: '/search?limit=many' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().badRequest.message, /query parameter 'limit'/);
  });

  it('answers malformed JSON with a 400', async () => {
    const res = await post('{"server": {"name": ');
    assert.equal(res.statusCode, 400);
    assert.match(res.json().badRequest.message, /^Malformed request body/);
  });

  it('takes an empty JSON body as no body, as clients send bodiless PUTs', async () => {
    const app = createApiServer({ service: 'identity', errorFormat: 'keystone' });
    app.put('/grant', async (request) => ({ body: request.body ?? null }));
    const res = await app.inject({
      method: 'PUT',
      url: '/grant',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { body: null });
  });

  it('answers a body over the limit with a 413', async () => {
    const big = JSON.stringify({ server: { name: 'x'.repeat(2000) } });
    const res = await post(big, { bodyLimit: 1000 });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().overLimit.code, 413);
    assert.equal((await post('{"server":{"name":"a"}}', { bodyLimit: 1000 })).statusCode, 202);
  });

  it('answers an unsupported content type with a 415', async () => {
    const res = await post('<server/>', {}, 'application/xml');
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().badMediaType.code, 415);
  });
});

describe('authentication plug point', () => {
  const alice: RequestContext = {
    request_id: 'ignored',
    user_id: 'alice',
    project_id: 'p1',
    roles: ['member'],
    is_admin: false,
  };
  const authenticate = async (request: { headers: Record<string, unknown> }) =>
    request.headers['x-auth-token'] === 'good' ? alice : undefined;

  it('gives every route an anonymous context when no authenticate is configured', async () => {
    const res = await server().inject({ url: '/whoami' });
    assert.equal(res.statusCode, 200);
    const ctx = res.json();
    assert.deepEqual(ctx.roles, []);
    assert.equal(ctx.is_admin, false);
    assert.equal(ctx.user_id, undefined);
    assert.equal(ctx.request_id, res.headers['x-openstack-request-id']);
  });

  it('refuses an unauthenticated request with a 401 and passes an authenticated one', async () => {
    const app = server({ authenticate, errorFormat: 'keystone' });
    const anon = await app.inject({ url: '/whoami' });
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().error.title, 'Unauthorized');

    const res = await app.inject({ url: '/whoami', headers: { 'x-auth-token': 'good' } });
    assert.equal(res.statusCode, 200);
    const ctx = res.json();
    assert.equal(ctx.user_id, 'alice');
    assert.equal(ctx.request_id, res.headers['x-openstack-request-id']);
  });

  it('skips authentication on public routes, the health check and unknown routes', async () => {
    const app = server({ authenticate });
    const open = await app.inject({ url: '/open' });
    assert.equal(open.statusCode, 200);
    assert.equal(open.json().user_id, undefined);
    assert.equal((await app.inject({ url: '/healthcheck' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/nowhere' })).statusCode, 404);
  });
});

describe('base URL', () => {
  it('uses the Host header, X-Forwarded-Proto/Host, or the configured public URL', async () => {
    const app = server();
    const direct = await app.inject({ url: '/base', headers: { host: 'api.local:8774' } });
    assert.equal(direct.json().base, 'http://api.local:8774');
    const proxied = await app.inject({
      url: '/base',
      headers: {
        host: '10.0.0.1:8774',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'cloud.example.com, 10.0.0.9',
      },
    });
    assert.equal(proxied.json().base, 'https://cloud.example.com');
    const configured = server({ publicBaseUrl: 'https://cloud.example.com/compute/' });
    const res = await configured.inject({ url: '/base', headers: { host: 'x:1' } });
    assert.equal(res.json().base, 'https://cloud.example.com/compute');
  });
});
