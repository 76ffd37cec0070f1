import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { identityHarness } from '../testing/harness.js';

describe('identity version discovery', async () => {
  const h = await identityHarness();
  after(() => h.close());
  const app = h.app;

  it('answers GET / with 300 and the v3 version, linked from the request host', async () => {
    const res = await app.inject({ url: '/', headers: { host: 'keystone.example:5000' } });
    assert.equal(res.statusCode, 300);
    assert.deepEqual(res.json(), {
      versions: {
        values: [
          {
            id: 'v3.14',
            status: 'stable',
            updated: '2020-04-07T00:00:00Z',
            links: [{ rel: 'self', href: 'http://keystone.example:5000/v3/' }],
            'media-types': [
              { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' },
            ],
          },
        ],
      },
    });
  });

  it('answers GET /v3 and /v3/ with the version document', async () => {
    for (const url of ['/v3', '/v3/']) {
      const res = await app.inject({ url, headers: { host: 'h:5000' } });
      assert.equal(res.statusCode, 200, url);
      const body = res.json() as { version: { id: string; links: Array<{ href: string }> } };
      assert.equal(body.version.id, 'v3.14');
      assert.equal(body.version.links[0]?.href, 'http://h:5000/v3/');
    }
  });

  it("answers unknown paths with Keystone's error body", async () => {
    const res = await app.inject({ url: '/v3/nothing-here' });
    assert.equal(res.statusCode, 404);
    const body = res.json() as { error: { code: number; title: string; message: string } };
    assert.equal(body.error.code, 404);
    assert.equal(body.error.title, 'Not Found');
    assert.match(res.headers['x-openstack-request-id'] as string, /^req-/);
  });
});
