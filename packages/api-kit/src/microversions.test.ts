import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFound } from '@stratus/common';
import {
  ApiVersion,
  microversions,
  negotiateVersion,
  requestedVersion,
  type MicroversionOptions,
} from './microversions.js';
import { createApiServer } from './server.js';

const compute: MicroversionOptions = {
  service: 'compute',
  legacyHeader: 'X-OpenStack-Nova-API-Version',
  min: '2.1',
  max: '2.100',
};

async function novaApp(options: MicroversionOptions = compute) {
  const app = createApiServer({ service: 'compute', errorFormat: 'nova' });
  app.get('/', { config: { public: true } }, async () => ({ versions: [] }));
  await app.register(
    async (api) => {
      await api.register(microversions(options));
      api.get('/servers', async (request) => ({
        version: String(request.apiVersion),
        tags: request.apiVersion.atLeast('2.26'),
        between: request.apiVersion.between('2.9', '2.10'),
      }));
      api.get('/gone', async () => {
        throw new NotFound();
      });
    },
    { prefix: '/v2.1' },
  );
  return app;
}

async function ask(headers: Record<string, string | string[]>) {
  const app = await novaApp();
  return app.inject({ url: '/v2.1/servers', headers });
}

describe('ApiVersion', () => {
  it('compares numerically: 2.10 is newer than 2.9', () => {
    const v = ApiVersion.from('2.10');
    assert.ok(v.atLeast('2.9'));
    assert.ok(!v.atMost('2.9'));
    assert.ok(ApiVersion.from('2.9').compare('2.10') < 0);
    assert.ok(ApiVersion.from('3.0').compare('2.100') > 0);
    assert.equal(ApiVersion.from('2.37').compare('2.37'), 0);
  });

  it('tests inclusive ranges, open-ended when no max is given', () => {
    const v = ApiVersion.from('2.37');
    assert.ok(v.between('2.37', '2.37'));
    assert.ok(v.between('2.1', '2.40'));
    assert.ok(!v.between('2.38', '2.90'));
    assert.ok(!v.between('2.1', '2.36'));
    assert.ok(v.between('2.30'));
  });

  it('parses only major.minor without leading zeros or spaces', () => {
    assert.equal(String(ApiVersion.parse('2.1')), '2.1');
    assert.equal(String(ApiVersion.parse('3.0')), '3.0');
    for (const bad of ['2', '2.', '.1', '2.01', '02.1', '2.1.1', ' 2.1', 'v2.1', '2.x', '']) {
      assert.equal(ApiVersion.parse(bad), undefined, bad);
    }
    assert.throws(() => ApiVersion.from('2.x'), TypeError);
  });
});

describe('requestedVersion', () => {
  it('finds the service among several, with any spacing and case', () => {
    const h = (v: string | string[]) => ({ 'openstack-api-version': v });
    assert.equal(requestedVersion(h('compute 2.37'), 'compute'), '2.37');
    assert.equal(requestedVersion(h('  compute    2.37  '), 'compute'), '2.37');
    assert.equal(requestedVersion(h('placement 1.10, compute 2.5'), 'compute'), '2.5');
    assert.equal(requestedVersion(h(['placement 1.10', 'Compute 2.6']), 'compute'), '2.6');
    assert.equal(requestedVersion(h('compute latest'), 'compute'), 'latest');
    assert.equal(requestedVersion(h('volume 3.5'), 'compute'), undefined);
    assert.equal(requestedVersion({}, 'compute'), undefined);
  });

  it('reads the legacy header only when the standard one does not name the service', () => {
    const legacy = 'X-OpenStack-Nova-API-Version';
    assert.equal(
      requestedVersion({ 'x-openstack-nova-api-version': '2.3' }, 'compute', legacy),
      '2.3',
    );
    assert.equal(
      requestedVersion(
        { 'openstack-api-version': 'compute 2.7', 'x-openstack-nova-api-version': '2.3' },
        'compute',
        legacy,
      ),
      '2.7',
    );
    assert.equal(
      requestedVersion(
        { 'openstack-api-version': 'volume 3.1', 'x-openstack-nova-api-version': '2.3' },
        'compute',
        legacy,
      ),
      '2.3',
    );
  });
});

describe('negotiateVersion', () => {
  const range = {
    min: ApiVersion.from('2.1'),
    max: ApiVersion.from('2.100'),
    defaultVersion: ApiVersion.from('2.1'),
  };
  it('picks the default, max for latest, or the version asked for', () => {
    assert.equal(String(negotiateVersion(undefined, range)), '2.1');
    assert.equal(String(negotiateVersion('latest', range)), '2.100');
    assert.equal(String(negotiateVersion('LATEST', range)), '2.100');
    assert.equal(String(negotiateVersion('2.10', range)), '2.10');
  });
});

describe('microversions plugin', () => {
  it('serves the default version when no header is sent, and says so', async () => {
    const res = await ask({});
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().version, '2.1');
    assert.equal(res.headers['openstack-api-version'], 'compute 2.1');
    assert.equal(res.headers['x-openstack-nova-api-version'], '2.1');
    assert.equal(res.headers.vary, 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  });

  it('states the version on error responses too', async () => {
    const app = await novaApp();
    const res = await app.inject({
      url: '/v2.1/gone',
      headers: { 'openstack-api-version': 'compute 2.42' },
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['openstack-api-version'], 'compute 2.42');
    assert.match(String(res.headers.vary), /OpenStack-API-Version/);
  });

  it('honours a configured default version', async () => {
    const app = await novaApp({ ...compute, defaultVersion: '2.10' });
    const res = await app.inject({ url: '/v2.1/servers' });
    assert.equal(res.json().version, '2.10');
  });

  it('serves latest as the maximum', async () => {
    const res = await ask({ 'openstack-api-version': 'compute latest' });
    assert.equal(res.json().version, '2.100');
    assert.equal(res.headers['openstack-api-version'], 'compute 2.100');
  });

  it('gives handlers comparison helpers that order 2.9 before 2.10', async () => {
    const v29 = (await ask({ 'openstack-api-version': 'compute 2.9' })).json();
    const v210 = (await ask({ 'openstack-api-version': 'compute 2.10' })).json();
    const v226 = (await ask({ 'openstack-api-version': 'compute 2.26' })).json();
    assert.deepEqual(v29, { version: '2.9', tags: false, between: true });
    assert.deepEqual(v210, { version: '2.10', tags: false, between: true });
    assert.deepEqual(v226, { version: '2.26', tags: true, between: false });
  });

  it('ignores other services and reads ours from a list', async () => {
    const other = await ask({ 'openstack-api-version': 'volume 3.60' });
    assert.equal(other.statusCode, 200);
    assert.equal(other.json().version, '2.1');
    const list = await ask({ 'openstack-api-version': 'volume 3.60,  compute 2.37 ' });
    assert.equal(list.json().version, '2.37');
  });

  it('accepts the legacy header', async () => {
    const res = await ask({ 'x-openstack-nova-api-version': '2.15' });
    assert.equal(res.json().version, '2.15');
    assert.equal(res.headers['openstack-api-version'], 'compute 2.15');
  });

  it('answers a malformed version with a 400', async () => {
    for (const value of ['compute 2.x', 'compute', 'compute 2.1 2.2', 'compute 02.1']) {
      const res = await ask({ 'openstack-api-version': value });
      assert.equal(res.statusCode, 400, value);
      assert.match(res.json().badRequest.message, /invalid format/, value);
    }
  });

  it('answers a version out of range with a 406 naming min and max', async () => {
    for (const value of ['compute 2.101', 'compute 2.0', 'compute 3.0']) {
      const res = await ask({ 'openstack-api-version': value });
      assert.equal(res.statusCode, 406, value);
      assert.deepEqual(res.json(), {
        computeFault: {
          code: 406,
          message: `Version ${value.split(' ')[1]} is not supported by the API. Minimum is 2.1 and maximum is 2.100.`,
        },
      });
      assert.match(String(res.headers['x-openstack-request-id']), /^req-/);
    }
  });

  it('leaves routes outside its scope alone', async () => {
    const app = await novaApp();
    const res = await app.inject({ url: '/', headers: { 'openstack-api-version': 'compute 9.9' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['openstack-api-version'], undefined);
  });

  it('refuses inconsistent options when it is created', () => {
    assert.throws(() => microversions({ service: 'compute', min: '2.10', max: '2.9' }), TypeError);
    assert.throws(
      () => microversions({ service: 'compute', min: '2.1', max: '2.9', defaultVersion: '2.10' }),
      TypeError,
    );
  });
});
