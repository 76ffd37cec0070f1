import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { loadConfig } from '@stratus/config';
import { tempDir } from '@stratus/testkit';
import { SECTIONS } from './config.js';
import { randomPortOffset, runCli, startStratus } from './testing/run-cli.js';

describe('stratus commands', () => {
  it('version prints the package version', async () => {
    const r = await runCli(['version']);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('config sample prints a sample that loads to the defaults', async () => {
    const r = await runCli(['config', 'sample']);
    assert.equal(r.code, 0);
    for (const section of SECTIONS) assert.match(r.stdout, new RegExp(`^${section.name}:`, 'm'));
    assert.match(r.stdout, /STRATUS_DATABASE__URL/);
    const dir = tempDir(after);
    const file = `${dir}/sample.yaml`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, r.stdout);
    assert.deepEqual(
      loadConfig({ sections: SECTIONS, file, env: {} }),
      loadConfig({ sections: SECTIONS, env: {} }),
    );
  });

  it('README.md carries the current configuration reference', async () => {
    const r = await runCli(['config', 'reference']);
    assert.equal(r.code, 0);
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const block = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(
      readme,
    );
    assert.ok(block, 'README.md has the config-reference markers');
    assert.equal(block[1], r.stdout, 'regenerate with: npx stratus config reference');
  });

  it('db sync creates and migrates every service database, then reports them up to date', async () => {
    const dir = tempDir(after);
    const first = await runCli(['db', 'sync', '--data-dir', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^identity: /m);
    const second = await runCli(['db', 'sync', '--data-dir', dir]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^identity: up to date$/m);
  });

  it('bootstrap needs an admin password, then prepares a database serve can use; fernet rotate rotates', async () => {
    const dir = tempDir(after);
    const refused = await runCli(['bootstrap'], { STRATUS_CORE__DATA_DIR: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /set identity\.admin_password/);
    const env = {
      STRATUS_CORE__DATA_DIR: dir,
      STRATUS_IDENTITY__ADMIN_PASSWORD: 'multi-node-secret',
    };
    const ok = await runCli(['bootstrap'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /bootstrapped/);
    assert.equal((await runCli(['bootstrap'], env)).code, 0, 'idempotent');

    const rotated = await runCli(['identity', 'fernet', 'rotate', '--data-dir', dir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /rotated: key 2 is now primary/);
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(`${dir}/fernet-keys`).sort(), ['0', '1', '2']);
  });

  it('serve runs one role from configuration given in the environment, after bootstrap', async () => {
    const dir = tempDir(after);
    const offset = randomPortOffset();
    const env = {
      STRATUS_CORE__DATA_DIR: dir,
      STRATUS_CORE__PORT_OFFSET: String(offset),
      STRATUS_LOG__LEVEL: 'warn',
    };
    const password = 'serve-secret';
    const boot = await runCli(['bootstrap'], {
      ...env,
      STRATUS_IDENTITY__ADMIN_PASSWORD: password,
    });
    assert.equal(boot.code, 0, boot.stderr);
    // The admin exists now: the API starts without being given the password.
    const serve = await startStratus(['serve', 'identity:api'], 'Serving identity:api', env);
    try {
      assert.match(
        serve.output(),
        new RegExp(`Serving identity:api at http://127.0.0.1:${5000 + offset}`),
      );
      assert.equal((await fetch(`http://127.0.0.1:${5000 + offset}/healthcheck`)).status, 200);
      const auth = {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password } },
        },
      };
      const token = await fetch(`http://127.0.0.1:${5000 + offset}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth }),
      });
      assert.equal(token.status, 201);
    } finally {
      const { code } = await serve.stop();
      assert.equal(code, 0, serve.output());
    }
    assert.match(serve.output(), /Stopped identity:api\./);
  });

  it('serve refuses an unknown role and lists the known ones', async () => {
    const r = await runCli(['serve', 'nova:api']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown role "nova:api"; known roles: identity:api/);
  });

  it('unknown commands fail with help', async () => {
    const r = await runCli(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command/);
  });
});
