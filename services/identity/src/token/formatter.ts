/**
 * Keystone's TokenFormatter: payload → msgpack → Fernet under the primary key, with the
 * base64 `=` padding stripped because it is not URL-safe (tokens travel in URLs and
 * headers). Validation accepts a token made under any key in the repository.
 */
import { InvalidToken, MultiFernet, decodeBase64Url } from './fernet.js';
import { KeysNotFound, type FernetKeyRepository } from './keys.js';
import {
  DEFAULT_PAYLOAD_CONTEXT,
  decodePayload,
  encodePayload,
  type PayloadContext,
  type PayloadVersion,
  type TokenFields,
} from './payload.js';

export interface TokenPayload extends TokenFields {
  version: PayloadVersion;
  /** From the Fernet header, whole seconds: Keystone reports it as the token's issued_at. */
  issuedAt: Date;
}

export type TokenFormatterOptions = Partial<PayloadContext>;

export function stripPadding(token: string): string {
  return token.replace(/=+$/, '');
}

export function restorePadding(token: string): string {
  const missing = (4 - (token.length % 4)) % 4;
  return token + '='.repeat(missing);
}

/**
 * The creation time written in a token's header, read WITHOUT checking the token: only
 * for a token this process has just made (Keystone's `creation_time`, used for the
 * issued_at of a new token's response). Use `validate()` for anything received.
 */
export function creationTime(token: string): Date {
  const raw = decodeBase64Url(restorePadding(token));
  if (raw === undefined || raw.length < 9) throw new InvalidToken();
  return new Date(Number(raw.readBigUInt64BE(1)) * 1000);
}

export class TokenFormatter {
  #crypto!: MultiFernet;
  readonly #context: PayloadContext;

  /** `keys` primary first, as FernetKeyRepository.load() returns them. */
  constructor(keys: readonly string[], options: TokenFormatterOptions = {}) {
    this.#context = {
      authMethods: options.authMethods ?? DEFAULT_PAYLOAD_CONTEXT.authMethods,
      defaultDomainId: options.defaultDomainId ?? DEFAULT_PAYLOAD_CONTEXT.defaultDomainId,
    };
    this.useKeys(keys);
  }

  static async fromRepository(
    repository: FernetKeyRepository,
    options?: TokenFormatterOptions,
  ): Promise<TokenFormatter> {
    return new TokenFormatter(await repository.load(), options);
  }

  /**
   * Swaps in a freshly loaded key set. Keystone rereads its repository on every request;
   * here the owner decides when (after a rotation, on a timer or on SIGHUP).
   */
  useKeys(keys: readonly string[]): void {
    if (keys.length === 0) throw new KeysNotFound();
    this.#crypto = MultiFernet.fromKeys(keys);
  }

  create(fields: TokenFields, at: Date = new Date()): string {
    return stripPadding(this.#crypto.encrypt(encodePayload(fields, this.#context), { at }));
  }

  /** Checks authenticity and decodes; expiry is the caller's to check against expiresAt. */
  validate(token: string): TokenPayload {
    const { data, timestamp } = this.#crypto.decrypt(restorePadding(token));
    const { version, fields } = decodePayload(data, this.#context);
    return { ...fields, version, issuedAt: timestamp };
  }
}
