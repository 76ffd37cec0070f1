import type { Kysely } from 'kysely';
import type { AssignmentType, IdentitySchema, RoleRow } from '../store/schema.js';

export type Scope = { projectId: string } | { domainId: string } | { system: 'all' };

/** The projects above a project, nearest first, ending with its domain. */
export async function ancestors(db: Kysely<IdentitySchema>, projectId: string): Promise<string[]> {
  const chain: string[] = [];
  let current: string | null = projectId;
  // Bounded: a hierarchy deeper than this is refused when it is built.
  for (let depth = 0; current && depth < 64; depth++) {
    const row: { parent_id: string | null } | undefined = await db
      .selectFrom('project')
      .select('parent_id')
      .where('id', '=', current)
      .executeTakeFirst();
    current = row?.parent_id ?? null;
    if (current) chain.push(current);
  }
  return chain;
}

export async function groupIdsOf(db: Kysely<IdentitySchema>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('group_membership')
    .select('group_id')
    .where('user_id', '=', userId)
    .execute();
  return rows.map((r) => r.group_id);
}

/**
 * The ids of the roles a user holds on a scope directly, through groups, and by
 * inheritance (OS-INHERIT: an inherited assignment on a domain or project applies to
 * every project below it, not to the target itself), before implied roles.
 */
export async function assignedRoleIds(
  db: Kysely<IdentitySchema>,
  userId: string,
  scope: Scope,
): Promise<string[]> {
  const groups = await groupIdsOf(db, userId);
  const actors = [userId, ...groups];
  let direct: { types: AssignmentType[]; target: string };
  let inheritedTargets: string[] = [];
  if ('projectId' in scope) {
    direct = { types: ['UserProject', 'GroupProject'], target: scope.projectId };
    inheritedTargets = await ancestors(db, scope.projectId);
  } else if ('domainId' in scope) {
    direct = { types: ['UserDomain', 'GroupDomain'], target: scope.domainId };
  } else {
    direct = { types: ['UserSystem', 'GroupSystem'], target: 'system' };
  }
  let query = db
    .selectFrom('assignment')
    .select('role_id')
    .distinct()
    .where('actor_id', 'in', actors)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('target_id', '=', direct.target),
          eb('type', 'in', direct.types),
          eb('inherited', '=', false),
        ]),
        ...(inheritedTargets.length > 0
          ? [eb.and([eb('target_id', 'in', inheritedTargets), eb('inherited', '=', true)])]
          : []),
      ]),
    );
  query = query.orderBy('role_id');
  return (await query.execute()).map((r) => r.role_id);
}

/** Role ids plus every role they imply, transitively (cycles are refused when created). */
export async function withImpliedRoles(
  db: Kysely<IdentitySchema>,
  roleIds: readonly string[],
): Promise<string[]> {
  const seen = new Set(roleIds);
  let frontier = [...roleIds];
  while (frontier.length > 0) {
    const rows = await db
      .selectFrom('implied_role')
      .select('implied_role_id')
      .where('prior_role_id', 'in', frontier)
      .execute();
    frontier = rows.map((r) => r.implied_role_id).filter((id) => !seen.has(id));
    for (const id of frontier) seen.add(id);
  }
  return [...seen];
}

/**
 * The roles a token for this user and scope carries: assigned, inherited and implied,
 * without domain-specific roles (they only ever stand for the global roles they imply).
 */
export async function effectiveRoles(
  db: Kysely<IdentitySchema>,
  userId: string,
  scope: Scope,
): Promise<RoleRow[]> {
  const ids = await withImpliedRoles(db, await assignedRoleIds(db, userId, scope));
  if (ids.length === 0) return [];
  return db
    .selectFrom('role')
    .selectAll()
    .where('id', 'in', ids)
    .where('domain_id', '=', '')
    .orderBy('name')
    .execute();
}
