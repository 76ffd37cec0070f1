import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { harness, md5, rawBytes } from '../testing/fixtures.js';
import type { ImageHarness } from '../testing/harness.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Two image services: the source ("RegionTwo"), served over HTTP, and the destination
 * under test; plus an identity stub whose catalog names the source for the token the
 * test uses. glance-download must go there with the caller's own token.
 */
async function regions(t: TestContext): Promise<{ src: ImageHarness; dst: ImageHarness }> {
  const src = await harness(t);
  const srcUrl = await src.app.listen({ port: 0, host: '127.0.0.1' });
  const identity = createServer((req, res) => {
    if (req.url !== '/v3/auth/catalog' || req.headers['x-auth-token'] !== 'member@p1') {
      res.writeHead(401).end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        catalog: [
          {
            type: 'image',
            endpoints: [{ interface: 'public', region_id: 'RegionTwo', url: srcUrl }],
          },
        ],
      }),
    );
  });
  const identityUrl = `${await listen(identity)}/v3`;
  t.after(() => new Promise<void>((resolve) => identity.close(() => resolve())));
  const dst = await harness(t, { identityUrl });
  return { src, dst };
}

function glanceDownload(h: ImageHarness, id: string, method: Record<string, unknown>) {
  return h.call('member@p1', 'POST', `/v2/images/${id}/import`, {
    method: { name: 'glance-download', ...method },
  });
}

describe('glance-download import', () => {
  it('copies data, formats and the allowed properties from the other region', async (t) => {
    const { src, dst } = await regions(t);
    const data = rawBytes(300_000);
    const source = await src.create('member@p1', { hw_cpu_cores: '5', speed: '88mph' });
    assert.equal((await src.upload('member@p1', source.id, data)).status, 204);
    const target = await dst.create('member@p1', {
      disk_format: 'iso',
      container_format: 'ovf',
      hw_cpu_cores: '1',
    });
    const res = await glanceDownload(dst, target.id, {
      glance_image_id: source.id,
      glance_region: 'RegionTwo',
      glance_service_interface: 'public',
    });
    assert.equal(res.status, 202);
    await dst.drain();
    const tasks = (await dst.call('member@p1', 'GET', `/v2/images/${target.id}/tasks`)).body;
    assert.equal(tasks.tasks[0].status, 'success');
    const image = (await dst.call('member@p1', 'GET', `/v2/images/${target.id}`)).body;
    assert.equal(image.status, 'active');
    assert.equal(image.disk_format, 'raw');
    assert.equal(image.container_format, 'bare');
    assert.equal(image.hw_cpu_cores, '5');
    assert.equal(image.speed, undefined);
    assert.equal(image.checksum, md5(data));
    assert.equal(image.size, data.length);
    assert.deepEqual(
      await dst.call('member@p1', 'GET', `/v2/images/${target.id}/file`).then((r) => md5(r.raw)),
      md5(data),
    );
  });

  it('refuses an image id that is not a UUID at once', async (t) => {
    const { dst } = await regions(t);
    const target = await dst.create('member@p1');
    const res = await glanceDownload(dst, target.id, { glance_image_id: 'foo' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /image id does not look like a UUID/);
  });

  it('fails the task and leaves the image queued when the source is missing or unreachable', async (t) => {
    const { dst } = await regions(t);
    for (const method of [
      { glance_image_id: '36d4b546-64a2-4bb9-bdd0-ba676aa48f2c', glance_region: 'RegionTwo' },
      {
        glance_image_id: '36d4b546-64a2-4bb9-bdd0-ba676aa48f2c',
        glance_region: 'not a region',
        glance_service_interface: 'public',
      },
    ]) {
      const target = await dst.create('member@p1', { os_distro: 'windows' });
      assert.equal((await glanceDownload(dst, target.id, method)).status, 202);
      await dst.drain();
      const image = (await dst.call('member@p1', 'GET', `/v2/images/${target.id}`)).body;
      assert.equal(image.status, 'queued');
      assert.equal(image.os_distro, 'windows');
      const tasks = (await dst.call('member@p1', 'GET', `/v2/images/${target.id}/tasks`)).body;
      assert.equal(tasks.tasks[0].status, 'failure');
      assert.ok(tasks.tasks[0].message.length > 0);
    }
  });

  it('does not let a project read another project’s private image through it', async (t) => {
    const { src, dst } = await regions(t);
    const hidden = await src.create('member@p9', { visibility: 'private' });
    assert.equal((await src.upload('member@p9', hidden.id, rawBytes(1000))).status, 204);
    const target = await dst.create('member@p1');
    await glanceDownload(dst, target.id, {
      glance_image_id: hidden.id,
      glance_region: 'RegionTwo',
    });
    await dst.drain();
    const image = (await dst.call('member@p1', 'GET', `/v2/images/${target.id}`)).body;
    assert.equal(image.status, 'queued');
  });
});
