import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { createApiServer } from '@stratus/api-kit';
import { silentLogger } from '@stratus/common';
import { loadConfig } from '@stratus/config';
import { tempDir } from '@stratus/testkit';
import { parseRoleRef, startCloud } from './cloud.js';
import { startApiRole } from './roles.js';
import { CLOUD_SECTIONS } from './sections.js';
import type { ServiceDefinition } from './service.js';

function configFor(dataDir: string, portOffset: number) {
  return loadConfig({
    sections: CLOUD_SECTIONS,
    env: {},
    overrides: { core: { data_dir: dataDir, port_offset: portOffset } },
  });
}

function testService(events: string[], failIn?: string): ServiceDefinition {
  return {
    name: 'testsvc',
    title: 'Test',
    migrations: [
      {
        id: '0001_widgets',
        up: async (db) => {
          await db.schema
            .createTable('widget')
            .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
            .execute();
        },
      },
    ],
    roles: {
      api: {
        port: 'identity',
        usesDatabase: true,
        start: async (ctx) => {
          events.push(`api db=${ctx.database ? 'yes' : 'no'}`);
          const app = createApiServer({ service: 'test', errorFormat: 'keystone' });
          const role = await startApiRole(ctx, 'identity', app);
          return { ...role, stop: async () => (events.push('api stopped'), role.stop()) };
        },
      },
      agent: {
        usesDatabase: false,
        start: async (ctx) => {
          events.push(`agent db=${ctx.database ? 'yes' : 'no'} topic=testsvc.agent.${ctx.host}`);
          if (failIn === 'agent') throw new Error('agent failed to start');
          return { stop: async () => void events.push('agent stopped') };
        },
      },
    },
  };
}

describe('startCloud', () => {
  it('migrates, starts every role, gives agents no database, and stops in reverse order', async () => {
    const events: string[] = [];
    const offset = 20000 + Math.floor(Math.random() * 20000);
    const cloud = await startCloud({
      services: [testService(events)],
      config: configFor(tempDir(after), offset),
      logger: silentLogger,
    });
    assert.deepEqual(
      cloud.roles.map((r) => [r.service, r.role, r.url]),
      [
        ['testsvc', 'api', `http://127.0.0.1:${5000 + offset}`],
        ['testsvc', 'agent', undefined],
      ],
    );
    assert.equal((await fetch(`http://127.0.0.1:${5000 + offset}/healthcheck`)).status, 200);
    await cloud.stop();
    assert.equal(events[0], 'api db=yes');
    assert.match(events[1] ?? '', /^agent db=no topic=testsvc\.agent\./);
    assert.deepEqual(events.slice(2), ['agent stopped', 'api stopped']);
    await assert.rejects(fetch(`http://127.0.0.1:${5000 + offset}/healthcheck`));
  });

  it('stops what it started when a later role fails, leaving no listener behind', async () => {
    const events: string[] = [];
    const offset = 20000 + Math.floor(Math.random() * 20000);
    await assert.rejects(
      startCloud({
        services: [testService(events, 'agent')],
        config: configFor(tempDir(after), offset),
        logger: silentLogger,
      }),
      /agent failed to start/,
    );
    assert.ok(events.includes('api stopped'));
    await assert.rejects(fetch(`http://127.0.0.1:${5000 + offset}/healthcheck`));
  });

  it('says which port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startCloud({
          services: [testService([])],
          roles: [{ service: 'testsvc', role: 'api' }],
          config: configFor(tempDir(after), port - 5000),
          logger: silentLogger,
        }),
        new RegExp(`testsvc:api cannot listen on 127.0.0.1:${port}: the port is in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it('parses service:role references', () => {
    const services = [testService([])];
    assert.deepEqual(parseRoleRef(services, 'testsvc:agent'), {
      service: 'testsvc',
      role: 'agent',
    });
    assert.throws(
      () => parseRoleRef(services, 'testsvc'),
      /known roles: testsvc:api, testsvc:agent/,
    );
    assert.throws(() => parseRoleRef(services, 'testsvc:api:x'), /unknown role/);
    assert.throws(() => parseRoleRef(services, 'other:api'), /unknown role "other:api"/);
  });
});
