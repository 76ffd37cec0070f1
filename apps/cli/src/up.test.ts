import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '@stratus/testkit';
import YAML from 'yaml';
import { randomPortOffset, runCli, startUp } from './testing/run-cli.js';

interface CloudsYaml {
  clouds: {
    stratus: {
      auth: { auth_url: string; username: string; password: string; project_name: string };
    };
  };
}

function readClouds(dir: string): CloudsYaml['clouds']['stratus'] {
  return (YAML.parse(readFileSync(join(dir, 'clouds.yaml'), 'utf8')) as CloudsYaml).clouds.stratus;
}

describe('stratus up', () => {
  const dataDir = tempDir(after);
  const offset = randomPortOffset();
  const identity = `http://127.0.0.1:${5000 + offset}`;

  it('comes up, answers on the identity port, and stops on SIGTERM with exit 0 within 10 s', async () => {
    const up = await startUp(['--data-dir', dataDir, '--port-offset', String(offset)]);
    try {
      assert.match(up.output(), /Stratus is ready in \d+\.\d+ s/);
      const health = await fetch(`${identity}/healthcheck`);
      assert.equal(health.status, 200);
      assert.match(health.headers.get('x-openstack-request-id') ?? '', /^req-/);
      const versions = await fetch(`${identity}/`);
      assert.equal(versions.status, 300);
      const body = (await versions.json()) as {
        versions: { values: Array<{ id: string; links: Array<{ href: string }> }> };
      };
      assert.equal(body.versions.values[0]?.id, 'v3.14');
      assert.equal(body.versions.values[0]?.links[0]?.href, `${identity}/v3/`);
    } finally {
      const { code, ms } = await up.stop();
      assert.equal(code, 0, up.output());
      assert.ok(ms < 10_000, `took ${ms} ms to stop`);
    }
    assert.ok(!existsSync(join(dataDir, 'stratus.pid')), 'the lock is released');
  });

  it('wrote clouds.yaml and openrc for the admin, readable by the owner only', () => {
    const cloud = readClouds(dataDir);
    assert.equal(cloud.auth.auth_url, `${identity}/v3`);
    assert.equal(cloud.auth.username, 'admin');
    assert.equal(cloud.auth.project_name, 'admin');
    assert.ok(cloud.auth.password.length >= 16);
    for (const f of ['clouds.yaml', 'openrc', 'secrets.yaml']) {
      assert.equal(statSync(join(dataDir, f)).mode & 0o077, 0, `${f} is private`);
    }
    const rc = readFileSync(join(dataDir, 'openrc'), 'utf8');
    assert.match(rc, new RegExp(`export OS_AUTH_URL='${identity}/v3'`));
    assert.match(rc, /export OS_USERNAME='admin'/);
    assert.ok(
      existsSync(join(dataDir, 'identity.sqlite')),
      'the identity database is in the data dir',
    );
  });

  it('a second up on the same directory finds the same data', async () => {
    const before = readClouds(dataDir).auth.password;
    const secrets = readFileSync(join(dataDir, 'secrets.yaml'), 'utf8');
    const up = await startUp(['--data-dir', dataDir, '--port-offset', String(offset)]);
    try {
      assert.doesNotMatch(up.output(), /admin password generated/);
      assert.equal(readClouds(dataDir).auth.password, before);
      assert.equal(readFileSync(join(dataDir, 'secrets.yaml'), 'utf8'), secrets);
      assert.equal((await fetch(`${identity}/healthcheck`)).status, 200);

      // One cloud per data directory: a second up on it is refused while the first runs.
      const clash = await runCli([
        'up',
        '--data-dir',
        dataDir,
        '--port-offset',
        String(offset + 1),
      ]);
      assert.equal(clash.code, 1);
      assert.match(clash.stderr, /another Stratus \(pid \d+\) is running on this data directory/);
    } finally {
      assert.equal((await up.stop()).code, 0);
    }
  });

  it('--port-offset moves every port, so two clouds run side by side', async () => {
    const otherDir = tempDir(after);
    const a = await startUp(['--data-dir', dataDir, '--port-offset', String(offset)]);
    try {
      const b = await startUp(['--data-dir', otherDir, '--port-offset', String(offset + 7)]);
      try {
        const urls = [...b.output().matchAll(/https?:\/\/[^\s)]+:(\d+)/g)].map((m) => Number(m[1]));
        assert.ok(urls.length > 0);
        for (const port of urls) assert.ok(port > offset + 7, `port ${port} moved by the offset`);
        assert.equal(
          (await fetch(`http://127.0.0.1:${5000 + offset + 7}/healthcheck`)).status,
          200,
        );
        assert.equal((await fetch(`${identity}/healthcheck`)).status, 200);
        assert.equal(readClouds(otherDir).auth.auth_url, `http://127.0.0.1:${5007 + offset}/v3`);
      } finally {
        assert.equal((await b.stop()).code, 0);
      }
    } finally {
      assert.equal((await a.stop()).code, 0);
    }
  });

  it('refuses a bad port offset with a message', async () => {
    const r = await runCli(['up', '--data-dir', dataDir, '--port-offset', 'ten']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--port-offset must be a non-negative integer/);
  });

  it('refuses a bad configuration naming the key', async () => {
    const r = await runCli(['up', '--data-dir', dataDir], {
      STRATUS_BUS__TRANSPORT: 'carrier-pigeon',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bus\.transport/);
    assert.match(r.stderr, /STRATUS_BUS__TRANSPORT/);
  });
});
