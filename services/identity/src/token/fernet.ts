/**
 * Fernet (https://github.com/fernet/spec), version 0x80, on node:crypto.
 *
 * token = base64url(version ‖ timestamp ‖ iv ‖ ciphertext ‖ hmac)
 * key   = base64url(signing key (16 bytes) ‖ encryption key (16 bytes))
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { Unauthorized, defineError } from '@stratus/common';

/**
 * Every way a token can fail (bad encoding, version, HMAC, padding, length, age) ends in
 * this one error with one message, so a caller cannot be used as an oracle.
 */
export const InvalidToken = defineError('InvalidToken', 401, 'The token is invalid.', {
  parent: Unauthorized,
});

const VERSION = 0x80;
const HEADER = 1 + 8 + 16; // version, timestamp, IV
const HMAC_LENGTH = 32;
const BLOCK = 16;
/** How far in the future a timestamp may be when a TTL is checked (as `cryptography` does). */
const MAX_CLOCK_SKEW_SECONDS = 60;

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Strict base64url: Buffer.from() silently skips stray characters and ignores non-zero
 * trailing bits, which would let many strings stand for one token. Padding is optional;
 * when present it must be exactly right.
 */
export function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bare = text.replace(/=+$/, '');
  if (text.length !== bare.length && text.length % 4 !== 0) return undefined;
  if (bare.length % 4 === 1) return undefined;
  const bytes = Buffer.from(bare, 'base64url');
  return bytes.toString('base64url') === bare ? bytes : undefined;
}

/** base64url with `=` padding, as Python's urlsafe_b64encode() writes it. */
export function encodeBase64Url(bytes: Uint8Array): string {
  const bare = Buffer.from(bytes).toString('base64url');
  return bare.padEnd(Math.ceil(bare.length / 4) * 4, '=');
}

export interface FernetMessage {
  data: Buffer;
  /** The token's creation time (whole seconds), from its unencrypted header. */
  timestamp: Date;
}

export interface DecryptOptions {
  /** Reject tokens older than this many seconds (Keystone checks expiry itself and omits it). */
  ttlSeconds?: number;
  now?: Date;
}

export interface EncryptOptions {
  at?: Date;
  /** Only for reproducing published test vectors: an IV must never be reused. */
  iv?: Uint8Array;
}

export class Fernet {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  constructor(key: string) {
    const raw = decodeBase64Url(key.trim());
    if (raw?.length !== 32) throw new TypeError('a Fernet key is 32 bytes of base64url');
    this.#signingKey = raw.subarray(0, 16);
    this.#encryptionKey = raw.subarray(16);
  }

  static generateKey(): string {
    return encodeBase64Url(randomBytes(32));
  }

  encrypt(data: Uint8Array, options: EncryptOptions = {}): string {
    const seconds = Math.floor((options.at ?? new Date()).getTime() / 1000);
    if (!(seconds >= 0)) throw new RangeError('a Fernet timestamp cannot precede 1970');
    const iv = options.iv ?? randomBytes(16);
    if (iv.length !== 16) throw new RangeError('a Fernet IV is 16 bytes');

    const header = Buffer.alloc(HEADER);
    header.writeUInt8(VERSION, 0);
    header.writeBigUInt64BE(BigInt(seconds), 1);
    header.set(iv, 9);
    // node's AES-CBC pads with PKCS#7 by default, which is what the spec asks for.
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const signed = Buffer.concat([header, cipher.update(data), cipher.final()]);
    return encodeBase64Url(Buffer.concat([signed, this.#sign(signed)]));
  }

  decrypt(token: string, options: DecryptOptions = {}): FernetMessage {
    const raw = decodeBase64Url(token);
    // The smallest valid token holds one cipher block.
    if (
      raw === undefined ||
      raw.length < HEADER + BLOCK + HMAC_LENGTH ||
      (raw.length - HEADER - HMAC_LENGTH) % BLOCK !== 0 ||
      raw[0] !== VERSION
    ) {
      throw new InvalidToken();
    }
    const seconds = Number(raw.readBigUInt64BE(1));
    if (options.ttlSeconds !== undefined) {
      const now = (options.now ?? new Date()).getTime() / 1000;
      if (seconds + options.ttlSeconds < now || seconds > now + MAX_CLOCK_SKEW_SECONDS) {
        throw new InvalidToken();
      }
    }

    const signed = raw.subarray(0, raw.length - HMAC_LENGTH);
    if (!timingSafeEqual(this.#sign(signed), raw.subarray(raw.length - HMAC_LENGTH))) {
      throw new InvalidToken();
    }
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, raw.subarray(9, 25));
      const data = Buffer.concat([decipher.update(signed.subarray(HEADER)), decipher.final()]);
      return { data, timestamp: new Date(seconds * 1000) };
    } catch {
      // A bad PKCS#7 padding: only possible under a valid HMAC if the key pair is mixed up.
      throw new InvalidToken();
    }
  }

  #sign(data: Uint8Array): Buffer {
    return createHmac('sha256', this.#signingKey).update(data).digest();
  }
}

/**
 * Several keys at once, as Keystone uses them: encrypt with the first (primary) key,
 * accept a token made under any of them.
 */
export class MultiFernet {
  readonly #fernets: readonly Fernet[];

  constructor(fernets: readonly Fernet[]) {
    if (fernets.length === 0) throw new TypeError('MultiFernet needs at least one key');
    this.#fernets = [...fernets];
  }

  static fromKeys(keys: readonly string[]): MultiFernet {
    return new MultiFernet(keys.map((key) => new Fernet(key)));
  }

  encrypt(data: Uint8Array, options?: EncryptOptions): string {
    return this.#fernets[0]!.encrypt(data, options);
  }

  decrypt(token: string, options?: DecryptOptions): FernetMessage {
    for (const fernet of this.#fernets) {
      try {
        return fernet.decrypt(token, options);
      } catch (err) {
        if (!(err instanceof InvalidToken)) throw err;
      }
    }
    throw new InvalidToken();
  }
}
