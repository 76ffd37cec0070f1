import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import { tempDir } from '@stratus/testkit';
import { Fernet, InvalidToken, MultiFernet } from './fernet.js';
import { TokenFormatter, creationTime, restorePadding, stripPadding } from './formatter.js';
import { FernetKeyRepository, KeysNotFound } from './keys.js';
import type { TokenFields } from './payload.js';

const hexId = (): string => randomUUID().replaceAll('-', '');
const auditId = (): string => randomBytes(16).toString('base64url');

function projectToken(): TokenFields {
  return {
    userId: hexId(),
    methods: ['password'],
    projectId: hexId(),
    expiresAt: new Date(Date.now() + 3600_000),
    auditIds: [auditId()],
  };
}

function assertInvalid(fn: () => unknown): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof InvalidToken && err.message === 'The token is invalid.',
  );
}

async function repository(): Promise<FernetKeyRepository> {
  const repo = new FernetKeyRepository(tempDir(after));
  await repo.setup();
  return repo;
}

describe('TokenFormatter', () => {
  it('creates a token that validates to the same fields, with issuedAt from Fernet', async () => {
    const formatter = await TokenFormatter.fromRepository(await repository());
    const fields = projectToken();
    const at = new Date('2025-06-01T12:00:00.750Z');
    const token = formatter.create(fields, at);
    const payload = formatter.validate(token);
    assert.deepEqual(payload, {
      ...fields,
      version: 2,
      issuedAt: new Date('2025-06-01T12:00:00Z'),
    });
    assert.deepEqual(creationTime(token), payload.issuedAt);
  });

  it("has Keystone's layout: Fernet around msgpack [2, (True, user), 2, (True, project), expires, [audit]]", async () => {
    const repo = await repository();
    const fields = projectToken();
    const token = (await TokenFormatter.fromRepository(repo)).create(fields);

    const { data } = MultiFernet.fromKeys(await repo.load()).decrypt(restorePadding(token));
    const payload = decode(data);
    assert.ok(Array.isArray(payload));
    assert.equal(payload.length, 6);
    const [version, user, methods, project, expires, audits] = payload as unknown[];
    // (is_stored_as_bytes, value) pairs holding the 16 raw bytes of each UUID.
    const bytes = (v: unknown): string => {
      assert.ok(v instanceof Uint8Array, 'msgpack bin');
      return Buffer.from(v).toString('hex');
    };
    assert.equal(version, 2);
    assert.ok(Array.isArray(user) && user.length === 2 && user[0] === true);
    assert.equal(bytes(user[1]), fields.userId);
    assert.equal(methods, 2);
    assert.ok(Array.isArray(project) && project.length === 2 && project[0] === true);
    assert.equal(bytes(project[1]), fields.projectId);
    assert.equal(expires, fields.expiresAt.getTime() / 1000);
    assert.ok(Array.isArray(audits) && audits.length === 1);
    assert.equal(bytes(audits[0]), Buffer.from(fields.auditIds[0]!, 'base64url').toString('hex'));
  });

  it('strips the base64 padding and takes the token back with or without it', async () => {
    const formatter = await TokenFormatter.fromRepository(await repository());
    let sawPadding = false;
    for (let i = 0; i < 12; i++) {
      const fields = { ...projectToken(), userId: 'u'.repeat(i) };
      const token = formatter.create(fields);
      assert.match(token, /^[A-Za-z0-9_-]+$/);
      const padded = restorePadding(token);
      sawPadding ||= padded !== token;
      assert.equal(padded.length % 4, 0);
      assert.equal(stripPadding(padded), token);
      assert.equal(formatter.validate(token).userId, fields.userId);
      assert.equal(formatter.validate(padded).userId, fields.userId);
    }
    assert.ok(sawPadding, 'some of these lengths need padding');
  });

  it('stays under 255 characters for a rescoped project token with UUID ids', async () => {
    const formatter = await TokenFormatter.fromRepository(await repository());
    const fields = {
      ...projectToken(),
      methods: ['password', 'token'],
      auditIds: [auditId(), auditId()],
    };
    const token = formatter.create(fields);
    assert.ok(token.length < 255, `${token.length} characters`);
    // Compressing UUIDs to bytes is what keeps it short: as text the same token is longer.
    const long = formatter.create({ ...fields, userId: randomUUID(), projectId: randomUUID() });
    assert.ok(long.length > token.length);
  });

  it('validates a token from before a rotation, until its key is rotated out', async () => {
    const repo = await repository();
    const formatter = await TokenFormatter.fromRepository(repo);
    const stale = await TokenFormatter.fromRepository(repo); // a node that has not reloaded yet
    const fields = projectToken();
    const old = formatter.create(fields);

    await repo.rotate();
    formatter.useKeys(await repo.load());
    assert.equal(formatter.validate(old).userId, fields.userId, 'now a secondary key');
    const fresh = formatter.create(fields);
    // The new primary was the staged key, which every node already accepted.
    assert.equal(stale.validate(fresh).userId, fields.userId);

    await repo.rotate(); // three active keys: the first primary is removed
    formatter.useKeys(await repo.load());
    assertInvalid(() => formatter.validate(old));
    assert.equal(formatter.validate(fresh).userId, fields.userId);
  });

  it('refuses tampered, truncated, foreign and garbage tokens with one error', async () => {
    const formatter = await TokenFormatter.fromRepository(await repository());
    const token = formatter.create(projectToken());
    const flip = (i: number): string =>
      token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    for (let i = 0; i < token.length; i++) assertInvalid(() => formatter.validate(flip(i)));
    for (let len = 0; len < token.length; len += 7) {
      assertInvalid(() => formatter.validate(token.slice(0, len)));
    }
    assertInvalid(() => formatter.validate(token.slice(0, -1)));
    const foreign = (await TokenFormatter.fromRepository(await repository())).create(
      projectToken(),
    );
    assertInvalid(() => formatter.validate(foreign));
    for (const junk of ['', 'gAAAAA', 'not a token', `${token}.${token}`, token.toUpperCase()]) {
      assertInvalid(() => formatter.validate(junk));
    }
  });

  it('refuses an authentic token whose payload it cannot read', () => {
    const keys = [Fernet.generateKey()];
    const formatter = new TokenFormatter(keys);
    const crypto = MultiFernet.fromKeys(keys);
    for (const payload of [[99, 'x'], [2, [false, 'u']], 'not an array']) {
      assertInvalid(() => formatter.validate(stripPadding(crypto.encrypt(encode(payload)))));
    }
    assertInvalid(() => formatter.validate(crypto.encrypt(Buffer.of(0xc1))));
  });

  it('uses the configured auth methods and default domain id', () => {
    const keys = [Fernet.generateKey()];
    const options = { authMethods: ['password', 'totp'], defaultDomainId: 'root' };
    const formatter = new TokenFormatter(keys, options);
    const fields: TokenFields = {
      userId: 'admin',
      methods: ['totp', 'password'],
      domainId: 'root',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
      auditIds: [auditId()],
    };
    const token = formatter.create(fields);
    assert.deepEqual(formatter.validate(token), {
      ...fields,
      version: 1,
      issuedAt: creationTime(token),
    });
    // Under Keystone's defaults "root" is not the default domain: the payload is unreadable.
    assertInvalid(() => new TokenFormatter(keys).validate(token));
  });

  it('needs at least one key', async () => {
    assert.throws(() => new TokenFormatter([]), KeysNotFound);
    const empty = new FernetKeyRepository(tempDir(after));
    await assert.rejects(TokenFormatter.fromRepository(empty), KeysNotFound);
  });
});

describe('padding helpers', () => {
  it('restore exactly the padding base64 needs', () => {
    assert.equal(restorePadding('abcd'), 'abcd');
    assert.equal(restorePadding('abcde'), 'abcde===');
    assert.equal(restorePadding('abcdef'), 'abcdef==');
    assert.equal(restorePadding('abcdefg'), 'abcdefg=');
    assert.equal(stripPadding('abcdef=='), 'abcdef');
  });
});
