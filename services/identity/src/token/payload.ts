/**
 * Keystone's Fernet token payloads (keystone/token/token_formatters.py): a msgpack array
 * `[version, ...fields]` whose field list depends on the version. The encodings follow
 * Keystone's so that a token made here decodes there and the other way round, given the
 * same keys, `[auth] methods` and default domain id.
 */
import { decode, encode } from '@msgpack/msgpack';
import { InvalidToken } from './fernet.js';

export const PayloadVersion = {
  Unscoped: 0,
  DomainScoped: 1,
  ProjectScoped: 2,
  TrustScoped: 3,
  FederatedUnscoped: 4,
  FederatedProjectScoped: 5,
  FederatedDomainScoped: 6,
  OAuth1Scoped: 7,
  SystemScoped: 8,
  ApplicationCredentialScoped: 9,
  OAuth2CredentialsScoped: 10,
} as const;
export type PayloadVersion = (typeof PayloadVersion)[keyof typeof PayloadVersion];

/** What a token carries; which optional fields are set decides the payload version. */
export interface TokenFields {
  userId: string;
  /** Authentication method names, e.g. `['password']`. */
  methods: string[];
  expiresAt: Date;
  /** The token's audit id first, then its parent's if it was rescoped (22-char base64url). */
  auditIds: string[];
  projectId?: string;
  domainId?: string;
  /** System scope, `'all'` in practice. */
  system?: string;
  trustId?: string;
  federatedGroupIds?: string[];
  identityProviderId?: string;
  protocolId?: string;
  /** OAuth 1.0a access token. */
  accessTokenId?: string;
  appCredId?: string;
  /** OAuth 2.0 mTLS client certificate thumbprint. */
  thumbprint?: string;
}

/** Keystone's default `[auth] methods`; the n-th method is bit 2^n of the bitmask. */
export const DEFAULT_AUTH_METHODS: readonly string[] = [
  'external',
  'password',
  'token',
  'oauth1',
  'mapped',
  'application_credential',
];

export interface PayloadContext {
  /** `[auth] methods`, in configuration order: reordering it changes every bitmask. */
  authMethods: readonly string[];
  /** The one non-UUID domain id a domain-scoped (version 1) payload may carry. */
  defaultDomainId: string;
}

export const DEFAULT_PAYLOAD_CONTEXT: PayloadContext = {
  authMethods: DEFAULT_AUTH_METHODS,
  defaultDomainId: 'default',
};

export function methodsToBitmask(
  methods: readonly string[],
  authMethods: readonly string[],
): number {
  let mask = 0;
  // A Set, because Keystone's plain sum turns a repeated method into a different one.
  for (const method of new Set(methods)) {
    const index = authMethods.indexOf(method);
    // Keystone silently drops an unknown method; that would issue a token that misstates
    // how its holder authenticated.
    if (index < 0) throw new TypeError(`auth method ${method} is not enabled`);
    mask += 2 ** index;
  }
  return mask;
}

/** Highest bit first, the order Keystone lists methods in after decoding. */
export function bitmaskToMethods(mask: number, authMethods: readonly string[]): string[] {
  if (!Number.isSafeInteger(mask) || mask < 0 || mask >= 2 ** authMethods.length) {
    throw new TypeError(`method bitmask ${mask} names a method that is not enabled`);
  }
  const methods: string[] = [];
  for (let index = authMethods.length - 1; index >= 0; index--) {
    if (Math.floor(mask / 2 ** index) % 2 === 1) methods.push(authMethods[index]!);
  }
  return methods;
}

// Only the canonical form (uuid.hex in Python) is compressed, so that decoding gives back
// exactly the string that went in. Keystone also compresses hyphenated or upper-case UUIDs,
// and then hands back a different string than it was given.
const UUID_HEX = /^[0-9a-f]{32}$/;

function uuidToBytes(id: string): Uint8Array {
  return Buffer.from(id, 'hex');
}

function bytesToUuid(value: unknown): string {
  if (!(value instanceof Uint8Array) || value.length !== 16) throw new TypeError('not a UUID');
  return Buffer.from(value).toString('hex');
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  // Keystone's decoder (`_convert_or_decode`) accepts text stored as bytes; so do we.
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  throw new TypeError('not text');
}

/** How one field is written into, and read from, a payload array. */
interface Codec<T> {
  encode(value: T | undefined, context: PayloadContext): unknown;
  decode(value: unknown, context: PayloadContext): T | undefined;
}

/**
 * Keystone's `(is_stored_as_bytes, value)` pair: a UUID as its 16 bytes, anything else
 * (LDAP or federated ids, names) as-is. `compress: false` always stores the value as-is.
 */
function tagged(compress = true): Codec<string> {
  return {
    encode: (id) =>
      compress && id !== undefined && UUID_HEX.test(id)
        ? [true, uuidToBytes(id)]
        : [false, id ?? null],
    decode: (value) => {
      if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'boolean') {
        throw new TypeError('not an (is_stored_as_bytes, value) pair');
      }
      if (value[0]) return bytesToUuid(value[1]);
      return value[1] === null ? undefined : text(value[1]);
    },
  };
}

/** A bare 16-byte UUID (trust ids, which Keystone always generates). */
const uuid: Codec<string> = {
  encode: (id) => {
    if (id === undefined || !UUID_HEX.test(id)) throw new TypeError(`${id} is not a UUID hex`);
    return uuidToBytes(id);
  },
  decode: bytesToUuid,
};

/** Version 1 stores the domain id bare: 16 bytes, or the default domain id as text. */
const scopeDomain: Codec<string> = {
  encode: (id, context) => {
    if (id !== undefined && UUID_HEX.test(id)) return uuidToBytes(id);
    if (id === context.defaultDomainId) return id;
    throw new TypeError(`domain id ${id} is neither a UUID hex nor the default domain id`);
  },
  decode: (value, context) => {
    if (value instanceof Uint8Array && value.length === 16) return bytesToUuid(value);
    if (text(value) === context.defaultDomainId) return context.defaultDomainId;
    throw new TypeError('unknown domain id');
  },
};

const plainText: Codec<string> = {
  encode: (value) => value,
  decode: text,
};

const methods: Codec<string[]> = {
  encode: (names, context) => methodsToBitmask(names ?? [], context.authMethods),
  decode: (mask, context) => {
    if (typeof mask !== 'number') throw new TypeError('methods is not an integer');
    return bitmaskToMethods(mask, context.authMethods);
  },
};

/**
 * Seconds since the epoch as a float, the way Keystone writes `expires_at`. A whole second
 * comes out as a msgpack integer instead (the encoder picks the shortest form); Keystone's
 * `datetime.fromtimestamp()` reads either.
 */
const timestamp: Codec<Date> = {
  encode: (date) => {
    const seconds = (date?.getTime() ?? NaN) / 1000;
    if (!Number.isFinite(seconds)) throw new TypeError('expiresAt is not a valid date');
    return seconds;
  },
  decode: (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError('not a time');
    return new Date(Math.round(value * 1000));
  },
};

const AUDIT_ID = /^[A-Za-z0-9_-]+$/;

/** Audit ids travel as the bytes they are the unpadded base64url of. */
const auditIds: Codec<string[]> = {
  encode: (ids) =>
    (ids ?? []).map((id) => {
      const bytes = Buffer.from(id, 'base64url');
      // Only a canonical string survives the round trip through its bytes.
      if (!AUDIT_ID.test(id) || bytes.toString('base64url') !== id) {
        throw new TypeError(`audit id ${id} is not unpadded base64url`);
      }
      return bytes;
    }),
  decode: (value) => {
    if (!Array.isArray(value)) throw new TypeError('audit ids are not a list');
    return value.map((bytes: unknown) => {
      if (!(bytes instanceof Uint8Array)) throw new TypeError('audit id is not bytes');
      return Buffer.from(bytes).toString('base64url');
    });
  },
};

function listOf<T>(codec: Codec<T>): Codec<T[]> {
  return {
    encode: (values, context) => (values ?? []).map((value) => codec.encode(value, context)),
    decode: (value, context) => {
      if (!Array.isArray(value)) throw new TypeError('not a list');
      return value.map((item: unknown) => {
        const decoded = codec.decode(item, context);
        if (decoded === undefined) throw new TypeError('empty list item');
        return decoded;
      });
    },
  };
}

type FieldName = keyof TokenFields;

/** One position of a payload array, bound to the TokenFields property it carries. */
interface Slot {
  field: FieldName;
  encode(fields: TokenFields, context: PayloadContext): unknown;
  decode(value: unknown, context: PayloadContext, into: Partial<TokenFields>): void;
}

function slot<K extends FieldName>(
  field: K,
  codec: Codec<NonNullable<TokenFields[K]>>,
  optional = false,
): Slot {
  return {
    field,
    encode: (fields, context) => {
      const value = fields[field] ?? undefined;
      if (value === undefined && !optional) throw new TypeError(`${field} is required`);
      return codec.encode(value, context);
    },
    decode: (value, context, into) => {
      const decoded = codec.decode(value, context);
      if (decoded === undefined && !optional) throw new TypeError(`${field} is missing`);
      if (decoded !== undefined) (into as Record<K, unknown>)[field] = decoded;
    },
  };
}

const user = slot('userId', tagged());
const methodSlot = slot('methods', methods);
const expires = slot('expiresAt', timestamp);
const audit = slot('auditIds', auditIds);
const project = slot('projectId', tagged());
const groups = slot('federatedGroupIds', listOf(tagged()));
const idp = slot('identityProviderId', tagged());
const protocol = slot('protocolId', plainText);

/** The field order of each version, as Keystone's payload classes assemble them. */
const LAYOUTS: Record<PayloadVersion, readonly Slot[]> = {
  0: [user, methodSlot, expires, audit],
  1: [user, methodSlot, slot('domainId', scopeDomain), expires, audit],
  2: [user, methodSlot, project, expires, audit],
  3: [user, methodSlot, project, expires, audit, slot('trustId', uuid)],
  4: [user, methodSlot, groups, idp, protocol, expires, audit],
  5: [user, methodSlot, project, groups, idp, protocol, expires, audit],
  6: [user, methodSlot, slot('domainId', tagged()), groups, idp, protocol, expires, audit],
  7: [user, methodSlot, project, slot('accessTokenId', tagged()), expires, audit],
  8: [user, methodSlot, slot('system', plainText), expires, audit],
  9: [user, methodSlot, project, expires, audit, slot('appCredId', tagged())],
  10: [
    user,
    methodSlot,
    slot('projectId', tagged(), true),
    slot('domainId', tagged(), true),
    expires,
    audit,
    slot('thumbprint', tagged(false)),
  ],
};

/** Keystone's choice of payload class (token/providers/fernet/core.py), in its order. */
export function payloadVersionFor(fields: TokenFields): PayloadVersion {
  if (fields.accessTokenId !== undefined) return PayloadVersion.OAuth1Scoped;
  if (fields.trustId !== undefined) return PayloadVersion.TrustScoped;
  if (fields.identityProviderId !== undefined) {
    if (fields.projectId !== undefined) return PayloadVersion.FederatedProjectScoped;
    if (fields.domainId !== undefined) return PayloadVersion.FederatedDomainScoped;
    return PayloadVersion.FederatedUnscoped;
  }
  if (fields.appCredId !== undefined) return PayloadVersion.ApplicationCredentialScoped;
  if (fields.thumbprint !== undefined) return PayloadVersion.OAuth2CredentialsScoped;
  if (fields.projectId !== undefined) return PayloadVersion.ProjectScoped;
  if (fields.domainId !== undefined) return PayloadVersion.DomainScoped;
  if (fields.system !== undefined) return PayloadVersion.SystemScoped;
  return PayloadVersion.Unscoped;
}

/** msgpack bytes of `[version, ...fields]`. Throws TypeError for fields it cannot carry. */
export function encodePayload(
  fields: TokenFields,
  context: PayloadContext = DEFAULT_PAYLOAD_CONTEXT,
): Uint8Array {
  const version = payloadVersionFor(fields);
  const layout = LAYOUTS[version];
  // A field the chosen version has no place for would silently vanish from the token.
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && !layout.some((s) => s.field === name)) {
      throw new TypeError(`a version ${version} token payload cannot carry ${name}`);
    }
  }
  return encode([version, ...layout.map((s) => s.encode(fields, context))]);
}

export interface DecodedPayload {
  version: PayloadVersion;
  fields: TokenFields;
}

/**
 * Reads a payload. Anything unexpected is an InvalidToken: it passed the HMAC, so it was
 * made with our keys, but by a writer whose format or configuration we do not share.
 */
export function decodePayload(
  bytes: Uint8Array,
  context: PayloadContext = DEFAULT_PAYLOAD_CONTEXT,
): DecodedPayload {
  try {
    const array = decode(bytes);
    if (!Array.isArray(array)) throw new TypeError('not an array');
    const version = array[0] as PayloadVersion;
    const layout =
      typeof version === 'number' && Object.hasOwn(LAYOUTS, version) ? LAYOUTS[version] : undefined;
    if (layout === undefined || array.length !== layout.length + 1) {
      throw new TypeError('unknown payload version or length');
    }
    const into: Partial<TokenFields> = {};
    layout.forEach((s, i) => s.decode(array[i + 1], context, into));
    return { version, fields: into as TokenFields };
  } catch {
    throw new InvalidToken();
  }
}
