import type { Kysely, Selectable } from 'kysely';
import type { IdentitySchema, RevocationEventRow } from '../store/schema.js';

/**
 * A revocation event: every token whose facts match all of its set fields, and that was
 * issued at or before `issuedBefore`, is revoked (Keystone's revoke model). Revoking one
 * token sets its audit id; disabling a user sets the user id; unassigning a role sets
 * user, project and role.
 */
export interface RevocationEvent {
  userId?: string;
  projectId?: string;
  domainId?: string;
  roleId?: string;
  auditId?: string;
  auditChainId?: string;
  issuedBefore: Date;
  /** When the revoked token expires: afterwards the event can be forgotten. */
  expiresAt?: Date;
}

/** What a token is, as far as revocation is concerned. */
export interface TokenFacts {
  userId: string;
  /** The token's own audit id, then its chain's (the first token of a rescoping chain). */
  auditIds: readonly string[];
  issuedAt: Date;
  projectId?: string;
  /** The domains the token touches: the user's, the scoped domain, the project's. */
  domainIds: readonly string[];
  roleIds: readonly string[];
}

type Field = 'userId' | 'projectId' | 'domainId' | 'roleId' | 'auditId' | 'auditChainId';
const FIELDS: readonly Field[] = [
  'userId',
  'projectId',
  'domainId',
  'roleId',
  'auditId',
  'auditChainId',
];

/**
 * The revocation events of this cloud, held in memory and indexed by every field, so
 * checking a token looks only at the events that name something the token has: cheap
 * however many events there are (Keystone scans them all). Events are written to the
 * database first; `sync()` picks up what other processes wrote.
 */
export class RevocationList {
  private readonly index = new Map<string, RevocationEvent[]>();
  /** Events that name none of the indexed fields (revoke everything issued before). */
  private readonly global: RevocationEvent[] = [];
  private lastId = 0;
  private count = 0;
  private syncedAt = 0;

  constructor(private readonly db: Kysely<IdentitySchema>) {}

  get size(): number {
    return this.count;
  }

  /**
   * Syncs when the last sync is older than `maxAgeMs`: events this process writes apply
   * at once; those of other processes (several API servers on one database) within that.
   */
  async syncIfStale(maxAgeMs = 1000): Promise<void> {
    if (Date.now() - this.syncedAt >= maxAgeMs) await this.sync();
  }

  /** Loads events written since the last sync (all of them the first time). */
  async sync(): Promise<void> {
    this.syncedAt = Date.now();
    const rows = await this.db
      .selectFrom('revocation_event')
      .selectAll()
      .where('id', '>', this.lastId)
      .orderBy('id')
      .execute();
    for (const row of rows) {
      this.remember(fromRow(row));
      this.lastId = Math.max(this.lastId, row.id);
    }
  }

  /** Records an event durably, then applies it here at once. */
  async add(event: RevocationEvent, now = new Date()): Promise<void> {
    await this.db
      .insertInto('revocation_event')
      .values({
        user_id: event.userId ?? null,
        project_id: event.projectId ?? null,
        domain_id: event.domainId ?? null,
        role_id: event.roleId ?? null,
        audit_id: event.auditId ?? null,
        audit_chain_id: event.auditChainId ?? null,
        issued_before: event.issuedBefore,
        expires_at: event.expiresAt ?? null,
        revoked_at: now,
      })
      .execute();
    // Other writers' events up to this one come along; ours is included.
    await this.sync();
  }

  isRevoked(token: TokenFacts): boolean {
    const keys = [
      `userId:${token.userId}`,
      ...token.auditIds.slice(0, 1).map((a) => `auditId:${a}`),
      ...token.auditIds.slice(-1).map((a) => `auditChainId:${a}`),
      ...(token.projectId ? [`projectId:${token.projectId}`] : []),
      ...token.domainIds.map((d) => `domainId:${d}`),
      ...token.roleIds.map((r) => `roleId:${r}`),
    ];
    const check = (e: RevocationEvent): boolean =>
      e.issuedBefore >= token.issuedAt && matches(e, token);
    if (this.global.some(check)) return true;
    return keys.some((k) => this.index.get(k)?.some(check) ?? false);
  }

  /** Forgets events whose revoked tokens have all expired, here and in the database. */
  async prune(now = new Date()): Promise<number> {
    const result = await this.db
      .deleteFrom('revocation_event')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    this.index.clear();
    this.global.length = 0;
    this.count = 0;
    this.lastId = 0;
    await this.sync();
    return Number(result.numDeletedRows);
  }

  private remember(event: RevocationEvent): void {
    this.count++;
    // Indexed under one field it names: a match needs that field to match anyway.
    const field = FIELDS.find((f) => event[f] !== undefined);
    if (!field) {
      this.global.push(event);
      return;
    }
    const key = `${field}:${event[field]}`;
    const list = this.index.get(key);
    if (list) list.push(event);
    else this.index.set(key, [event]);
  }
}

function matches(e: RevocationEvent, t: TokenFacts): boolean {
  if (e.userId !== undefined && e.userId !== t.userId) return false;
  if (e.projectId !== undefined && e.projectId !== t.projectId) return false;
  if (e.domainId !== undefined && !t.domainIds.includes(e.domainId)) return false;
  if (e.roleId !== undefined && !t.roleIds.includes(e.roleId)) return false;
  if (e.auditId !== undefined && e.auditId !== t.auditIds[0]) return false;
  if (e.auditChainId !== undefined && e.auditChainId !== t.auditIds[t.auditIds.length - 1])
    return false;
  return true;
}

function fromRow(row: Selectable<RevocationEventRow>): RevocationEvent {
  const event: RevocationEvent = { issuedBefore: row.issued_before };
  if (row.user_id !== null) event.userId = row.user_id;
  if (row.project_id !== null) event.projectId = row.project_id;
  if (row.domain_id !== null) event.domainId = row.domain_id;
  if (row.role_id !== null) event.roleId = row.role_id;
  if (row.audit_id !== null) event.auditId = row.audit_id;
  if (row.audit_chain_id !== null) event.auditChainId = row.audit_chain_id;
  if (row.expires_at !== null) event.expiresAt = row.expires_at;
  return event;
}
