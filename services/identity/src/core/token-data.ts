import { Unauthorized } from '@stratus/common';
import type { Selectable } from 'kysely';
import type { TokenPayload } from '../token/index.js';
import type { IdentitySchema, ProjectRow, RoleRow, UserRow } from '../store/schema.js';
import type { Identity } from './identity.js';
import { effectiveRoles, type Scope } from './roles.js';
import type { Kysely } from 'kysely';

/** What a token stands for now: its user and scope as they are, and the roles they hold. */
export interface TokenData {
  payload: TokenPayload;
  user: Selectable<UserRow>;
  userDomain: Selectable<ProjectRow>;
  project?: Selectable<ProjectRow>;
  projectDomain?: Selectable<ProjectRow>;
  domain?: Selectable<ProjectRow>;
  system?: 'all';
  roles: Selectable<RoleRow>[];
  appCred?: { id: string; name: string; unrestricted: boolean };
  passwordExpiresAt: Date | null;
}

const unauthorized = (): never => {
  throw new Unauthorized('The request you have made requires authentication.');
};

export async function loadProject(
  db: Kysely<IdentitySchema>,
  id: string,
): Promise<Selectable<ProjectRow> | undefined> {
  return db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
}

export function scopeOf(
  payload: Pick<TokenPayload, 'projectId' | 'domainId' | 'system'>,
): Scope | undefined {
  if (payload.projectId) return { projectId: payload.projectId };
  if (payload.domainId) return { domainId: payload.domainId };
  if (payload.system) return { system: 'all' };
  return undefined;
}

/**
 * Resolves a token payload against the current data. A token stops working the moment
 * its user, the user's domain, its project or domain is disabled or deleted, or it no
 * longer carries any role on its scope — as Keystone does on validation.
 */
export async function resolveToken(identity: Identity, payload: TokenPayload): Promise<TokenData> {
  const { db } = identity;
  const user = await db
    .selectFrom('identity_user')
    .selectAll()
    .where('id', '=', payload.userId)
    .executeTakeFirst();
  if (!user || !user.enabled) return unauthorized();
  const userDomain = await loadProject(db, user.domain_id);
  if (!userDomain || !userDomain.enabled) return unauthorized();
  const password = await db
    .selectFrom('password')
    .select('expires_at')
    .where('user_id', '=', user.id)
    .where('replaced_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  const data: TokenData = {
    payload,
    user,
    userDomain,
    roles: [],
    passwordExpiresAt: password?.expires_at ?? null,
  };

  if (payload.projectId) {
    const project = await loadProject(db, payload.projectId);
    if (!project || !project.enabled || project.is_domain) return unauthorized();
    const projectDomain = project.domain_id ? await loadProject(db, project.domain_id) : undefined;
    if (!projectDomain || !projectDomain.enabled) return unauthorized();
    data.project = project;
    data.projectDomain = projectDomain;
  } else if (payload.domainId) {
    const domain = await loadProject(db, payload.domainId);
    if (!domain || !domain.enabled || !domain.is_domain) return unauthorized();
    data.domain = domain;
  } else if (payload.system) {
    data.system = 'all';
  }

  const scope = scopeOf(payload);
  if (scope) {
    let roles = await effectiveRoles(db, user.id, scope);
    if (payload.appCredId) {
      const appCred = await db
        .selectFrom('application_credential')
        .select(['id', 'name', 'unrestricted', 'expires_at'])
        .where('id', '=', payload.appCredId)
        .executeTakeFirst();
      if (!appCred || (appCred.expires_at && appCred.expires_at <= new Date()))
        return unauthorized();
      const granted = new Set(
        (
          await db
            .selectFrom('application_credential_role')
            .select('role_id')
            .where('application_credential_id', '=', appCred.id)
            .execute()
        ).map((r) => r.role_id),
      );
      // An application credential carries the roles it was given that the user still has.
      roles = roles.filter((r) => granted.has(r.id));
      data.appCred = { id: appCred.id, name: appCred.name, unrestricted: appCred.unrestricted };
    }
    if (roles.length === 0) return unauthorized();
    data.roles = roles;
  }
  return data;
}

/** The facts revocation events are matched against. */
export function revocationFacts(data: TokenData): { domainIds: string[]; roleIds: string[] } {
  const domainIds = [data.user.domain_id, data.domain?.id, data.project?.domain_id].filter(
    (d): d is string => !!d,
  );
  return { domainIds: [...new Set(domainIds)], roleIds: data.roles.map((r) => r.id) };
}
