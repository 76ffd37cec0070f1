import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, NotFound, hexId } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import { revoke, type Identity } from '../core/identity.js';
import { ancestors } from '../core/roles.js';
import type { AssignmentRow, AssignmentType, RoleRow } from '../store/schema.js';
import { authorize, collection, notFound, parseJson, queryBool, selfLink } from './http.js';

/*
 * Roles, implied roles, grants (project, domain, system, OS-INHERIT) and the role
 * assignment report, after keystone/api/roles.py, role_inferences.py, os_inherit.py,
 * system.py, projects.py/domains.py (grants), role_assignments.py and
 * keystone/assignment/core.py.
 */

type Params = Record<string, string>;
type Query = Record<string, unknown>;

/** Keystone's `[assignment] prohibited_implied_role` default. */
const PROHIBITED_IMPLIED = ['admin'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (field: string, message: string) =>
  new BadRequest(`Invalid input for field '${field}': ${message}`);

// ---------------------------------------------------------------------------------------
// Lookups

async function findRole(identity: Identity, id: string): Promise<RoleRow | undefined> {
  return identity.db.selectFrom('role').selectAll().where('id', '=', id).executeTakeFirst();
}

async function loadRole(identity: Identity, id: string): Promise<RoleRow> {
  const role = await findRole(identity, id);
  if (!role) throw notFound('role', id);
  return role;
}

async function findUser(identity: Identity, id: string) {
  return identity.db
    .selectFrom('identity_user')
    .select(['id', 'name', 'domain_id'])
    .where('id', '=', id)
    .executeTakeFirst();
}

async function findGroup(identity: Identity, id: string) {
  return identity.db
    .selectFrom('identity_group')
    .select(['id', 'name', 'domain_id'])
    .where('id', '=', id)
    .executeTakeFirst();
}

async function findProject(identity: Identity, id: string) {
  return identity.db
    .selectFrom('project')
    .select(['id', 'name', 'domain_id', 'parent_id'])
    .where('id', '=', id)
    .where('is_domain', '=', false)
    .executeTakeFirst();
}

async function findDomain(identity: Identity, id: string) {
  return identity.db
    .selectFrom('project')
    .select(['id', 'name'])
    .where('id', '=', id)
    .where('is_domain', '=', true)
    .executeTakeFirst();
}

async function groupMembers(identity: Identity, groupId: string): Promise<string[]> {
  const rows = await identity.db
    .selectFrom('group_membership')
    .select('user_id')
    .where('group_id', '=', groupId)
    .execute();
  return rows.map((r) => r.user_id);
}

/** The projects below a project (not itself), at any depth. */
async function subtreeOf(identity: Identity, projectId: string): Promise<string[]> {
  const out: string[] = [];
  let frontier = [projectId];
  for (let depth = 0; frontier.length > 0 && depth < 64; depth++) {
    const rows = await identity.db
      .selectFrom('project')
      .select('id')
      .where('parent_id', 'in', frontier)
      .where('is_domain', '=', false)
      .execute();
    frontier = rows.map((r) => r.id).filter((id) => !out.includes(id));
    out.push(...frontier);
  }
  return out;
}

async function projectsInDomain(identity: Identity, domainId: string): Promise<string[]> {
  const rows = await identity.db
    .selectFrom('project')
    .select('id')
    .where('domain_id', '=', domainId)
    .where('is_domain', '=', false)
    .execute();
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------
// Role bodies

function roleBody(request: FastifyRequest, row: RoleRow): Record<string, unknown> {
  return {
    ...parseJson(row.extra),
    id: row.id,
    name: row.name,
    domain_id: row.domain_id || null,
    description: row.description,
    options: parseJson(row.options),
    links: { self: selfLink(request, `roles/${row.id}`) },
  };
}

/** What policy rules see of a role: `domain_id` is None for a global role, as upstream. */
function roleTarget(row: RoleRow): Record<string, unknown> {
  return { id: row.id, name: row.name, domain_id: row.domain_id || null };
}

const ROLE_COLUMNS = new Set(['id', 'name', 'domain_id', 'description', 'options', 'links']);

interface RoleInput {
  name?: string;
  description?: string | null;
  domain_id?: string | null;
  options?: Record<string, unknown>;
  extra: Record<string, unknown>;
  keys: string[];
}

/** Validates `{"role": {...}}` as keystone/assignment/schema.py does. */
function parseRoleBody(body: unknown, create: boolean): RoleInput {
  if (!isRecord(body))
    throw new BadRequest("Invalid input for body: 'role' is a required property");
  const extraKeys = Object.keys(body).filter((k) => k !== 'role');
  if (extraKeys.length > 0)
    throw new BadRequest(
      `Invalid input for body: Additional properties are not allowed ('${extraKeys.join("', '")}' was unexpected)`,
    );
  const role = body['role'];
  if (role === undefined)
    throw new BadRequest("Invalid input for field 'role': 'role' is a required property");
  if (!isRecord(role)) throw invalid('role', 'is not of type object');
  const keys = Object.keys(role);
  if (!create && keys.length === 0) throw invalid('role', '{} does not have enough properties');
  const out: RoleInput = { extra: {}, keys };
  if ('name' in role) {
    const name = role['name'];
    if (typeof name !== 'string') throw invalid('role/name', 'is not of type string');
    if (name.length < 1 || name.length > 255 || !/\S/.test(name))
      throw invalid('role/name', `'${name}' is not a valid role name`);
    out.name = name;
  } else if (create) {
    throw invalid('role/name', "'name' is a required property");
  }
  if ('description' in role) {
    const d = role['description'];
    if (d !== null && typeof d !== 'string')
      throw invalid('role/description', 'is not of type string, null');
    out.description = d;
  }
  if ('domain_id' in role) {
    const d = role['domain_id'];
    if (d !== null && (typeof d !== 'string' || d.length < 1 || d.length > 64))
      throw invalid('role/domain_id', 'is not a valid domain id');
    out.domain_id = d;
  }
  if ('options' in role) {
    const o = role['options'];
    if (!isRecord(o)) throw invalid('role/options', 'is not of type object');
    for (const [k, v] of Object.entries(o)) {
      if (k !== 'immutable')
        throw invalid(
          'role/options',
          `Additional properties are not allowed ('${k}' was unexpected)`,
        );
      if (v !== null && typeof v !== 'boolean')
        throw invalid('role/options/immutable', 'is not of type boolean, null');
    }
    out.options = o;
  }
  for (const [k, v] of Object.entries(role)) if (!ROLE_COLUMNS.has(k)) out.extra[k] = v;
  return out;
}

function duplicateRole(name: string, domainId: string | null | undefined) {
  const where = domainId ? ` at domain ID ${domainId}` : '';
  return new Conflict(
    `Conflict occurred attempting to store role - Duplicate entry found with name ${name}${where}.`,
  );
}

async function nameTaken(
  identity: Identity,
  name: string,
  domainId: string,
  exceptId?: string,
): Promise<boolean> {
  let q = identity.db
    .selectFrom('role')
    .select('id')
    .where('name', '=', name)
    .where('domain_id', '=', domainId);
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

const isImmutable = (row: RoleRow): boolean => parseJson(row.options)['immutable'] === true;

// ---------------------------------------------------------------------------------------
// Implied roles

const roleLinkRef = (request: FastifyRequest, row: { id: string; name: string }) => ({
  id: row.id,
  links: { self: selfLink(request, `roles/${row.id}`) },
  name: row.name,
});

/** True when `from` reaches `to` by following implications. */
async function implies(identity: Identity, from: string, to: string): Promise<boolean> {
  const seen = new Set([from]);
  let frontier = [from];
  while (frontier.length > 0) {
    if (frontier.includes(to)) return true;
    const rows = await identity.db
      .selectFrom('implied_role')
      .select('implied_role_id')
      .where('prior_role_id', 'in', frontier)
      .execute();
    frontier = rows.map((r) => r.implied_role_id).filter((id) => !seen.has(id));
    for (const id of frontier) seen.add(id);
  }
  return false;
}

async function findImplication(identity: Identity, prior: string, implied: string) {
  return identity.db
    .selectFrom('implied_role')
    .selectAll()
    .where('prior_role_id', '=', prior)
    .where('implied_role_id', '=', implied)
    .executeTakeFirst();
}

// ---------------------------------------------------------------------------------------
// Grants

type ActorKind = 'user' | 'group';
type TargetKind = 'project' | 'domain';

interface GrantSpec {
  actor: ActorKind;
  target: TargetKind;
  /** OS-INHERIT: the grant applies to the projects below the target, not the target. */
  inherited: boolean;
}

interface ResolvedGrant {
  role?: RoleRow;
  policyTarget: Record<string, unknown>;
  /** The 404 to raise (Keystone's order: role, actor, target), if something is missing. */
  missing?: NotFoundError;
  targetDomainId?: string | null;
}

type NotFoundError = InstanceType<typeof NotFound>;

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const assignmentType = (actor: ActorKind, target: TargetKind | 'system'): AssignmentType =>
  `${cap(actor)}${cap(target)}` as AssignmentType;

function assignmentNotFound(roleId: string, actorId: string, targetId: string) {
  return new NotFound(
    `Could not find role assignment with role: ${roleId}, user or group: ${actorId}, project, domain, or system: ${targetId}.`,
  );
}

async function resolveGrant(
  identity: Identity,
  spec: { actor: ActorKind; target: TargetKind | 'system' },
  ids: { actorId: string; targetId?: string; roleId?: string },
  allowMissingActor: boolean,
): Promise<ResolvedGrant> {
  const out: ResolvedGrant = { policyTarget: {} };
  const miss = (e: NotFoundError) => {
    out.missing ??= e;
  };
  if (ids.roleId !== undefined) {
    const role = await findRole(identity, ids.roleId);
    if (role) {
      out.role = role;
      out.policyTarget['role'] = roleTarget(role);
    } else {
      out.policyTarget['role'] = {};
      miss(notFound('role', ids.roleId));
    }
  }
  const actor =
    spec.actor === 'user'
      ? await findUser(identity, ids.actorId)
      : await findGroup(identity, ids.actorId);
  if (actor) out.policyTarget[spec.actor] = actor;
  else if (!allowMissingActor) {
    out.policyTarget[spec.actor] = {};
    miss(notFound(spec.actor, ids.actorId));
  }
  if (spec.target === 'project' && ids.targetId !== undefined) {
    const project = await findProject(identity, ids.targetId);
    out.policyTarget['project'] = project ?? {};
    if (!project) miss(notFound('project', ids.targetId));
    out.targetDomainId = project?.domain_id ?? null;
  } else if (spec.target === 'domain' && ids.targetId !== undefined) {
    const domain = await findDomain(identity, ids.targetId);
    out.policyTarget['domain'] = domain ?? {};
    if (!domain) miss(notFound('domain', ids.targetId));
  }
  return out;
}

async function findAssignment(
  identity: Identity,
  type: AssignmentType,
  actorId: string,
  targetId: string,
  roleId: string,
  inherited: boolean,
) {
  return identity.db
    .selectFrom('assignment')
    .selectAll()
    .where('type', '=', type)
    .where('actor_id', '=', actorId)
    .where('target_id', '=', targetId)
    .where('role_id', '=', roleId)
    .where('inherited', '=', inherited)
    .executeTakeFirst();
}

async function grantedRoles(
  identity: Identity,
  type: AssignmentType,
  actorId: string,
  targetId: string,
  inherited: boolean,
): Promise<RoleRow[]> {
  const rows = await identity.db
    .selectFrom('assignment')
    .select('role_id')
    .where('type', '=', type)
    .where('actor_id', '=', actorId)
    .where('target_id', '=', targetId)
    .where('inherited', '=', inherited)
    .execute();
  if (rows.length === 0) return [];
  return identity.db
    .selectFrom('role')
    .selectAll()
    .where(
      'id',
      'in',
      rows.map((r) => r.role_id),
    )
    .orderBy('name')
    .execute();
}

// ---------------------------------------------------------------------------------------
// Role assignments (keystone/assignment/core.py list_role_assignments)

interface Ref {
  userId?: string;
  groupId?: string;
  projectId?: string;
  domainId?: string;
  system?: true;
  roleId: string;
  inherited?: true;
  indirect?: { groupId?: string; projectId?: string; domainId?: string; roleId?: string };
}

function toRef(row: AssignmentRow): Ref {
  const ref: Ref = { roleId: row.role_id };
  if (row.type.startsWith('User')) ref.userId = row.actor_id;
  else ref.groupId = row.actor_id;
  if (row.type.endsWith('Project')) ref.projectId = row.target_id;
  else if (row.type.endsWith('Domain')) ref.domainId = row.target_id;
  else ref.system = true;
  if (row.inherited) ref.inherited = true;
  return ref;
}

const clone = (ref: Ref): Ref => ({
  ...ref,
  ...(ref.indirect ? { indirect: { ...ref.indirect } } : {}),
});

interface RowFilter {
  roleId?: string | undefined;
  /** Actors: the user and/or these groups; none given means every actor. */
  userId?: string | undefined;
  groupIds?: readonly string[] | undefined;
  domainId?: string | undefined;
  projectIds?: readonly string[] | undefined;
  inherited?: boolean | undefined;
}

/** Project and domain assignments matching the filter (the driver's list_role_assignments). */
function filterRows(rows: readonly AssignmentRow[], f: RowFilter): Ref[] {
  const actors =
    f.userId !== undefined || f.groupIds !== undefined
      ? new Set([...(f.userId !== undefined ? [f.userId] : []), ...(f.groupIds ?? [])])
      : undefined;
  return rows
    .filter((r) => {
      if (r.type.endsWith('System')) return false;
      if (f.roleId !== undefined && r.role_id !== f.roleId) return false;
      if (actors && !actors.has(r.actor_id)) return false;
      if (f.userId !== undefined && f.groupIds === undefined && !r.type.startsWith('User'))
        return false;
      if (f.groupIds !== undefined && f.userId === undefined && !r.type.startsWith('Group'))
        return false;
      if (f.projectIds !== undefined) {
        if (!r.type.endsWith('Project') || !f.projectIds.includes(r.target_id)) return false;
      } else if (f.domainId !== undefined) {
        if (!r.type.endsWith('Domain') || r.target_id !== f.domainId) return false;
      }
      if (f.inherited !== undefined && r.inherited !== f.inherited) return false;
      return true;
    })
    .map(toRef);
}

interface AssignmentQuery {
  roleId?: string | undefined;
  userId?: string | undefined;
  groupId?: string | undefined;
  system: boolean;
  domainId?: string | undefined;
  projectId?: string | undefined;
  includeSubtree: boolean;
  inherited: boolean | undefined;
  effective: boolean;
}

async function listAssignments(identity: Identity, q: AssignmentQuery): Promise<Ref[]> {
  const db = identity.db;
  const rows = await db.selectFrom('assignment').selectAll().execute();
  const subtree =
    q.projectId !== undefined && q.includeSubtree
      ? await subtreeOf(identity, q.projectId)
      : undefined;
  const projectIds = q.projectId !== undefined ? [q.projectId, ...(subtree ?? [])] : undefined;

  if (!q.effective) {
    const out: Ref[] = q.system
      ? []
      : filterRows(rows, {
          roleId: q.roleId,
          userId: q.userId,
          groupIds: q.groupId !== undefined ? [q.groupId] : undefined,
          domainId: q.domainId,
          projectIds,
          inherited: q.inherited,
        });
    if (q.system || (q.projectId === undefined && q.domainId === undefined)) {
      for (const r of rows) {
        if (!r.type.endsWith('System')) continue;
        if (q.roleId !== undefined && r.role_id !== q.roleId) continue;
        if (q.userId !== undefined && (r.type !== 'UserSystem' || r.actor_id !== q.userId))
          continue;
        if (q.groupId !== undefined && (r.type !== 'GroupSystem' || r.actor_id !== q.groupId))
          continue;
        out.push(toRef(r));
      }
    }
    return out;
  }

  if (q.groupId !== undefined || (q.domainId !== undefined && q.inherited)) return [];
  const inherited = q.domainId !== undefined ? false : q.inherited;
  const memberships = new Map<string, string[]>();
  const members = async (groupId: string): Promise<string[]> => {
    let m = memberships.get(groupId);
    if (!m) memberships.set(groupId, (m = await groupMembers(identity, groupId)));
    return m;
  };

  let refs: Ref[];
  if (q.system) {
    // Effective system assignments: the user's own and their groups', groups expanded.
    refs = [];
    const groups = q.userId !== undefined ? await groupIdsOf(identity, q.userId) : undefined;
    for (const r of rows) {
      if (!r.type.endsWith('System')) continue;
      if (q.userId !== undefined) {
        const mine = r.type === 'UserSystem' && r.actor_id === q.userId;
        const viaGroup = r.type === 'GroupSystem' && (groups ?? []).includes(r.actor_id);
        if (!mine && !viaGroup) continue;
      }
      const ref = toRef(r);
      if (ref.groupId !== undefined) {
        const users = q.userId !== undefined ? [q.userId] : await members(ref.groupId);
        for (const u of users)
          refs.push({
            userId: u,
            system: true,
            roleId: ref.roleId,
            indirect: { groupId: r.actor_id },
          });
      } else refs.push(ref);
    }
  } else {
    const forActor = async (actor: { userId?: string; groupIds?: string[] }): Promise<Ref[]> => {
      const nonInherited =
        inherited !== true
          ? filterRows(rows, { ...actor, domainId: q.domainId, projectIds, inherited: false })
          : [];
      let inheritedRefs: Ref[] = [];
      if (inherited !== false) {
        if (q.projectId !== undefined) {
          const project = await findProject(identity, q.projectId);
          if (project?.domain_id)
            inheritedRefs.push(
              ...filterRows(rows, { ...actor, domainId: project.domain_id, inherited: true }),
            );
          const sources = [
            ...(await ancestors(db, q.projectId)),
            ...(subtree ? (projectIds ?? []) : []),
          ];
          if (sources.length > 0)
            inheritedRefs.push(
              ...filterRows(rows, { ...actor, projectIds: sources, inherited: true }),
            );
        } else {
          inheritedRefs = filterRows(rows, { ...actor, inherited: true });
        }
      }
      return [...nonInherited, ...inheritedRefs];
    };
    const direct = await forActor(q.userId !== undefined ? { userId: q.userId } : {});
    let viaGroups: Ref[] = [];
    if (q.userId !== undefined) {
      const groups = await groupIdsOf(identity, q.userId);
      if (groups.length > 0) viaGroups = await forActor({ groupIds: groups });
    }
    refs = [];
    for (const ref of [...direct, ...viaGroups]) {
      refs.push(...(await expand(identity, ref, q, subtree, members)));
    }
  }

  refs = await addImpliedRoles(identity, refs);
  const roles = await db.selectFrom('role').select(['id', 'domain_id']).execute();
  const global = new Set(roles.filter((r) => r.domain_id === '').map((r) => r.id));
  refs = refs.filter((r) => global.has(r.roleId));
  if (q.roleId !== undefined) refs = refs.filter((r) => r.roleId === q.roleId);
  return refs;
}

async function groupIdsOf(identity: Identity, userId: string): Promise<string[]> {
  const rows = await identity.db
    .selectFrom('group_membership')
    .select('group_id')
    .where('user_id', '=', userId)
    .execute();
  return rows.map((r) => r.group_id);
}

/** Group assignments become one per member; inherited ones one per project below. */
async function expand(
  identity: Identity,
  ref: Ref,
  q: AssignmentQuery,
  subtree: string[] | undefined,
  members: (groupId: string) => Promise<string[]>,
): Promise<Ref[]> {
  const forGroup = async (base: Ref): Promise<Ref[]> => {
    if (base.groupId === undefined) return [base];
    const users = q.userId !== undefined ? [q.userId] : await members(base.groupId);
    return users.map((u) => {
      const r = clone(base);
      delete r.groupId;
      r.userId = u;
      r.indirect = { ...r.indirect, groupId: base.groupId };
      return r;
    });
  };
  if (ref.inherited) {
    let projectIds: string[];
    if (q.projectId !== undefined) {
      projectIds = [q.projectId];
      if (subtree) {
        projectIds.push(...subtree);
        if (ref.projectId !== undefined && projectIds.includes(ref.projectId))
          projectIds = await subtreeOf(identity, ref.projectId);
      }
    } else if (ref.domainId !== undefined) {
      projectIds = await projectsInDomain(identity, ref.domainId);
    } else {
      projectIds = await subtreeOf(identity, ref.projectId ?? '');
    }
    const out: Ref[] = [];
    for (const base of await forGroup(ref)) {
      for (const p of projectIds) {
        const r = clone(base);
        r.indirect = {
          ...r.indirect,
          ...(ref.projectId !== undefined ? { projectId: ref.projectId } : {}),
          ...(ref.domainId !== undefined ? { domainId: ref.domainId } : {}),
        };
        delete r.domainId;
        delete r.inherited;
        r.projectId = p;
        out.push(r);
      }
    }
    return out;
  }
  return forGroup(ref);
}

async function addImpliedRoles(identity: Identity, refs: Ref[]): Promise<Ref[]> {
  const rules = await identity.db.selectFrom('implied_role').selectAll().execute();
  const byPrior = new Map<string, string[]>();
  for (const r of rules)
    byPrior.set(r.prior_role_id, [...(byPrior.get(r.prior_role_id) ?? []), r.implied_role_id]);
  const key = (r: Ref) =>
    JSON.stringify([r.userId, r.groupId, r.projectId, r.domainId, r.system, r.roleId, r.indirect]);
  const results = [...refs];
  const toCheck = [...refs];
  const checked = new Set<string>();
  while (toCheck.length > 0) {
    const next = toCheck.pop() as Ref;
    checked.add(key(next));
    for (const implied of byPrior.get(next.roleId) ?? []) {
      const copy = clone(next);
      copy.roleId = implied;
      copy.indirect = { ...copy.indirect, roleId: next.roleId };
      if (checked.has(key(copy))) continue;
      results.push(copy);
      toCheck.push(copy);
    }
  }
  return results;
}

/** Keystone's `_format_entity`, names included when asked for. */
async function formatAssignments(
  identity: Identity,
  request: FastifyRequest,
  refs: readonly Ref[],
  includeNames: boolean,
): Promise<Record<string, unknown>[]> {
  const cache = new Map<string, unknown>();
  const cached = async <T>(k: string, load: () => Promise<T>): Promise<T> => {
    if (!cache.has(k)) cache.set(k, await load());
    return cache.get(k) as T;
  };
  const domainName = (id: string) =>
    cached(`d:${id}`, async () => (await findDomain(identity, id))?.name ?? '');
  const named = async (kind: 'user' | 'group', id: string): Promise<Record<string, unknown>> => {
    const row = await cached(`${kind}:${id}`, () =>
      kind === 'user' ? findUser(identity, id) : findGroup(identity, id),
    );
    if (!row) return { id, name: '', domain: { id: '', name: '' } };
    return {
      id,
      name: row.name,
      domain: { id: row.domain_id, name: await domainName(row.domain_id) },
    };
  };

  const out: Record<string, unknown>[] = [];
  for (const ref of refs) {
    const entity: Record<string, unknown> = {};
    const links: Record<string, string> = {};
    let link = '';
    let inheritedAssignment = ref.inherited === true;
    let scope: Record<string, unknown> = {};
    if (ref.projectId !== undefined) {
      if (includeNames) {
        const p = await cached(`p:${ref.projectId}`, () =>
          findProject(identity, ref.projectId ?? ''),
        );
        const domainId = p?.domain_id ?? '';
        scope = {
          project: {
            id: ref.projectId,
            name: p?.name ?? '',
            domain: { id: domainId, name: await domainName(domainId) },
          },
        };
      } else scope = { project: { id: ref.projectId } };
      if (ref.indirect?.domainId !== undefined) {
        inheritedAssignment = true;
        link = `/domains/${ref.indirect.domainId}`;
      } else if (ref.indirect?.projectId !== undefined) {
        inheritedAssignment = true;
        link = `/projects/${ref.indirect.projectId}`;
      } else link = `/projects/${ref.projectId}`;
    } else if (ref.domainId !== undefined) {
      scope = includeNames
        ? { domain: { id: ref.domainId, name: await domainName(ref.domainId) } }
        : { domain: { id: ref.domainId } };
      link = `/domains/${ref.domainId}`;
    } else if (ref.system) {
      scope = { system: { all: true } };
      link = '/system';
    }
    if (ref.userId !== undefined) {
      entity['user'] = includeNames ? await named('user', ref.userId) : { id: ref.userId };
      if (ref.indirect?.groupId !== undefined) {
        links['membership'] = selfLink(
          request,
          `groups/${ref.indirect.groupId}/users/${ref.userId}`,
        );
        link += `/groups/${ref.indirect.groupId}`;
      } else link += `/users/${ref.userId}`;
    } else if (ref.groupId !== undefined) {
      entity['group'] = includeNames ? await named('group', ref.groupId) : { id: ref.groupId };
      link += `/groups/${ref.groupId}`;
    }
    if (includeNames) {
      const role = await cached(`r:${ref.roleId}`, () => findRole(identity, ref.roleId));
      const body: Record<string, unknown> = { id: ref.roleId, name: role?.name ?? '' };
      if (role?.domain_id)
        body['domain'] = { id: role.domain_id, name: await domainName(role.domain_id) };
      entity['role'] = body;
    } else entity['role'] = { id: ref.roleId };
    const prior = ref.indirect?.roleId;
    link += `/roles/${prior ?? ref.roleId}`;
    if (inheritedAssignment) {
      scope['OS-INHERIT:inherited_to'] = 'projects';
      link = `/OS-INHERIT${link}/inherited_to_projects`;
    }
    entity['scope'] = scope;
    links['assignment'] = selfLink(request, link);
    if (prior !== undefined)
      links['prior_role'] = selfLink(request, `roles/${prior}/implies/${ref.roleId}`);
    entity['links'] = links;
    out.push(entity);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Routes

/** Adds the routes of roles, implied roles, grants and role assignments. */
export function registerRoleRoutes(app: ApiServer, identity: Identity): void {
  const db = identity.db;

  // --- Roles -----------------------------------------------------------------------

  app.post('/v3/roles', async (request, reply) => {
    const input = parseRoleBody(request.body, true);
    if (input.domain_id) {
      authorize(identity, request, 'identity:create_domain_role', {
        role: { name: input.name, domain_id: input.domain_id },
      });
      if (!(await findDomain(identity, input.domain_id))) throw notFound('domain', input.domain_id);
    } else {
      authorize(identity, request, 'identity:create_role');
    }
    const name = input.name ?? '';
    const domainId = input.domain_id ?? '';
    if (await nameTaken(identity, name, domainId)) throw duplicateRole(name, input.domain_id);
    const options = Object.fromEntries(
      Object.entries(input.options ?? {}).filter(([, v]) => v !== null),
    );
    const row: RoleRow = {
      id: hexId(),
      name,
      domain_id: domainId,
      description: input.description ?? null,
      options: JSON.stringify(options),
      extra: JSON.stringify(input.extra),
    };
    await db.insertInto('role').values(row).execute();
    return reply.code(201).send({ role: roleBody(request, row) });
  });

  app.get('/v3/roles', async (request) => {
    const query = request.query as Query;
    const domainFilter = typeof query['domain_id'] === 'string' ? query['domain_id'] : '';
    if (domainFilter) {
      authorize(identity, request, 'identity:list_domain_roles', { domain_id: domainFilter });
    } else {
      const ctxDomain = request.context.domain_id;
      authorize(
        identity,
        request,
        'identity:list_roles',
        ctxDomain ? { scope_domain_id: ctxDomain } : {},
      );
    }
    let q = db.selectFrom('role').selectAll().where('domain_id', '=', domainFilter);
    if (typeof query['name'] === 'string') q = q.where('name', '=', query['name']);
    const rows = await q.orderBy('name').execute();
    return collection(
      request,
      'roles',
      rows.map((r) => roleBody(request, r)),
    );
  });

  /** Keystone enforces before raising a 404, so a role's existence does not leak. */
  const authorizeRole = async (
    request: FastifyRequest,
    roleId: string,
    action: 'get' | 'update' | 'delete',
  ): Promise<RoleRow> => {
    const role = await findRole(identity, roleId);
    if (!role || !role.domain_id) {
      authorize(
        identity,
        request,
        `identity:${action}_role`,
        role ? { role: roleTarget(role) } : {},
      );
      if (!role) throw notFound('role', roleId);
    } else {
      authorize(identity, request, `identity:${action}_domain_role`, { role: roleTarget(role) });
    }
    return role;
  };

  app.get('/v3/roles/:role_id', async (request) => {
    const { role_id } = request.params as Params;
    const role = await authorizeRole(request, role_id ?? '', 'get');
    return { role: roleBody(request, role) };
  });

  app.patch('/v3/roles/:role_id', async (request) => {
    const roleId = (request.params as Params)['role_id'] ?? '';
    const role = await authorizeRole(request, roleId, 'update');
    const input = parseRoleBody(request.body, false);
    const body = (request.body as { role: Record<string, unknown> }).role;
    if ('id' in body && body['id'] !== roleId) throw new BadRequest('Cannot change ID');
    if (isImmutable(role)) {
      const immutable = input.options?.['immutable'];
      if (
        input.keys.length > 1 ||
        immutable === undefined ||
        (immutable !== false && immutable !== null)
      )
        throw new Forbidden(
          `Unable to update immutable role resource: \`${roleId}. Set resource option "immutable" to false first.`,
        );
    }
    if ('domain_id' in input && (input.domain_id ?? '') !== role.domain_id)
      throw new BadRequest('Update of `domain_id` is not allowed.');
    const name = input.name ?? role.name;
    if (input.name !== undefined && (await nameTaken(identity, name, role.domain_id, roleId)))
      throw duplicateRole(name, 'domain_id' in input ? input.domain_id : undefined);
    const options = parseJson(role.options);
    for (const [k, v] of Object.entries(input.options ?? {})) {
      if (v === null) delete options[k];
      else options[k] = v;
    }
    const updated: RoleRow = {
      ...role,
      name,
      description: input.description !== undefined ? input.description : role.description,
      options: JSON.stringify(options),
      extra: JSON.stringify({ ...parseJson(role.extra), ...input.extra }),
    };
    await db
      .updateTable('role')
      .set({
        name: updated.name,
        description: updated.description,
        options: updated.options,
        extra: updated.extra,
      })
      .where('id', '=', roleId)
      .execute();
    return { role: roleBody(request, updated) };
  });

  app.delete('/v3/roles/:role_id', async (request, reply) => {
    const roleId = (request.params as Params)['role_id'] ?? '';
    const role = await authorizeRole(request, roleId, 'delete');
    if (isImmutable(role))
      throw new Forbidden(
        `Unable to delete immutable role resource: \`${roleId}. Set resource option "immutable" to false first.`,
      );
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('assignment').where('role_id', '=', roleId).execute();
      await trx
        .deleteFrom('implied_role')
        .where((eb) =>
          eb.or([eb('prior_role_id', '=', roleId), eb('implied_role_id', '=', roleId)]),
        )
        .execute();
      await trx.deleteFrom('role').where('id', '=', roleId).execute();
    });
    await revoke(identity, { roleId });
    return reply.code(204).send();
  });

  // --- Implied roles ---------------------------------------------------------------

  const impliedTarget = async (prior: string, implied?: string) => {
    const priorRole = await loadRole(identity, prior);
    const impliedRole = implied !== undefined ? await loadRole(identity, implied) : undefined;
    return {
      priorRole,
      impliedRole,
      target: {
        prior_role: roleTarget(priorRole),
        ...(impliedRole ? { implied_role: roleTarget(impliedRole) } : {}),
      },
    };
  };

  const inferenceBody = (request: FastifyRequest, prior: RoleRow, implied: RoleRow) => ({
    role_inference: {
      prior_role: roleLinkRef(request, prior),
      implies: roleLinkRef(request, implied),
    },
    links: { self: selfLink(request, `roles/${prior.id}/implies/${implied.id}`) },
  });

  const showImplication = async (request: FastifyRequest, action: string) => {
    const p = request.params as Params;
    const prior = p['prior_role_id'] ?? '';
    const implied = p['implied_role_id'] ?? '';
    const t = await impliedTarget(prior, implied);
    authorize(identity, request, action, t.target);
    if (!(await findImplication(identity, prior, implied)))
      throw new NotFound(`${prior} does not imply ${implied}.`);
    return t;
  };

  app.get(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    { exposeHeadRoute: false },
    async (request) => {
      const t = await showImplication(request, 'identity:get_implied_role');
      return inferenceBody(request, t.priorRole, t.impliedRole as RoleRow);
    },
  );

  app.head('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request, reply) => {
    const p = request.params as Params;
    const t = await impliedTarget(p['prior_role_id'] ?? '', p['implied_role_id'] ?? '');
    authorize(identity, request, 'identity:check_implied_role', t.target);
    await showImplication(request, 'identity:get_implied_role');
    return reply.code(204).send();
  });

  app.put('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request, reply) => {
    const p = request.params as Params;
    const prior = p['prior_role_id'] ?? '';
    const implied = p['implied_role_id'] ?? '';
    const t = await impliedTarget(prior, implied);
    authorize(identity, request, 'identity:create_implied_role', t.target);
    const impliedRole = t.impliedRole as RoleRow;
    if (PROHIBITED_IMPLIED.includes(impliedRole.name))
      throw new Forbidden(`${implied} cannot be an implied roles.`);
    if (!t.priorRole.domain_id && impliedRole.domain_id)
      throw new Forbidden('Global role cannot imply a domain-specific role');
    if (await findImplication(identity, prior, implied))
      throw new Conflict('Conflict occurred attempting to store implied_role - Duplicate entry.');
    // Keystone tolerates cycles (and expands around them); we refuse them outright.
    if (prior === implied || (await implies(identity, implied, prior)))
      throw new BadRequest(
        `Role ${prior} cannot imply role ${implied}: ${implied} already implies ${prior}, which would make a cycle of role inferences.`,
      );
    await db
      .insertInto('implied_role')
      .values({ prior_role_id: prior, implied_role_id: implied })
      .execute();
    identity.tokens.invalidate();
    return reply.code(201).send(inferenceBody(request, t.priorRole, impliedRole));
  });

  app.delete('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request, reply) => {
    const p = request.params as Params;
    const prior = p['prior_role_id'] ?? '';
    const implied = p['implied_role_id'] ?? '';
    const t = await impliedTarget(prior, implied);
    authorize(identity, request, 'identity:delete_implied_role', t.target);
    const result = await db
      .deleteFrom('implied_role')
      .where('prior_role_id', '=', prior)
      .where('implied_role_id', '=', implied)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0)
      throw new NotFound(`${prior} does not imply ${implied}.`);
    identity.tokens.invalidate();
    return reply.code(204).send();
  });

  app.get('/v3/roles/:prior_role_id/implies', async (request) => {
    const prior = (request.params as Params)['prior_role_id'] ?? '';
    const t = await impliedTarget(prior);
    authorize(identity, request, 'identity:list_implied_roles', t.target);
    const rows = await db
      .selectFrom('implied_role')
      .innerJoin('role', 'role.id', 'implied_role.implied_role_id')
      .select(['role.id', 'role.name'])
      .where('implied_role.prior_role_id', '=', prior)
      .orderBy('role.name')
      .execute();
    return {
      role_inference: {
        prior_role: roleLinkRef(request, t.priorRole),
        implies: rows.map((r) => roleLinkRef(request, r)),
      },
      links: { self: selfLink(request, `roles/${prior}/implies`) },
    };
  });

  app.get('/v3/role_inferences', async (request) => {
    authorize(identity, request, 'identity:list_role_inference_rules');
    const roles = new Map(
      (await db.selectFrom('role').select(['id', 'name']).execute()).map((r) => [r.id, r]),
    );
    const rules = await db.selectFrom('implied_role').selectAll().execute();
    const byPrior = new Map<string, Record<string, unknown>[]>();
    for (const rule of rules) {
      const implied = roles.get(rule.implied_role_id);
      if (!implied || !roles.has(rule.prior_role_id)) continue;
      const list = byPrior.get(rule.prior_role_id) ?? [];
      list.push(roleLinkRef(request, implied));
      byPrior.set(rule.prior_role_id, list);
    }
    return {
      role_inferences: [...byPrior].map(([priorId, implies]) => ({
        prior_role: roleLinkRef(request, roles.get(priorId) as { id: string; name: string }),
        implies,
      })),
    };
  });

  // --- Grants on projects and domains ----------------------------------------------

  /** Tokens stop carrying the role at once: revocation events, then recomputation. */
  const revokeGrant = async (
    spec: GrantSpec,
    actorId: string,
    targetId: string,
    roleId: string,
  ): Promise<void> => {
    const users = spec.actor === 'user' ? [actorId] : await groupMembers(identity, actorId);
    const scope =
      spec.target === 'domain'
        ? { domainId: targetId }
        : spec.inherited
          ? {} // inherited to the projects below: their tokens, not the target's
          : { projectId: targetId };
    for (const userId of users) await revoke(identity, { userId, roleId, ...scope });
    identity.tokens.invalidate();
  };

  const specs: GrantSpec[] = [];
  for (const target of ['project', 'domain'] as const)
    for (const actor of ['user', 'group'] as const)
      for (const inherited of [false, true]) specs.push({ actor, target, inherited });

  for (const spec of specs) {
    const base = `${spec.inherited ? '/v3/OS-INHERIT' : '/v3'}/${spec.target}s/:${spec.target}_id/${spec.actor}s/:${spec.actor}_id/roles`;
    const one = spec.inherited ? `${base}/:role_id/inherited_to_projects` : `${base}/:role_id`;
    const list = spec.inherited ? `${base}/inherited_to_projects` : base;
    const type = assignmentType(spec.actor, spec.target);

    const ids = (request: FastifyRequest) => {
      const p = request.params as Params;
      return {
        actorId: p[`${spec.actor}_id`] ?? '',
        targetId: p[`${spec.target}_id`] ?? '',
        roleId: p['role_id'],
      };
    };
    /** Keystone 404s before enforcing on the plain routes, after it on OS-INHERIT ones. */
    const resolve = async (request: FastifyRequest, action: string, allowMissingActor = false) => {
      const i = ids(request);
      const g = await resolveGrant(identity, spec, i, allowMissingActor);
      if (!spec.inherited && g.missing) throw g.missing;
      authorize(identity, request, action, g.policyTarget);
      if (g.missing) throw g.missing;
      return { ...i, ...g, roleId: i.roleId ?? '' };
    };

    app.put(one, async (request, reply) => {
      const g = await resolve(request, 'identity:create_grant');
      const role = g.role as RoleRow;
      if (spec.target === 'project' && role.domain_id && g.targetDomainId !== role.domain_id)
        throw new Forbidden(
          `Project ${g.targetId} must be in the same domain as the role ${g.roleId} being assigned.`,
        );
      if (!(await findAssignment(identity, type, g.actorId, g.targetId, g.roleId, spec.inherited)))
        await db
          .insertInto('assignment')
          .values({
            type,
            actor_id: g.actorId,
            target_id: g.targetId,
            role_id: g.roleId,
            inherited: spec.inherited,
          })
          .execute();
      identity.tokens.invalidate();
      return reply.code(204).send();
    });

    // GET and HEAD: both check, both 204.
    app.get(one, async (request, reply) => {
      const g = await resolve(request, 'identity:check_grant');
      if (!(await findAssignment(identity, type, g.actorId, g.targetId, g.roleId, spec.inherited)))
        throw assignmentNotFound(g.roleId, g.actorId, g.targetId);
      return reply.code(204).send();
    });

    app.delete(one, async (request, reply) => {
      const g = await resolve(request, 'identity:revoke_grant', true);
      const result = await db
        .deleteFrom('assignment')
        .where('type', '=', type)
        .where('actor_id', '=', g.actorId)
        .where('target_id', '=', g.targetId)
        .where('role_id', '=', g.roleId)
        .where('inherited', '=', spec.inherited)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0)
        throw assignmentNotFound(g.roleId, g.actorId, g.targetId);
      await revokeGrant(spec, g.actorId, g.targetId, g.roleId);
      return reply.code(204).send();
    });

    app.get(list, async (request) => {
      const g = await resolve(request, 'identity:list_grants');
      const roles = await grantedRoles(identity, type, g.actorId, g.targetId, spec.inherited);
      return collection(
        request,
        'roles',
        roles.map((r) => roleBody(request, r)),
      );
    });
  }

  // --- System grants ---------------------------------------------------------------

  for (const actor of ['user', 'group'] as const) {
    const list = `/v3/system/${actor}s/:${actor}_id/roles`;
    const one = `${list}/:role_id`;
    const type = assignmentType(actor, 'system');
    const resolve = async (request: FastifyRequest, action: string, allowMissingActor = false) => {
      const p = request.params as Params;
      const actorId = p[`${actor}_id`] ?? '';
      const roleId = p['role_id'];
      const g = await resolveGrant(
        identity,
        { actor, target: 'system' },
        { actorId, roleId },
        allowMissingActor,
      );
      if (g.missing) throw g.missing;
      authorize(identity, request, action, g.policyTarget);
      return { actorId, roleId: roleId ?? '', role: g.role };
    };

    app.get(list, async (request) => {
      const g = await resolve(request, `identity:list_system_grants_for_${actor}`);
      const roles = await grantedRoles(identity, type, g.actorId, 'system', false);
      return collection(
        request,
        'roles',
        roles.map((r) => roleBody(request, r)),
      );
    });

    app.get(one, async (request, reply) => {
      const g = await resolve(request, `identity:check_system_grant_for_${actor}`);
      if (!(await findAssignment(identity, type, g.actorId, 'system', g.roleId, false)))
        throw assignmentNotFound(g.roleId, g.actorId, 'system');
      return reply.code(204).send();
    });

    app.put(one, async (request, reply) => {
      const g = await resolve(request, `identity:create_system_grant_for_${actor}`);
      if (g.role?.domain_id)
        throw new BadRequest(
          `Role ${g.roleId} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`,
        );
      if (!(await findAssignment(identity, type, g.actorId, 'system', g.roleId, false)))
        await db
          .insertInto('assignment')
          .values({
            type,
            actor_id: g.actorId,
            target_id: 'system',
            role_id: g.roleId,
            inherited: false,
          })
          .execute();
      identity.tokens.invalidate();
      return reply.code(204).send();
    });

    app.delete(one, async (request, reply) => {
      const g = await resolve(request, `identity:revoke_system_grant_for_${actor}`, true);
      const result = await db
        .deleteFrom('assignment')
        .where('type', '=', type)
        .where('actor_id', '=', g.actorId)
        .where('target_id', '=', 'system')
        .where('role_id', '=', g.roleId)
        .where('inherited', '=', false)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0)
        throw assignmentNotFound(g.roleId, g.actorId, 'system');
      // System tokens recompute their roles on every validation; a revocation event by
      // user and role would also end the user's project tokens that still hold the role.
      identity.tokens.invalidate();
      return reply.code(204).send();
    });
  }

  // --- Role assignments ------------------------------------------------------------

  app.get('/v3/role_assignments', async (request) => {
    const query = request.query as Query;
    const str = (k: string): string | undefined => {
      const v = query[k];
      const s = Array.isArray(v) ? v[0] : v;
      return s === undefined || s === '' ? undefined : String(s);
    };
    const flag = (k: string) => queryBool(query[k], k) ?? false;
    const includeSubtree = flag('include_subtree');
    const projectId = str('scope.project.id');
    const filters: Record<string, unknown> = {};
    for (const k of [
      'group.id',
      'role.id',
      'scope.domain.id',
      'scope.project.id',
      'scope.OS-INHERIT:inherited_to',
      'user.id',
      'scope.system',
    ])
      if (str(k) !== undefined) filters[k] = str(k);

    const ctxDomain = request.context.domain_id;
    if (includeSubtree) {
      const target: Record<string, unknown> = { ...filters };
      if (projectId) {
        const project = await findProject(identity, projectId);
        if (!project) throw notFound('project', projectId);
        target['project'] = project;
        target['domain_id'] = project.domain_id;
      }
      authorize(identity, request, 'identity:list_role_assignments_for_tree', target);
      if (!projectId)
        throw new BadRequest(
          'scope.project.id must be specified if include_subtree is also specified',
        );
    } else {
      authorize(identity, request, 'identity:list_role_assignments', {
        ...filters,
        ...(ctxDomain ? { domain_id: ctxDomain } : {}),
      });
    }

    const domainId = str('scope.domain.id');
    const systemParam = str('scope.system');
    const userId = str('user.id');
    const groupId = str('group.id');
    const effective = flag('effective');
    const inheritedTo = query['scope.OS-INHERIT:inherited_to'];
    const inherited = inheritedTo === undefined ? undefined : String(inheritedTo) === 'projects';
    if (domainId && projectId) throw new BadRequest('Specify a domain or project, not both');
    if (domainId && systemParam) throw new BadRequest('Specify system or domain, not both');
    if (projectId && systemParam) throw new BadRequest('Specify system or project, not both');
    if (userId && groupId) throw new BadRequest('Specify a user or group, not both');
    if (effective && groupId)
      throw new BadRequest(
        'Combining effective and group filter will always result in an empty list.',
      );
    if (effective && inherited && domainId)
      throw new BadRequest(
        'Combining effective, domain and inherited filters will always result in an empty list.',
      );

    let refs = await listAssignments(identity, {
      roleId: str('role.id'),
      userId,
      groupId,
      system: systemParam === 'all',
      domainId,
      projectId,
      includeSubtree,
      inherited,
      effective,
    });

    if (ctxDomain) {
      // A domain-scoped caller sees the assignments on its domain and its projects only.
      const inDomain = new Set(await projectsInDomain(identity, ctxDomain));
      refs = refs.filter(
        (r) => r.domainId === ctxDomain || (r.projectId !== undefined && inDomain.has(r.projectId)),
      );
    }
    return collection(
      request,
      'role_assignments',
      await formatAssignments(identity, request, refs, flag('include_names')),
    );
  });
}
