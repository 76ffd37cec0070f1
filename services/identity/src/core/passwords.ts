import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export type PasswordHashAlgorithm = 'bcrypt' | 'scrypt' | 'pbkdf2_sha512';

export interface PasswordHasherOptions {
  algorithm: PasswordHashAlgorithm;
  /** bcrypt: log2 cost (Keystone's default 12); pbkdf2: iterations; scrypt: log2 N. */
  rounds?: number;
}

const DEFAULT_ROUNDS: Record<PasswordHashAlgorithm, number> = {
  bcrypt: 12,
  scrypt: 16,
  pbkdf2_sha512: 60_000,
};

/** bcrypt reads only the first 72 bytes; Keystone refuses longer passwords for it. */
export const BCRYPT_MAX_BYTES = 72;

/**
 * Hashes and verifies passwords in the formats Keystone stores (passlib's): `$2b$…` for
 * bcrypt, `$scrypt$ln=…,r=…,p=…$salt$hash` and `$pbkdf2-sha512$rounds$salt$hash`, so
 * hashes move between Keystone and Stratus. Verification picks the algorithm from the
 * stored hash, so changing the configured one only affects new passwords.
 */
export class PasswordHasher {
  readonly algorithm: PasswordHashAlgorithm;
  readonly rounds: number;

  constructor(options: PasswordHasherOptions) {
    this.algorithm = options.algorithm;
    this.rounds = options.rounds ?? DEFAULT_ROUNDS[options.algorithm];
  }

  async hash(password: string): Promise<string> {
    switch (this.algorithm) {
      case 'bcrypt':
        return bcrypt.hash(password, this.rounds);
      case 'scrypt': {
        const salt = randomBytes(16);
        const key = await scryptAsync(password, salt, 32, scryptParams(this.rounds, 8, 1));
        return `$scrypt$ln=${this.rounds},r=8,p=1$${ab64(salt)}$${ab64(key)}`;
      }
      case 'pbkdf2_sha512': {
        const salt = randomBytes(16);
        const key = await pbkdf2Async(password, salt, this.rounds, 64, 'sha512');
        return `$pbkdf2-sha512$${this.rounds}$${ab64(salt)}$${ab64(key)}`;
      }
    }
  }

  /** Constant-time for a given hash; false (never a throw) for a malformed stored hash. */
  async verify(password: string, stored: string): Promise<boolean> {
    if (/^\$2[aby]\$/.test(stored)) return bcrypt.compare(password, stored);
    const parts = stored.split('$');
    if (stored.startsWith('$scrypt$') && parts.length === 5) {
      const params = Object.fromEntries((parts[2] ?? '').split(',').map((kv) => kv.split('=')));
      const [ln, r, p] = [Number(params['ln']), Number(params['r']), Number(params['p'])];
      if (![ln, r, p].every(Number.isInteger)) return false;
      const expected = fromAb64(parts[4] ?? '');
      const key = await scryptAsync(
        password,
        fromAb64(parts[3] ?? ''),
        expected.length,
        scryptParams(ln, r, p),
      );
      return expected.length > 0 && timingSafeEqual(key, expected);
    }
    if (stored.startsWith('$pbkdf2-sha512$') && parts.length === 5) {
      const rounds = Number(parts[2]);
      const expected = fromAb64(parts[4] ?? '');
      if (!Number.isInteger(rounds) || expected.length === 0) return false;
      const key = await pbkdf2Async(
        password,
        fromAb64(parts[3] ?? ''),
        rounds,
        expected.length,
        'sha512',
      );
      return timingSafeEqual(key, expected);
    }
    return false;
  }
}

function scryptParams(ln: number, r: number, p: number) {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** passlib's "adapted base64": standard alphabet with `.` for `+`, no padding. */
function ab64(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '.').replace(/=+$/, '');
}

function fromAb64(text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}
