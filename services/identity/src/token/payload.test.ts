import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { InvalidToken } from './fernet.js';
import {
  DEFAULT_AUTH_METHODS,
  DEFAULT_PAYLOAD_CONTEXT,
  PayloadVersion,
  bitmaskToMethods,
  decodePayload,
  encodePayload,
  methodsToBitmask,
  type TokenFields,
} from './payload.js';

const hexId = (): string => randomUUID().replaceAll('-', '');
const auditId = (): string => randomBytes(16).toString('base64url');
// Keystone's expiry times carry sub-second parts; a fraction also keeps the float a float.
const EXPIRES = new Date('2030-01-02T03:04:05.678Z');

describe('auth method bitmask', () => {
  it("numbers Keystone's default [auth] methods by powers of two in order", () => {
    const expected: Record<string, number> = {
      external: 1,
      password: 2,
      token: 4,
      oauth1: 8,
      mapped: 16,
      application_credential: 32,
    };
    for (const [method, bit] of Object.entries(expected)) {
      assert.equal(methodsToBitmask([method], DEFAULT_AUTH_METHODS), bit, method);
    }
    assert.equal(methodsToBitmask(['password', 'token'], DEFAULT_AUTH_METHODS), 6);
    assert.equal(methodsToBitmask(['password', 'password'], DEFAULT_AUTH_METHODS), 2);
    assert.equal(methodsToBitmask([], DEFAULT_AUTH_METHODS), 0);
  });

  it('decodes highest bit first, as Keystone lists them', () => {
    assert.deepEqual(bitmaskToMethods(6, DEFAULT_AUTH_METHODS), ['token', 'password']);
    assert.deepEqual(
      bitmaskToMethods(63, DEFAULT_AUTH_METHODS),
      [...DEFAULT_AUTH_METHODS].reverse(),
    );
    assert.deepEqual(bitmaskToMethods(0, DEFAULT_AUTH_METHODS), []);
  });

  it('round-trips every combination of a custom method list', () => {
    const methods = ['password', 'token', 'totp', 'application_credential'];
    for (let mask = 0; mask < 16; mask++) {
      const names = bitmaskToMethods(mask, methods);
      assert.equal(methodsToBitmask(names, methods), mask);
    }
  });

  it('refuses methods and bits that are not enabled', () => {
    assert.throws(() => methodsToBitmask(['totp'], DEFAULT_AUTH_METHODS), TypeError);
    assert.throws(() => bitmaskToMethods(64, DEFAULT_AUTH_METHODS), TypeError);
    assert.throws(() => bitmaskToMethods(-1, DEFAULT_AUTH_METHODS), TypeError);
    assert.throws(() => bitmaskToMethods(1.5, DEFAULT_AUTH_METHODS), TypeError);
  });
});

// The bytes Python's msgpack.packb() writes for Keystone's payload tuples, built by hand
// here so that the check does not depend on the encoder under test.
const bin16 = (hex: string): Buffer =>
  Buffer.concat([Buffer.of(0xc4, 16), Buffer.from(hex, 'hex')]);
const str = (s: string): Buffer => Buffer.concat([Buffer.of(0xa0 | s.length), Buffer.from(s)]);
const float64 = (n: number): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(n, 1);
  return b;
};
const TRUE = Buffer.of(0xc3);
const FALSE = Buffer.of(0xc2);
const NIL = Buffer.of(0xc0);
const array = (...items: Buffer[]): Buffer =>
  Buffer.concat([Buffer.of(0x90 | items.length), ...items]);

describe("payload bytes match Keystone's", () => {
  const user = hexId();
  const project = hexId();
  const audit = auditId();
  const auditHex = Buffer.from(audit, 'base64url').toString('hex');
  const expires = float64(EXPIRES.getTime() / 1000);

  it('project-scoped: [2, (True, user), methods, (True, project), expires, [audit]]', () => {
    const keystone = array(
      Buffer.of(2),
      array(TRUE, bin16(user)),
      Buffer.of(2),
      array(TRUE, bin16(project)),
      expires,
      array(bin16(auditHex)),
    );
    const fields: TokenFields = {
      userId: user,
      methods: ['password'],
      projectId: project,
      expiresAt: EXPIRES,
      auditIds: [audit],
    };
    assert.deepEqual(Buffer.from(encodePayload(fields)), keystone);
    assert.deepEqual(decodePayload(keystone), { version: 2, fields });
  });

  it('domain-scoped to the default domain, with a non-UUID user id', () => {
    const keystone = array(
      Buffer.of(1),
      array(FALSE, str('ldap-user')),
      Buffer.of(3),
      str('default'),
      expires,
      array(bin16(auditHex)),
    );
    const fields: TokenFields = {
      userId: 'ldap-user',
      methods: ['external', 'password'],
      domainId: 'default',
      expiresAt: EXPIRES,
      auditIds: [audit],
    };
    assert.deepEqual(Buffer.from(encodePayload(fields)), keystone);
    assert.deepEqual(decodePayload(keystone).fields, {
      ...fields,
      methods: ['password', 'external'],
    });
  });

  it('OAuth2 mTLS: (False, None) for an absent scope and a never-compressed thumbprint', () => {
    const keystone = array(
      Buffer.of(10),
      array(TRUE, bin16(user)),
      Buffer.of(2),
      array(TRUE, bin16(project)),
      array(FALSE, NIL),
      expires,
      array(bin16(auditHex)),
      array(FALSE, str('thumb')),
    );
    const fields: TokenFields = {
      userId: user,
      methods: ['password'],
      projectId: project,
      expiresAt: EXPIRES,
      auditIds: [audit],
      thumbprint: 'thumb',
    };
    assert.deepEqual(Buffer.from(encodePayload(fields)), keystone);
    assert.deepEqual(decodePayload(keystone), { version: 10, fields });
  });

  it("reads text stored as bytes, as Keystone's decoder allows", () => {
    const old = array(
      Buffer.of(8),
      array(FALSE, Buffer.concat([Buffer.of(0xc4, 5), Buffer.from('alice')])),
      Buffer.of(2),
      Buffer.concat([Buffer.of(0xc4, 3), Buffer.from('all')]),
      expires,
      array(),
    );
    assert.deepEqual(decodePayload(old).fields, {
      userId: 'alice',
      methods: ['password'],
      system: 'all',
      expiresAt: EXPIRES,
      auditIds: [],
    });
  });
});

describe('payload versions', () => {
  const base = (): TokenFields => ({
    userId: hexId(),
    methods: ['password'],
    expiresAt: EXPIRES,
    auditIds: [auditId(), auditId()],
  });
  const cases: Array<[string, PayloadVersion, Partial<TokenFields>]> = [
    ['unscoped', PayloadVersion.Unscoped, {}],
    ['domain (UUID)', PayloadVersion.DomainScoped, { domainId: hexId() }],
    ['domain (default)', PayloadVersion.DomainScoped, { domainId: 'default' }],
    ['project', PayloadVersion.ProjectScoped, { projectId: hexId() }],
    ['project (non-UUID id)', PayloadVersion.ProjectScoped, { projectId: 'legacy-project' }],
    ['trust', PayloadVersion.TrustScoped, { projectId: hexId(), trustId: hexId() }],
    [
      'federated unscoped',
      PayloadVersion.FederatedUnscoped,
      {
        methods: ['mapped'],
        federatedGroupIds: [hexId(), 'ldap-group'],
        identityProviderId: 'myidp',
        protocolId: 'saml2',
      },
    ],
    [
      'federated project',
      PayloadVersion.FederatedProjectScoped,
      {
        methods: ['token'],
        projectId: hexId(),
        federatedGroupIds: [],
        identityProviderId: hexId(),
        protocolId: 'openid',
      },
    ],
    [
      'federated domain',
      PayloadVersion.FederatedDomainScoped,
      {
        methods: ['token'],
        domainId: 'default',
        federatedGroupIds: [hexId()],
        identityProviderId: 'myidp',
        protocolId: 'openid',
      },
    ],
    [
      'OAuth1',
      PayloadVersion.OAuth1Scoped,
      { methods: ['oauth1'], projectId: hexId(), accessTokenId: hexId() },
    ],
    ['system', PayloadVersion.SystemScoped, { system: 'all' }],
    [
      'application credential',
      PayloadVersion.ApplicationCredentialScoped,
      { methods: ['application_credential'], projectId: hexId(), appCredId: hexId() },
    ],
    [
      'OAuth2 mTLS (domain)',
      PayloadVersion.OAuth2CredentialsScoped,
      { domainId: hexId(), thumbprint: 'sha256-thumbprint' },
    ],
  ];

  for (const [name, version, extra] of cases) {
    it(`round-trips a ${name} payload as version ${version}`, () => {
      const fields = { ...base(), ...extra };
      assert.deepEqual(decodePayload(encodePayload(fields)), { version, fields });
    });
  }

  it('keeps ids that only look like UUIDs exactly as given', () => {
    const hex = hexId();
    for (const id of [hex.toUpperCase(), randomUUID(), `{${hex}}`, '']) {
      const fields = { ...base(), userId: id, projectId: id };
      assert.equal(decodePayload(encodePayload(fields)).fields.userId, id);
      assert.equal(decodePayload(encodePayload(fields)).fields.projectId, id);
    }
  });

  it('refuses fields the chosen version has no place for, rather than dropping them', () => {
    assert.throws(
      () => encodePayload({ ...base(), projectId: hexId(), domainId: hexId() }),
      /domainId/,
    );
    assert.throws(() => encodePayload({ ...base(), projectId: hexId(), system: 'all' }), /system/);
    assert.throws(() => encodePayload({ ...base(), appCredId: hexId() }), /projectId is required/);
  });

  it('refuses values Keystone could not carry either', () => {
    assert.throws(() => encodePayload({ ...base(), domainId: 'not-the-default' }), TypeError);
    assert.throws(() => encodePayload({ ...base(), projectId: hexId(), trustId: 't1' }), TypeError);
    assert.throws(() => encodePayload({ ...base(), auditIds: ['not base64!'] }), TypeError);
    assert.throws(
      () => encodePayload({ ...base(), auditIds: ['AAAAAAAAAAAAAAAAAAAAAB'] }),
      TypeError,
    );
    assert.throws(() => encodePayload({ ...base(), expiresAt: new Date(NaN) }), TypeError);
  });

  it('honours a configured default domain id', () => {
    const context = { ...DEFAULT_PAYLOAD_CONTEXT, defaultDomainId: 'root' };
    const fields = { ...base(), domainId: 'root' };
    assert.deepEqual(decodePayload(encodePayload(fields, context), context).fields, fields);
    assert.throws(() => decodePayload(encodePayload(fields, context)), InvalidToken);
  });

  it('treats an unknown version or a malformed array as an invalid token', () => {
    const good = encodePayload(base());
    const bad = [
      encode([42, [false, 'u'], 2, 1.5, []]),
      encode(['0', [false, 'u'], 2, 1.5, []]),
      encode([0, [false, 'u'], 2, 1.5]),
      encode([0, [false, 'u'], 2, 1.5, [], 'extra']),
      encode([0, [true, 'not-bytes'], 2, 1.5, []]),
      encode([0, [false, null], 2, 1.5, []]),
      encode([0, [false, 'u'], 64, 1.5, []]),
      encode([0, [false, 'u'], 2, '2030-01-01', []]),
      encode([0, [false, 'u'], 2, 1.5, ['text']]),
      encode({ version: 0 }),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.of(0)]),
    ];
    for (const bytes of bad) assert.throws(() => decodePayload(bytes), InvalidToken);
  });
});
