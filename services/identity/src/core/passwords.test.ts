import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PasswordHasher } from './passwords.js';

describe('password hashing', () => {
  for (const [algorithm, rounds, prefix] of [
    ['bcrypt', 4, /^\$2b\$04\$/],
    ['scrypt', 10, /^\$scrypt\$ln=10,r=8,p=1\$/],
    ['pbkdf2_sha512', 1000, /^\$pbkdf2-sha512\$1000\$/],
  ] as const) {
    it(`${algorithm}: hashes in passlib's format and verifies`, async () => {
      const hasher = new PasswordHasher({ algorithm, rounds });
      const hash = await hasher.hash('correct horse');
      assert.match(hash, prefix);
      assert.notEqual(await hasher.hash('correct horse'), hash, 'salted');
      assert.equal(await hasher.verify('correct horse', hash), true);
      assert.equal(await hasher.verify('correct hors', hash), false);
      assert.equal(await hasher.verify('', hash), false);
    });
  }

  it('verifies by the stored format, whatever the configured algorithm', async () => {
    const old = await new PasswordHasher({ algorithm: 'pbkdf2_sha512', rounds: 1000 }).hash('pw');
    assert.equal(
      await new PasswordHasher({ algorithm: 'bcrypt', rounds: 4 }).verify('pw', old),
      true,
    );
  });

  it("uses Keystone's default bcrypt cost", () => {
    assert.equal(new PasswordHasher({ algorithm: 'bcrypt' }).rounds, 12);
  });

  it('answers false for malformed stored hashes instead of throwing', async () => {
    const h = new PasswordHasher({ algorithm: 'bcrypt', rounds: 4 });
    for (const bad of [
      '',
      'plain',
      '$scrypt$ln=x$a$b',
      '$pbkdf2-sha512$abc$a$b',
      '$pbkdf2-sha512$10$$',
    ]) {
      assert.equal(await h.verify('pw', bad), false, bad);
    }
  });
});
