import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '@stratus/testkit';
import YAML from 'yaml';
import { randomPortOffset, startUp } from './testing/run-cli.js';

/**
 * The image service through the real stack (identity tokens, the glance service user,
 * the file store), and its promise that a process killed in the middle of an upload
 * leaves no partial data and no half-made image once the cloud is back.
 */
describe('image upload across a killed process', () => {
  const dataDir = tempDir(after);
  const offset = randomPortOffset();
  const identity = `http://127.0.0.1:${5000 + offset}/v3`;
  const image = `http://127.0.0.1:${9292 + offset}`;

  async function adminToken(): Promise<string> {
    const cloud = (
      YAML.parse(readFileSync(join(dataDir, 'clouds.yaml'), 'utf8')) as {
        clouds: { stratus: { auth: { password: string } } };
      }
    ).clouds.stratus;
    const res = await fetch(`${identity}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: { name: 'admin', domain: { id: 'default' }, password: cloud.auth.password },
            },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    assert.equal(res.status, 201);
    return res.headers.get('x-subject-token') ?? '';
  }

  async function show(token: string, id: string): Promise<{ status: string; size: number }> {
    const res = await fetch(`${image}/v2/images/${id}`, { headers: { 'x-auth-token': token } });
    assert.equal(res.status, 200);
    return (await res.json()) as { status: string; size: number };
  }

  const partials = (): string[] => {
    try {
      return readdirSync(join(dataDir, 'images', 'file')).filter((f) => f.endsWith('.partial'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  };

  it('puts a half-uploaded image back to queued and removes its partial data', async () => {
    const first = await startUp(['--data-dir', dataDir, '--port-offset', String(offset)]);
    let token = '';
    let id = '';
    try {
      token = await adminToken();
      const created = await fetch(`${image}/v2/images`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'big', disk_format: 'raw', container_format: 'bare' }),
      });
      assert.equal(created.status, 201);
      id = ((await created.json()) as { id: string }).id;

      // Announce 64 MiB, send 4 MiB, and leave the connection hanging.
      const upload = request(`${image}/v2/images/${id}/file`, {
        method: 'PUT',
        headers: {
          'x-auth-token': token,
          'content-type': 'application/octet-stream',
          'content-length': String(64 << 20),
        },
      });
      upload.on('error', () => undefined);
      upload.write(Buffer.alloc(4 << 20, 0x61));
      for (let i = 0; i < 100 && (await show(token, id)).status !== 'saving'; i++) await sleep(50);
      assert.equal((await show(token, id)).status, 'saving');
      for (let i = 0; i < 100 && partials().length === 0; i++) await sleep(50);
      assert.equal(partials().length, 1, 'the upload is being written');
      first.child.kill('SIGKILL');
      await first.stop();
      upload.destroy();
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) await first.stop();
    }

    const second = await startUp(['--data-dir', dataDir, '--port-offset', String(offset)]);
    try {
      token = await adminToken();
      const after = await show(token, id);
      assert.equal(after.status, 'queued');
      assert.equal(after.size, null);
      assert.deepEqual(partials(), []);
      // The image takes a whole upload now.
      const data = Buffer.alloc(1 << 20, 0x62);
      const put = await fetch(`${image}/v2/images/${id}/file`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
        body: data,
      });
      assert.equal(put.status, 204);
      const done = await show(token, id);
      assert.equal(done.status, 'active');
      assert.equal(done.size, data.length);
    } finally {
      const { code } = await second.stop();
      assert.equal(code, 0, second.output());
    }
  });
});
