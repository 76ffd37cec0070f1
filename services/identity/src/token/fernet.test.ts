import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Fernet, InvalidToken, MultiFernet, decodeBase64Url, encodeBase64Url } from './fernet.js';

// The shared inputs of the fernet/spec test vectors (generate.json, verify.json, invalid.json).
const SECRET = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const CREATED = new Date('1985-10-26T01:20:00-07:00');
const IV = Uint8Array.from({ length: 16 }, (_, i) => i);
const HELLO_TOKEN =
  'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const AT_01_20_01 = { ttlSeconds: 60, now: new Date('1985-10-26T01:20:01-07:00') };

function assertInvalid(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidToken, `expected InvalidToken, got ${String(err)}`);
    // One message for every cause, so that nothing tells an attacker which check failed.
    assert.equal((err as Error).message, 'The token is invalid.');
    assert.equal((err as InstanceType<typeof InvalidToken>).status, 401);
    return true;
  });
}

describe('Fernet spec vectors', () => {
  const fernet = new Fernet(SECRET);

  it('generates the generate.json token from its time, IV and message', () => {
    const token = fernet.encrypt(Buffer.from('hello'), { at: CREATED, iv: IV });
    assert.equal(token, HELLO_TOKEN);
  });

  it('lays the token out as version, timestamp, IV, ciphertext, HMAC', () => {
    const raw = decodeBase64Url(HELLO_TOKEN)!;
    assert.equal(raw[0], 0x80);
    assert.equal(raw.readBigUInt64BE(1), BigInt(CREATED.getTime() / 1000));
    assert.deepEqual([...raw.subarray(9, 25)], [...IV]);
    assert.equal(raw.length, 25 + 16 + 32); // "hello" pads to one block
    const hmac = createHmac('sha256', decodeBase64Url(SECRET)!.subarray(0, 16))
      .update(raw.subarray(0, raw.length - 32))
      .digest();
    assert.deepEqual(raw.subarray(raw.length - 32), hmac);
  });

  it('verifies the verify.json token within its TTL and reports its timestamp', () => {
    const message = fernet.decrypt(HELLO_TOKEN, AT_01_20_01);
    assert.equal(message.data.toString(), 'hello');
    assert.equal(message.timestamp.getTime(), CREATED.getTime());
  });

  // invalid.json: every token below must be refused (with a 60 s TTL at 01:20:01).
  const invalid: Array<[string, string, Date?]> = [
    [
      'incorrect mac',
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==',
    ],
    ['too short', 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA=='],
    [
      'invalid base64',
      '%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==',
    ],
    [
      'payload size not multiple of block size',
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm',
    ],
    [
      'payload padding error',
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==',
    ],
    [
      'far-future TS (unacceptable clock skew)',
      'gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==',
    ],
    [
      'expired TTL',
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==',
      new Date('1985-10-26T01:21:31-07:00'),
    ],
    [
      'incorrect IV (causes padding error)',
      'gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==',
    ],
  ];
  for (const [desc, token, now] of invalid) {
    it(`refuses the invalid.json token: ${desc}`, () => {
      assertInvalid(() => fernet.decrypt(token, { ...AT_01_20_01, ...(now ? { now } : {}) }));
    });
  }

  it('accepts the expired-TTL vector when no TTL is asked for (Keystone checks expiry itself)', () => {
    const expired = invalid.find(([desc]) => desc === 'expired TTL')![1];
    const { timestamp } = fernet.decrypt(expired);
    assert.equal(timestamp.getTime(), AT_01_20_01.now.getTime());
    assertInvalid(() => fernet.decrypt(expired, { ttlSeconds: 60, now: new Date() }));
  });
});

describe('Fernet tampering', () => {
  const key = Fernet.generateKey();
  const fernet = new Fernet(key);
  const token = fernet.encrypt(Buffer.from('two AES blocks of message'));
  const raw = decodeBase64Url(token)!;
  const regions: Array<[string, number, number]> = [
    ['version', 0, 1],
    ['timestamp', 1, 9],
    ['IV', 9, 25],
    ['ciphertext', 25, raw.length - 32],
    ['HMAC', raw.length - 32, raw.length],
  ];

  it('round-trips before any tampering', () => {
    assert.equal(fernet.decrypt(token).data.toString(), 'two AES blocks of message');
  });

  for (const [name, start, end] of regions) {
    it(`refuses a token with any bit flipped in its ${name}`, () => {
      for (let i = start; i < end; i++) {
        for (const bit of [0x01, 0x80]) {
          const copy = Buffer.from(raw);
          copy[i]! ^= bit;
          assertInvalid(() => fernet.decrypt(encodeBase64Url(copy)));
        }
      }
    });
  }

  it('refuses every truncation and an appended byte', () => {
    for (let len = 0; len < raw.length; len++) {
      assertInvalid(() => fernet.decrypt(encodeBase64Url(raw.subarray(0, len))));
    }
    assertInvalid(() => fernet.decrypt(encodeBase64Url(Buffer.concat([raw, Buffer.of(0)]))));
  });

  it('refuses malformed base64: foreign alphabet, stray characters, wrong padding', () => {
    const bare = token.replace(/=+$/, '');
    // The vector has '_' in it: in the standard alphabet that is '/', which is refused.
    assert.ok(HELLO_TOKEN.includes('_'));
    assertInvalid(() => new Fernet(SECRET).decrypt(HELLO_TOKEN.replaceAll('_', '/')));
    assertInvalid(() => fernet.decrypt(` ${token}`));
    assertInvalid(() => fernet.decrypt(`${bare.slice(0, 10)}.${bare.slice(10)}`));
    assertInvalid(() => fernet.decrypt(`${bare}===`));
    assertInvalid(() => fernet.decrypt(bare + (bare.length % 4 === 2 ? '=' : '==')));
    assertInvalid(() => fernet.decrypt(''));
  });

  it('refuses a second spelling of the same bytes (non-zero trailing bits)', () => {
    const bare = token.replace(/=+$/, '');
    assert.notEqual(bare.length % 4, 0, 'this message needs a partial last quantum');
    const last = bare.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = bare.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    assert.deepEqual(Buffer.from(twin, 'base64url'), raw, 'Buffer alone would accept it');
    assertInvalid(() => fernet.decrypt(twin));
  });

  it('refuses a token made under another key', () => {
    assertInvalid(() => new Fernet(Fernet.generateKey()).decrypt(token));
  });

  it('refuses any version but 0x80 even under a valid HMAC', () => {
    const signingKey = decodeBase64Url(key)!.subarray(0, 16);
    for (const version of [0x00, 0x7f, 0x81, 0xff]) {
      const signed = Buffer.from(raw.subarray(0, raw.length - 32));
      signed[0] = version;
      const hmac = createHmac('sha256', signingKey).update(signed).digest();
      assertInvalid(() => fernet.decrypt(encodeBase64Url(Buffer.concat([signed, hmac]))));
    }
  });

  it('refuses bad PKCS#7 padding even under a valid HMAC', () => {
    const keyBytes = decodeBase64Url(key)!;
    const cipher = createCipheriv('aes-128-cbc', keyBytes.subarray(16), IV).setAutoPadding(false);
    const header = Buffer.concat([Buffer.of(0x80), Buffer.alloc(8), IV]);
    const signed = Buffer.concat([header, cipher.update(Buffer.alloc(16, 0x11)), cipher.final()]);
    const hmac = createHmac('sha256', keyBytes.subarray(0, 16)).update(signed).digest();
    assertInvalid(() => fernet.decrypt(encodeBase64Url(Buffer.concat([signed, hmac]))));
  });
});

describe('Fernet keys and messages', () => {
  it('generates distinct 32-byte keys in padded base64url, as Keystone stores them', () => {
    const a = Fernet.generateKey();
    assert.match(a, /^[A-Za-z0-9_-]{43}=$/);
    assert.equal(decodeBase64Url(a)!.length, 32);
    assert.notEqual(a, Fernet.generateKey());
  });

  it('refuses keys that are not 32 bytes of base64url', () => {
    assert.throws(() => new Fernet('c2hvcnQ='), TypeError);
    assert.throws(() => new Fernet(SECRET.replace('_', '/')), TypeError);
    assert.doesNotThrow(() => new Fernet(`${SECRET}\n`)); // a key file's trailing newline
  });

  it('encrypts an empty message and uses a fresh IV each time', () => {
    const fernet = new Fernet(SECRET);
    const a = fernet.encrypt(new Uint8Array());
    assert.equal(fernet.decrypt(a).data.length, 0);
    assert.notEqual(a, fernet.encrypt(new Uint8Array()));
  });

  it('stamps the current time, to the second', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const { timestamp } = new Fernet(SECRET).decrypt(new Fernet(SECRET).encrypt(Buffer.of(1)));
    assert.ok(timestamp.getTime() >= before && timestamp.getTime() <= Date.now());
    assert.equal(timestamp.getTime() % 1000, 0);
  });
});

describe('MultiFernet', () => {
  const [k1, k2, k3] = [Fernet.generateKey(), Fernet.generateKey(), Fernet.generateKey()];

  it('encrypts with the first key only', () => {
    const token = MultiFernet.fromKeys([k1, k2]).encrypt(Buffer.from('x'));
    assert.equal(new Fernet(k1).decrypt(token).data.toString(), 'x');
    assertInvalid(() => new Fernet(k2).decrypt(token));
  });

  it('decrypts under any of its keys', () => {
    const multi = MultiFernet.fromKeys([k1, k2, k3]);
    for (const key of [k1, k2, k3]) {
      assert.equal(multi.decrypt(new Fernet(key).encrypt(Buffer.from(key))).data.toString(), key);
    }
  });

  it('refuses a token none of its keys made, with the same error', () => {
    assertInvalid(() =>
      MultiFernet.fromKeys([k1, k2]).decrypt(new Fernet(k3).encrypt(Buffer.of(1))),
    );
    assertInvalid(() => MultiFernet.fromKeys([k1, k2]).decrypt('not a token'));
  });

  it('needs at least one key', () => {
    assert.throws(() => MultiFernet.fromKeys([]), TypeError);
  });
});

describe('decodeBase64Url', () => {
  it('accepts canonical base64url with or without padding', () => {
    assert.deepEqual(decodeBase64Url('aGk='), Buffer.from('hi'));
    assert.deepEqual(decodeBase64Url('aGk'), Buffer.from('hi'));
    assert.deepEqual(decodeBase64Url(''), Buffer.alloc(0));
    assert.deepEqual(decodeBase64Url('_-8'), Buffer.of(0xff, 0xef));
  });

  it('refuses everything else', () => {
    for (const bad of ['aGk==', 'aGl=', 'a', 'aGk=aGk=', 'a+8=', 'a/8=', 'aG k', 'aGk=\n']) {
      assert.equal(decodeBase64Url(bad), undefined, bad);
    }
  });
});
