import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '@stratus/testkit';
import { Fernet } from './fernet.js';
import { FernetKeyRepository, KeysNotFound } from './keys.js';

function files(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => Number(a) - Number(b));
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('FernetKeyRepository', () => {
  it('sets up a new directory (0700) with a staged key 0 and a primary key 1 (0600)', async () => {
    const dir = join(tempDir(after), 'fernet-keys');
    const repo = new FernetKeyRepository(dir);
    await repo.setup();
    assert.equal(mode(dir), 0o700);
    assert.deepEqual(files(dir), ['0', '1']);
    for (const name of ['0', '1']) {
      assert.equal(mode(join(dir, name)), 0o600, `mode of ${name}`);
      assert.doesNotThrow(() => new Fernet(read(dir, name)));
    }
    assert.notEqual(read(dir, '0'), read(dir, '1'));
    assert.deepEqual(await repo.load(), [read(dir, '1'), read(dir, '0')]);
  });

  it('leaves an initialised repository alone on a second setup', async () => {
    const dir = tempDir(after);
    const repo = new FernetKeyRepository(dir);
    await repo.setup();
    const before = await repo.load();
    await repo.setup();
    assert.deepEqual(await repo.load(), before);
  });

  it('rotates as Keystone does: staged becomes primary, a new staged key, oldest removed', async () => {
    const dir = tempDir(after);
    const repo = new FernetKeyRepository(dir);
    await repo.setup();

    const staged = read(dir, '0');
    assert.equal(await repo.rotate(), 2);
    assert.deepEqual(files(dir), ['0', '1', '2']);
    assert.equal(read(dir, '2'), staged, 'the staged key is promoted, not a new one');
    assert.notEqual(read(dir, '0'), staged);

    assert.equal(await repo.rotate(), 3);
    assert.deepEqual(
      files(dir),
      ['0', '2', '3'],
      'three active keys: staged, primary, one secondary',
    );

    for (let i = 0; i < 4; i++) await repo.rotate();
    assert.deepEqual(files(dir), ['0', '6', '7']);
    assert.deepEqual(await repo.load(), [read(dir, '7'), read(dir, '6'), read(dir, '0')]);
    for (const name of files(dir)) assert.equal(mode(join(dir, name)), 0o600, `mode of ${name}`);
  });

  it('keeps maxActiveKeys keys, counting the staged one', async () => {
    const dir = tempDir(after);
    const repo = new FernetKeyRepository(dir);
    await repo.setup();
    for (let i = 0; i < 6; i++) await repo.rotate(5);
    assert.deepEqual(files(dir), ['0', '4', '5', '6', '7']);
    // Lowering the limit trims at the next rotation.
    await repo.rotate(2);
    assert.deepEqual(files(dir), ['0', '8']);
    // A removed secondary's number is never reused: numbering follows the highest key.
    assert.equal(await repo.rotate(), 9);
  });

  it('refuses to rotate a repository that was never set up', async () => {
    const repo = new FernetKeyRepository(join(tempDir(after), 'missing'));
    await assert.rejects(repo.rotate(), KeysNotFound);
  });

  it('refuses a maxActiveKeys that would discard the new primary', async () => {
    const dir = tempDir(after);
    const repo = new FernetKeyRepository(dir);
    await repo.setup();
    await assert.rejects(repo.rotate(1), RangeError);
    await assert.rejects(repo.rotate(2.5), RangeError);
    assert.deepEqual(files(dir), ['0', '1'], 'nothing changed');
  });

  it('loads nothing from a missing directory', async () => {
    assert.deepEqual(await new FernetKeyRepository(join(tempDir(after), 'none')).load(), []);
  });

  it('ignores files that are not keys: other names, empty files, subdirectories', async () => {
    const dir = tempDir(after);
    const [a, b] = [Fernet.generateKey(), Fernet.generateKey()];
    writeFileSync(join(dir, '0'), `${a}\n`);
    writeFileSync(join(dir, '12'), b);
    writeFileSync(join(dir, '0.tmp'), Fernet.generateKey());
    writeFileSync(join(dir, 'README'), 'not a key');
    writeFileSync(join(dir, '13'), '');
    mkdirSync(join(dir, '14'));
    const repo = new FernetKeyRepository(dir);
    assert.deepEqual(await repo.load(), [b, a]);
    // A stale 0.tmp from an interrupted rotation does not block the next one.
    assert.equal(await repo.rotate(), 13);
    assert.equal(read(dir, '13'), `${a}\n`);
    assert.ok(!readdirSync(dir).includes('0.tmp'));
  });
});
