import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiServer } from './server.js';
import {
  keystoneVersion,
  keystoneVersions,
  novaVersion,
  novaVersions,
  type VersionInfo,
} from './versions.js';

const identityV3: VersionInfo = {
  id: 'v3.14',
  status: 'stable',
  updated: '2020-04-07T00:00:00Z',
  path: '/v3/',
  mediaType: 'application/vnd.openstack.identity-v3+json',
};

const computeV2: VersionInfo = {
  id: 'v2.0',
  status: 'SUPPORTED',
  updated: '2011-01-21T11:33:21Z',
  path: '/v2/',
  mediaType: 'application/vnd.openstack.compute+json;version=2',
};
const computeV21: VersionInfo = {
  id: 'v2.1',
  status: 'CURRENT',
  version: '2.100',
  minVersion: '2.1',
  updated: '2013-07-23T11:33:21Z',
  path: '/v2.1/',
  mediaType: 'application/vnd.openstack.compute+json;version=2.1',
  describedBy: 'http://docs.openstack.org/',
};

describe("Keystone's version documents", () => {
  it('lists versions under versions.values with status 300, linked from the request host', async () => {
    const app = createApiServer({ service: 'identity', errorFormat: 'keystone' });
    app.get('/', { config: { public: true } }, async (request, reply) =>
      reply.code(300).send(keystoneVersions(request.baseUrl, [identityV3])),
    );
    app.get('/v3', { config: { public: true } }, async (request) =>
      keystoneVersion(request.baseUrl, identityV3),
    );
    const root = await app.inject({
      url: '/',
      headers: {
        host: '10.0.0.2:5000',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'id.example.com',
      },
    });
    assert.equal(root.statusCode, 300);
    assert.deepEqual(root.json(), {
      versions: {
        values: [
          {
            id: 'v3.14',
            status: 'stable',
            updated: '2020-04-07T00:00:00Z',
            links: [{ rel: 'self', href: 'https://id.example.com/v3/' }],
            'media-types': [
              { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' },
            ],
          },
        ],
      },
    });
    const v3 = await app.inject({ url: '/v3', headers: { host: 'keystone:5000' } });
    assert.equal(v3.statusCode, 200);
    assert.equal(v3.json().version.id, 'v3.14');
    assert.deepEqual(v3.json().version.links, [{ rel: 'self', href: 'http://keystone:5000/v3/' }]);
  });
});

describe("Nova's version documents", () => {
  it('lists every major version with its microversion range and a self link', () => {
    assert.deepEqual(novaVersions('http://nova:8774/', [computeV2, computeV21]), {
      versions: [
        {
          id: 'v2.0',
          status: 'SUPPORTED',
          version: '',
          min_version: '',
          updated: '2011-01-21T11:33:21Z',
          links: [{ rel: 'self', href: 'http://nova:8774/v2/' }],
        },
        {
          id: 'v2.1',
          status: 'CURRENT',
          version: '2.100',
          min_version: '2.1',
          updated: '2013-07-23T11:33:21Z',
          links: [{ rel: 'self', href: 'http://nova:8774/v2.1/' }],
        },
      ],
    });
  });

  it('describes one version with documentation link and media types', () => {
    assert.deepEqual(novaVersion('https://cloud.example.com/compute', computeV21), {
      version: {
        id: 'v2.1',
        status: 'CURRENT',
        version: '2.100',
        min_version: '2.1',
        updated: '2013-07-23T11:33:21Z',
        links: [
          { rel: 'self', href: 'https://cloud.example.com/compute/v2.1/' },
          { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
        ],
        'media-types': [
          { base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' },
        ],
      },
    });
  });
});
