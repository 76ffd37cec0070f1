import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { limitPolicies } from '../policies/limits.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerLimitRoutes } from './limits.js';

describe('identity unified limits API', () => {
  let h: IdentityHarness;
  let serviceId: string;
  let projectId: string;
  let otherProject: string;
  let memberToken: string;
  before(async () => {
    h = await identityHarness({ routes: [registerLimitRoutes], policies: limitPolicies });
    serviceId = (await h.db.selectFrom('service').select('id').executeTakeFirstOrThrow()).id;
    projectId = await h.project();
    otherProject = await h.project();
    const user = await h.user();
    await h.grant({ userId: user.id }, 'member', { projectId });
    memberToken = await h.token(user, { project: { id: projectId } });
  });
  after(() => h.close());

  const call = (method: string, url: string, payload?: unknown, token = h.adminToken) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-auth-token': token },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  it('answers the flat model', async () => {
    const res = await call('GET', '/v3/limits/model', undefined, memberToken);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      model: {
        name: 'flat',
        description:
          'Limit enforcement and validation does not take project hierarchy into consideration.',
      },
    });
  });

  it('creates, lists, filters, updates and deletes registered limits', async () => {
    const res = await call('POST', '/v3/registered_limits', {
      registered_limits: [
        { service_id: serviceId, resource_name: 'volume', default_limit: 10, description: 'vols' },
        {
          service_id: serviceId,
          region_id: 'RegionOne',
          resource_name: 'snapshot',
          default_limit: 5,
        },
      ],
    });
    assert.equal(res.statusCode, 201, res.body);
    const [vol, snap] = res.json().registered_limits;
    assert.deepEqual(vol, {
      id: vol.id,
      service_id: serviceId,
      region_id: null,
      resource_name: 'volume',
      default_limit: 10,
      description: 'vols',
      links: { self: `http://localhost:80/v3/registered_limits/${vol.id}` },
    });
    assert.equal(snap.region_id, 'RegionOne');
    assert.equal(snap.description, null);

    const dup = await call('POST', '/v3/registered_limits', {
      registered_limits: [{ service_id: serviceId, resource_name: 'volume', default_limit: 1 }],
    });
    assert.equal(dup.statusCode, 409);
    const bad = async (item: object) =>
      (await call('POST', '/v3/registered_limits', { registered_limits: [item] })).statusCode;
    assert.equal(await bad({ service_id: 'nope', resource_name: 'x', default_limit: 1 }), 400);
    assert.equal(
      await bad({ service_id: serviceId, region_id: 'nope', resource_name: 'x', default_limit: 1 }),
      400,
    );
    assert.equal(await bad({ service_id: serviceId, resource_name: 'x', default_limit: -2 }), 400);
    assert.equal(await bad({ service_id: serviceId, resource_name: 'x', default_limit: 1.5 }), 400);
    assert.equal(await bad({ service_id: serviceId, resource_name: 'x' }), 400);
    assert.equal(
      await bad({ service_id: serviceId, resource_name: 'x', default_limit: 1, foo: 1 }),
      400,
    );
    assert.equal(
      (await call('POST', '/v3/registered_limits', { registered_limits: [] })).statusCode,
      400,
    );
    assert.equal(
      (
        await call(
          'POST',
          '/v3/registered_limits',
          { registered_limits: [{ service_id: serviceId, resource_name: 'm', default_limit: 1 }] },
          memberToken,
        )
      ).statusCode,
      403,
    );

    const byName = await call(
      'GET',
      '/v3/registered_limits?resource_name=snapshot',
      undefined,
      memberToken,
    );
    assert.equal(byName.statusCode, 200);
    assert.deepEqual(
      byName.json().registered_limits.map((r: { id: string }) => r.id),
      [snap.id],
    );
    assert.equal(
      (await call('GET', '/v3/registered_limits?region_id=RegionOne')).json().registered_limits
        .length,
      1,
    );
    assert.equal(
      (await call('GET', `/v3/registered_limits?service_id=${serviceId}`)).json().registered_limits
        .length,
      2,
    );

    const upd = await call('PATCH', `/v3/registered_limits/${snap.id}`, {
      registered_limit: { default_limit: 7, description: 'snaps' },
    });
    assert.equal(upd.statusCode, 200);
    assert.equal(upd.json().registered_limit.default_limit, 7);
    assert.deepEqual((await call('GET', `/v3/registered_limits/${snap.id}`)).json(), upd.json());
    const clash = await call('PATCH', `/v3/registered_limits/${snap.id}`, {
      registered_limit: { resource_name: 'volume', region_id: null },
    });
    assert.equal(clash.statusCode, 409);
    assert.equal((await call('DELETE', `/v3/registered_limits/${snap.id}`)).statusCode, 204);
    assert.equal((await call('GET', `/v3/registered_limits/${snap.id}`)).statusCode, 404);
  });

  it('creates limits only over registered limits, scopes what users see, and protects referenced registered limits', async () => {
    const reg = (
      await call('POST', '/v3/registered_limits', {
        registered_limits: [{ service_id: serviceId, resource_name: 'cores', default_limit: 20 }],
      })
    ).json().registered_limits[0];
    const res = await call('POST', '/v3/limits', {
      limits: [
        { service_id: serviceId, project_id: projectId, resource_name: 'cores', resource_limit: 5 },
        {
          service_id: serviceId,
          domain_id: 'default',
          resource_name: 'cores',
          resource_limit: 50,
          description: 'dom',
        },
        {
          service_id: serviceId,
          project_id: otherProject,
          resource_name: 'cores',
          resource_limit: 8,
        },
      ],
    });
    assert.equal(res.statusCode, 201, res.body);
    const [mine, dom, other] = res.json().limits;
    assert.deepEqual(mine, {
      id: mine.id,
      project_id: projectId,
      domain_id: null,
      service_id: serviceId,
      region_id: null,
      resource_name: 'cores',
      resource_limit: 5,
      description: null,
      links: { self: `http://localhost:80/v3/limits/${mine.id}` },
    });
    assert.equal(dom.domain_id, 'default');
    assert.equal(dom.project_id, null);

    const noRef = await call('POST', '/v3/limits', {
      limits: [
        { service_id: serviceId, project_id: projectId, resource_name: 'ram', resource_limit: 1 },
      ],
    });
    assert.equal(noRef.statusCode, 403);
    const dup = await call('POST', '/v3/limits', {
      limits: [
        { service_id: serviceId, project_id: projectId, resource_name: 'cores', resource_limit: 1 },
      ],
    });
    assert.equal(dup.statusCode, 409);
    const bad = async (item: object) =>
      (await call('POST', '/v3/limits', { limits: [item] })).statusCode;
    assert.equal(
      await bad({ service_id: serviceId, resource_name: 'cores', resource_limit: 1 }),
      400,
    );
    assert.equal(
      await bad({
        service_id: serviceId,
        project_id: projectId,
        domain_id: 'default',
        resource_name: 'cores',
        resource_limit: 1,
      }),
      400,
    );
    assert.equal(
      await bad({
        service_id: serviceId,
        project_id: 'nope',
        resource_name: 'cores',
        resource_limit: 1,
      }),
      400,
    );
    assert.equal(
      (
        await call(
          'POST',
          '/v3/limits',
          {
            limits: [
              {
                service_id: serviceId,
                project_id: projectId,
                resource_name: 'cores',
                resource_limit: 1,
              },
            ],
          },
          memberToken,
        )
      ).statusCode,
      403,
    );

    // The admin sees all; a project member only the project's limits.
    assert.equal((await call('GET', '/v3/limits')).json().limits.length, 3);
    assert.deepEqual(
      (await call('GET', '/v3/limits', undefined, memberToken))
        .json()
        .limits.map((l: { id: string }) => l.id),
      [mine.id],
    );
    assert.deepEqual(
      (await call('GET', `/v3/limits?project_id=${otherProject}`))
        .json()
        .limits.map((l: { id: string }) => l.id),
      [other.id],
    );
    assert.equal(
      (await call('GET', `/v3/limits/${mine.id}`, undefined, memberToken)).statusCode,
      200,
    );
    assert.equal(
      (await call('GET', `/v3/limits/${other.id}`, undefined, memberToken)).statusCode,
      403,
    );

    const upd = await call('PATCH', `/v3/limits/${mine.id}`, {
      limit: { resource_limit: 6, description: 'x' },
    });
    assert.equal(upd.statusCode, 200);
    assert.equal(upd.json().limit.resource_limit, 6);
    assert.equal((await call('GET', `/v3/limits/${mine.id}`)).json().limit.description, 'x');
    assert.equal(
      (await call('PATCH', `/v3/limits/${mine.id}`, { limit: { project_id: otherProject } }))
        .statusCode,
      400,
    );
    assert.equal(
      (await call('PATCH', `/v3/limits/${mine.id}`, { limit: { resource_limit: 6 } }, memberToken))
        .statusCode,
      403,
    );

    assert.equal((await call('DELETE', `/v3/registered_limits/${reg.id}`)).statusCode, 403);
    assert.equal(
      (
        await call('PATCH', `/v3/registered_limits/${reg.id}`, {
          registered_limit: { default_limit: 1 },
        })
      ).statusCode,
      403,
    );
    for (const l of [mine, dom, other])
      assert.equal((await call('DELETE', `/v3/limits/${l.id}`)).statusCode, 204);
    assert.equal((await call('GET', `/v3/limits/${mine.id}`)).statusCode, 404);
    assert.equal((await call('DELETE', `/v3/limits/${mine.id}`)).statusCode, 404);
    assert.equal((await call('DELETE', `/v3/registered_limits/${reg.id}`)).statusCode, 204);
  });
});
