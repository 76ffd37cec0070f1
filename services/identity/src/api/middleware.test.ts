import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createApiServer, keystoneAuth } from '@stratus/api-kit';
import { identityHarness } from '../testing/harness.js';

/**
 * The auth middleware other services use (api-kit's keystoneAuth), against a real
 * identity API on a loopback port.
 */
describe('keystoneAuth against the identity API', async () => {
  const h = await identityHarness();
  after(() => h.close());
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.app.server.address() as { port: number };
  const authUrl = `http://127.0.0.1:${address.port}/v3`;

  const serviceProject = await h.db
    .selectFrom('project')
    .select('id')
    .where('name', '=', 'service')
    .executeTakeFirstOrThrow();
  const service = await h.user({ name: 'nova' });
  await h.grant({ userId: service.id }, 'service', { projectId: serviceProject.id });
  const auth = keystoneAuth({
    authUrl,
    serviceUser: {
      name: 'nova',
      password: service.password,
      domain: 'Default',
      project: 'service',
      projectDomain: 'Default',
    },
    cacheTtlMs: 1,
  });
  const api = createApiServer({
    service: 'compute',
    errorFormat: 'nova',
    authenticate: auth.authenticate,
    wwwAuthenticate: auth.wwwAuthenticate,
  });
  api.get('/whoami', async (request) => request.context);
  after(() => api.close());

  const member = await h.user();
  const project = await h.project('tenant');
  await h.grant({ userId: member.id }, 'member', { projectId: project });

  it('turns a valid token into the request context', async () => {
    const token = await h.token(member, { project: { id: project } });
    const res = await api.inject({ url: '/whoami', headers: { 'x-auth-token': token } });
    assert.equal(res.statusCode, 200);
    const ctx = res.json() as {
      user_id: string;
      project_id: string;
      roles: string[];
      project_name: string;
    };
    assert.equal(ctx.user_id, member.id);
    assert.equal(ctx.project_id, project);
    assert.equal(ctx.project_name, 'tenant');
    assert.deepEqual(ctx.roles.sort(), ['member', 'reader']);
  });

  it('answers 401 with WWW-Authenticate for a missing, bad or revoked token', async () => {
    const token = await h.token(member, { project: { id: project } });
    await h.app.inject({
      method: 'DELETE',
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': h.adminToken, 'x-subject-token': token },
    });
    for (const headers of [{}, { 'x-auth-token': 'garbage' }, { 'x-auth-token': token }]) {
      const res = await api.inject({ url: '/whoami', headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(res.headers['www-authenticate'], `Keystone uri="${authUrl}"`);
      assert.ok('unauthorized' in (res.json() as object), 'in the service error shape');
    }
  });

  it("adds the service token's user and roles, and refuses a bad service token", async () => {
    const token = await h.token(member, { project: { id: project } });
    const serviceToken = await h.token(
      { id: service.id, password: service.password },
      { project: { id: serviceProject.id } },
    );
    const res = await api.inject({
      url: '/whoami',
      headers: { 'x-auth-token': token, 'x-service-token': serviceToken },
    });
    assert.equal(res.statusCode, 200);
    const ctx = res.json() as { service_user_id: string; service_roles: string[] };
    assert.equal(ctx.service_user_id, service.id);
    assert.deepEqual(ctx.service_roles, ['service']);
    const bad = await api.inject({
      url: '/whoami',
      headers: { 'x-auth-token': token, 'x-service-token': 'nope' },
    });
    assert.equal(bad.statusCode, 401);
  });
});
