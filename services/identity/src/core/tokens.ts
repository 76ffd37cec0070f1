import { randomBytes } from 'node:crypto';
import { defineError, NotFound, Unauthorized } from '@stratus/common';
import { LRUCache } from 'lru-cache';
import { InvalidToken, type TokenFormatter, type TokenPayload } from '../token/index.js';
import type { RevocationList, TokenFacts } from './revocations.js';

export const TokenNotFound = defineError('TokenNotFound', 404, 'Could not find token.', {
  parent: NotFound,
});

const RESOLVED_TTL_MS = 5000;

/** A new audit id: 16 random bytes, url-safe base64 without padding, as Keystone makes them. */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}

export interface IssueRequest {
  userId: string;
  methods: string[];
  projectId?: string;
  domainId?: string;
  system?: 'all';
  appCredId?: string;
  /** For a token made from another token: the chain's first audit id and its expiry. */
  parent?: { auditIds: readonly string[]; expiresAt: Date };
}

/**
 * Issues and checks tokens: the Fernet format, expiry, and revocation. What a token
 * grants (roles, catalog) is worked out by the caller from the payload, because it must
 * reflect the current assignments, not those at issue time.
 */
export class TokenService {
  private readonly cache: LRUCache<string, TokenPayload> | undefined;
  /**
   * What validated tokens stand for (user, scope, roles), kept for a few seconds: local
   * changes forget it at once through invalidate(); changes made by another API process
   * on the same database show within RESOLVED_TTL_MS, or at once when they revoke.
   */
  readonly resolved: LRUCache<string, object>;

  constructor(
    private readonly formatter: TokenFormatter,
    private readonly revocations: RevocationList,
    private readonly options: {
      expirationS: number;
      allowExpiredWindowS: number;
      cacheSize: number;
    },
  ) {
    this.cache = options.cacheSize > 0 ? new LRUCache({ max: options.cacheSize }) : undefined;
    this.resolved = new LRUCache({
      max: Math.max(options.cacheSize, 1),
      ttl: options.cacheSize > 0 ? RESOLVED_TTL_MS : 1,
    });
  }

  issue(req: IssueRequest, now = new Date()): { token: string; payload: TokenPayload } {
    const ownExpiry = new Date(now.getTime() + this.options.expirationS * 1000);
    // A rescoped token never outlives the token it came from.
    const expiresAt =
      req.parent && req.parent.expiresAt < ownExpiry ? req.parent.expiresAt : ownExpiry;
    const chain = req.parent ? req.parent.auditIds.slice(-1) : [];
    const fields = {
      userId: req.userId,
      methods: req.methods,
      expiresAt,
      auditIds: [newAuditId(), ...chain],
      ...(req.projectId ? { projectId: req.projectId } : {}),
      ...(req.domainId ? { domainId: req.domainId } : {}),
      ...(req.system ? { system: req.system } : {}),
      ...(req.appCredId ? { appCredId: req.appCredId } : {}),
    };
    const token = this.formatter.create(fields, now);
    return { token, payload: this.formatter.validate(token) };
  }

  /**
   * The payload of a valid token: correctly signed under a current key, not expired
   * (unless `allowExpired`, within the window), not revoked. `facts` adds what only the
   * caller knows (the token's roles and domains) to the revocation check. Anything wrong
   * is one error, so a caller learns nothing about why.
   */
  async validate(
    token: string,
    facts: (
      payload: TokenPayload,
    ) => Promise<Omit<TokenFacts, 'userId' | 'auditIds' | 'issuedAt' | 'projectId'>>,
    options: { allowExpired?: boolean; now?: Date; asSubject?: boolean } = {},
  ): Promise<TokenPayload> {
    const fail = (): never => {
      throw options.asSubject
        ? new TokenNotFound(`Could not find token: ${token}`)
        : new Unauthorized('The request you have made requires authentication.');
    };
    let payload = this.cache?.get(token);
    if (!payload) {
      try {
        payload = this.formatter.validate(token);
      } catch (err) {
        if (err instanceof InvalidToken) return fail();
        throw err;
      }
    }
    const now = options.now ?? new Date();
    const window = options.allowExpired ? this.options.allowExpiredWindowS * 1000 : 0;
    if (payload.expiresAt.getTime() + window <= now.getTime()) return fail();
    await this.revocations.syncIfStale();
    const more = await facts(payload);
    const revoked = this.revocations.isRevoked({
      userId: payload.userId,
      auditIds: payload.auditIds,
      issuedAt: payload.issuedAt,
      ...(payload.projectId ? { projectId: payload.projectId } : {}),
      ...more,
    });
    if (revoked) return fail();
    this.cache?.set(token, payload);
    return payload;
  }

  /** Revokes one token (and nothing else of its chain), until it would have expired anyway. */
  async revoke(payload: TokenPayload, now = new Date()): Promise<void> {
    this.invalidate();
    await this.revocations.add(
      { auditId: payload.auditIds[0], issuedBefore: now, expiresAt: payload.expiresAt },
      now,
    );
  }

  /** Something that tokens depend on changed: forget cached validations. */
  invalidate(): void {
    this.cache?.clear();
    this.resolved.clear();
  }
}
