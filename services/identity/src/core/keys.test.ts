import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '@stratus/common';
import { loadConfig } from '@stratus/config';
import { tempDir } from '@stratus/testkit';
import { identitySection } from '../config.js';
import { TokenFormatter } from '../token/index.js';
import { fernetRepository, maintainKeys, rotateFernetKeys } from './keys.js';

describe('Fernet key maintenance', () => {
  it('a running server picks up a rotation, and old tokens keep validating', async () => {
    const dataDir = tempDir(after);
    // Four keys: after two rotations the key that signed `before` is still a secondary.
    const settings = loadConfig({
      sections: [identitySection],
      env: {},
      overrides: { identity: { max_active_keys: 4 } },
    }).identity;
    const repo = fernetRepository(settings, dataDir);
    await repo.setup();
    const server = await TokenFormatter.fromRepository(repo);
    const stop = maintainKeys(server, repo, settings, silentLogger, 20);
    after(stop);
    const fields = {
      userId: 'u',
      methods: ['password'],
      expiresAt: new Date(Date.now() + 3_600_000),
      auditIds: ['AAAAAAAAAAAAAAAAAAAAAA'],
    };
    const before = server.create(fields);

    // Two rotations: the new primary is a key generated after the server loaded its keys
    // (one rotation would promote the staged key, which the server already had).
    assert.equal(await rotateFernetKeys(settings, dataDir), 2);
    assert.equal(await rotateFernetKeys(settings, dataDir), 3);
    // Another node that loaded the repository after the rotation issues with the new primary.
    const other = await TokenFormatter.fromRepository(repo);
    const after2 = other.create(fields);
    await sleep(100);
    assert.equal(server.validate(after2).userId, 'u', 'the server reloaded its keys');
    assert.equal(
      server.validate(before).userId,
      'u',
      'a token from before the rotation still validates',
    );
  });
});
