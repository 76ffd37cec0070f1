import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, hexId } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { DEFAULT_DOMAIN_ID } from '../core/bootstrap.js';
import { revoke, type Identity } from '../core/identity.js';
import { assignedRoleIds } from '../core/roles.js';
import type { IdentitySchema, ProjectRow } from '../store/schema.js';
import { authorize, collection, notFound, queryBool, selfLink } from './http.js';

type Db = Kysely<IdentitySchema>;
type Project = Selectable<ProjectRow>;
type Body = Record<string, unknown>;

/**
 * Keystone's `[DEFAULT] max_project_tree_depth` for this cloud: how many levels of
 * projects may sit below a domain (the domain itself is not counted).
 */
export const MAX_PROJECT_TREE_DEPTH = 8;
const MAX_TAGS = 80;
const NAME_PATTERN = /\S/;
const ID_PATTERN = /^[a-zA-Z0-9-]+$/;
const TAG_PATTERN = /^[^,/]*$/;
/** Attributes with a column (or computed): never kept among the extra attributes. */
const PROJECT_FIELDS = new Set([
  'id',
  'name',
  'domain_id',
  'parent_id',
  'is_domain',
  'enabled',
  'description',
  'tags',
  'options',
  'links',
  'explicit_domain_id',
]);

// ---------------------------------------------------------------------------------------
// Validation, with the messages of Keystone's JSON-schema validator.

/** Python's repr of a JSON value, as jsonschema prints it in its messages. */
function repr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(repr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Body).map(([k, v]) => `${repr(k)}: ${repr(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}

function invalid(field: string, message: string): never {
  throw new BadRequest(`Invalid input for field '${field}': ${message}`);
}

function checkString(
  field: string,
  value: unknown,
  rules: { min?: number; max?: number; pattern?: RegExp; nullable?: boolean },
): string | null {
  if (value === null && rules.nullable) return null;
  if (typeof value !== 'string') {
    invalid(field, `${repr(value)} is not of type 'string'${rules.nullable ? ", 'null'" : ''}`);
  }
  if (rules.min !== undefined && value.length < rules.min)
    invalid(field, `${repr(value)} is too short`);
  if (rules.max !== undefined && value.length > rules.max)
    invalid(field, `${repr(value)} is too long`);
  if (rules.pattern && !rules.pattern.test(value)) {
    invalid(field, `${repr(value)} does not match '${rules.pattern.source}'`);
  }
  return value;
}

function checkName(value: unknown): string {
  return checkString('name', value, { min: 1, max: 64, pattern: NAME_PATTERN }) as string;
}

function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(field, `${repr(value)} is not of type 'boolean'`);
  return value;
}

function checkTag(field: string, value: unknown): string {
  return checkString(field, value, { min: 1, max: 255, pattern: TAG_PATTERN }) as string;
}

function checkTags(value: unknown): string[] {
  if (!Array.isArray(value)) invalid('tags', `${repr(value)} is not of type 'array'`);
  const tags = value.map((t) => checkTag('tags', t));
  if (tags.length > MAX_TAGS) invalid('tags', `${repr(tags)} is too long`);
  if (new Set(tags).size !== tags.length) invalid('tags', `${repr(tags)} has non-unique elements`);
  return tags;
}

/** Resource options: only `immutable` (a boolean, or null to unset it). */
function checkOptions(value: unknown): Body {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    invalid('options', `${repr(value)} is not of type 'object'`);
  }
  const options = value as Body;
  const unknown = Object.keys(options).filter((k) => k !== 'immutable');
  if (unknown.length > 0) {
    invalid(
      'options',
      `Additional properties are not allowed (${unknown.map(repr).join(', ')} ${
        unknown.length === 1 ? 'was' : 'were'
      } unexpected)`,
    );
  }
  if ('immutable' in options && options['immutable'] !== null) {
    checkBoolean('options/immutable', options['immutable']);
  }
  return options;
}

/** The `{"<key>": {...}}` body of a create or update. */
function entity(request: FastifyRequest, key: string): Body {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest(`Invalid input for field '${key}': '${key}' is a required property`);
  }
  const value = (body as Body)[key];
  if (value === undefined) {
    throw new BadRequest(`Invalid input for field '${key}': '${key}' is a required property`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    invalid(key, `${repr(value)} is not of type 'object'`);
  }
  return value as Body;
}

// ---------------------------------------------------------------------------------------
// Rows and bodies.

function parseExtra(value: unknown): Body {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Body;
  if (typeof value !== 'string' || value === '') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Body) : {};
  } catch {
    return {};
  }
}

function optionsOf(row: Project): Body {
  const options = parseExtra(row.extra)['options'];
  return options && typeof options === 'object' && !Array.isArray(options)
    ? { ...(options as Body) }
    : {};
}

function isImmutable(row: Project): boolean {
  return optionsOf(row)['immutable'] === true;
}

/** New options: `null` removes an option, as Keystone's resource options do. */
function mergeOptions(current: Body, update: Body): Body {
  const merged = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

function extrasOf(body: Body): Body {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !PROJECT_FIELDS.has(k)));
}

function projectBody(request: FastifyRequest, row: Project, tags: string[]): Body {
  const { options: _options, ...extra } = parseExtra(row.extra);
  return {
    ...extra,
    id: row.id,
    name: row.name,
    domain_id: row.domain_id,
    description: row.description,
    enabled: row.enabled,
    parent_id: row.parent_id,
    is_domain: row.is_domain,
    tags,
    options: optionsOf(row),
    links: { self: selfLink(request, `projects/${row.id}`) },
  };
}

function domainBody(request: FastifyRequest, row: Project, tags: string[]): Body {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    tags,
    options: optionsOf(row),
    links: { self: selfLink(request, `domains/${row.id}`) },
  };
}

async function loadProject(db: Db, id: string): Promise<Project | undefined> {
  return db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
}

async function loadDomain(db: Db, id: string): Promise<Project | undefined> {
  const row = await loadProject(db, id);
  return row?.is_domain ? row : undefined;
}

async function tagsOf(db: Db, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('project_tag')
    .select('name')
    .where('project_id', '=', projectId)
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

async function tagsByProject(db: Db, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await db
      .selectFrom('project_tag')
      .select(['project_id', 'name'])
      .where('project_id', 'in', chunk)
      .orderBy('name')
      .execute();
    for (const r of rows) {
      const list = out.get(r.project_id);
      if (list) list.push(r.name);
      else out.set(r.project_id, [r.name]);
    }
  }
  return out;
}

async function setTags(db: Db, projectId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  if (tags.length > 0) {
    await db
      .insertInto('project_tag')
      .values(tags.map((name) => ({ project_id: projectId, name })))
      .execute();
  }
}

/** The projects above one, nearest first, ending with its domain (Keystone's parents). */
async function parentsOf(db: Db, row: Project): Promise<Project[]> {
  const parents: Project[] = [];
  const seen = new Set([row.id]);
  let next = row.parent_id;
  while (next && !seen.has(next)) {
    seen.add(next);
    const parent = await loadProject(db, next);
    if (!parent) break;
    parents.push(parent);
    next = parent.parent_id;
  }
  return parents;
}

/** Every project below one, level by level. */
async function subtreeOf(db: Db, id: string): Promise<Project[]> {
  const out: Project[] = [];
  const seen = new Set([id]);
  let frontier = [id];
  while (frontier.length > 0) {
    const children = await db
      .selectFrom('project')
      .selectAll()
      .where('parent_id', 'in', frontier)
      .orderBy('name')
      .execute();
    const fresh = children.filter((c) => !seen.has(c.id));
    for (const c of fresh) seen.add(c.id);
    out.push(...fresh);
    frontier = fresh.map((c) => c.id);
  }
  return out;
}

async function hasRoleOn(db: Db, userId: string, projectId: string): Promise<boolean> {
  return (await assignedRoleIds(db, userId, { projectId })).length > 0;
}

function conflictMessage(name: string, id: string, isDomain: boolean): string {
  const details = isDomain
    ? `it is not permitted to have two projects acting as domains with the same name: ${name}`
    : 'it is not permitted to have two projects with either the same name or same id in the ' +
      `same domain: name is ${name}, project id ${id}`;
  return `Conflict occurred attempting to store project - ${details}.`;
}

async function assertNameFree(
  db: Db,
  name: string,
  scope: string,
  id: string,
  isDomain: boolean,
): Promise<void> {
  const clash = await db
    .selectFrom('project')
    .select('id')
    .where('name_scope', '=', scope)
    .where('name', '=', name)
    .where('id', '!=', id)
    .executeTakeFirst();
  if (clash) throw new Conflict(conflictMessage(name, id, isDomain));
}

function isUniqueViolation(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${(err as { code?: unknown }).code}` : '';
  return /unique|duplicate|23505/i.test(text);
}

function immutableUpdate(kind: 'project' | 'domain', id: string): InstanceType<typeof Forbidden> {
  return new Forbidden(
    `Unable to update immutable ${kind} resource: \`${id}. Set resource option "immutable" to false first.`,
  );
}

function immutableDelete(kind: 'project' | 'domain', id: string): InstanceType<typeof Forbidden> {
  return new Forbidden(
    `Unable to delete immutable ${kind} resource: \`${id}. Set resource option "immutable" to false first.`,
  );
}

function firstQuery(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key];
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  return value === undefined ? undefined : String(value);
}

// ---------------------------------------------------------------------------------------
// Writes shared by the domain and project APIs.

interface NewProject {
  id: string;
  name: string;
  domainId: string | null;
  parentId: string | null;
  isDomain: boolean;
  enabled: boolean;
  description: string | null;
  tags: string[];
  options: Body;
  extra: Body;
}

async function insertProject(identity: Identity, p: NewProject): Promise<Project> {
  const scope = p.isDomain ? '' : (p.domainId ?? '');
  const row: Project = {
    id: p.id,
    name: p.name,
    domain_id: p.domainId,
    parent_id: p.parentId,
    name_scope: scope,
    is_domain: p.isDomain,
    enabled: p.enabled,
    description: p.description,
    extra: JSON.stringify({ ...p.extra, options: mergeOptions({}, p.options) }),
    created_at: new Date(),
  };
  try {
    await identity.db.transaction().execute(async (trx) => {
      if (await loadProject(trx, p.id))
        throw new Conflict(conflictMessage(p.name, p.id, p.isDomain));
      await assertNameFree(trx, p.name, scope, p.id, p.isDomain);
      await trx.insertInto('project').values(row).execute();
      await setTags(trx, p.id, p.tags);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(conflictMessage(p.name, p.id, p.isDomain));
    throw err;
  }
  identity.tokens.invalidate();
  return row;
}

/**
 * Keystone's `_update_project` for domains and projects alike: immutability, the
 * attributes that cannot change, the enabled rules of a hierarchy, a unique name.
 * Disabling revokes the tokens of the project (or of everything in the domain).
 */
async function updateProject(
  identity: Identity,
  original: Project,
  changes: Body,
  kind: 'project' | 'domain',
): Promise<Project> {
  const { db } = identity;
  const name = 'name' in changes ? checkName(changes['name']).trim() : original.name;
  const description =
    'description' in changes
      ? checkString('description', changes['description'], {
          nullable: true,
          ...(kind === 'domain' ? { max: 255 } : {}),
        })
      : original.description;
  const enabled =
    'enabled' in changes ? checkBoolean('enabled', changes['enabled']) : original.enabled;
  const tags = 'tags' in changes ? checkTags(changes['tags']).map((t) => t.trim()) : undefined;
  const options =
    'options' in changes
      ? mergeOptions(optionsOf(original), checkOptions(changes['options']))
      : optionsOf(original);

  if ('id' in changes && changes['id'] !== original.id) {
    throw new BadRequest('Cannot change ID');
  }
  if ('domain_id' in changes && changes['domain_id'] !== original.domain_id) {
    throw new BadRequest('Cannot change Domain ID');
  }
  if (isImmutable(original)) {
    const keys = Object.keys(changes);
    const requested = changes['options'];
    const unsetting =
      keys.length === 1 &&
      requested !== null &&
      typeof requested === 'object' &&
      'immutable' in requested &&
      ((requested as Body)['immutable'] === false || (requested as Body)['immutable'] === null);
    if (!unsetting) throw immutableUpdate(kind, original.id);
  }
  if ('parent_id' in changes && changes['parent_id'] !== original.parent_id) {
    throw new Forbidden('Update of `parent_id` is not allowed.');
  }
  if ('is_domain' in changes && changes['is_domain'] !== original.is_domain) {
    throw new BadRequest('Update of `is_domain` is not allowed.');
  }
  if (!original.enabled && enabled && !original.is_domain) {
    for (const parent of await parentsOf(db, original)) {
      if (!parent.enabled) {
        throw new Forbidden(`Cannot enable project ${original.id} since it has disabled parents`);
      }
    }
  }
  const disabling = original.enabled && !enabled;
  if (disabling && !original.is_domain) {
    const subtree = await subtreeOf(db, original.id);
    if (subtree.some((p) => p.enabled)) {
      throw new Forbidden(
        `Cannot disable project ${original.id} since its subtree contains enabled projects.`,
      );
    }
  }

  const { options: _old, ...oldExtra } = parseExtra(original.extra);
  const extra = { ...oldExtra, ...extrasOf(changes), options };
  const updated: Project = {
    ...original,
    name,
    description,
    enabled,
    extra: JSON.stringify(extra),
  };
  try {
    await db.transaction().execute(async (trx) => {
      if (name !== original.name) {
        await assertNameFree(trx, name, original.name_scope, original.id, original.is_domain);
      }
      await trx
        .updateTable('project')
        .set({ name, description, enabled, extra: updated.extra })
        .where('id', '=', original.id)
        .execute();
      if (tags) await setTags(trx, original.id, tags);
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new Conflict(conflictMessage(name, original.id, original.is_domain));
    }
    throw err;
  }
  if (disabling) {
    await revoke(
      identity,
      original.is_domain ? { domainId: original.id } : { projectId: original.id },
    );
  }
  identity.tokens.invalidate();
  return updated;
}

/** Everything that belongs to projects being deleted (not the project rows themselves). */
async function deleteProjectContents(trx: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.deleteFrom('assignment').where('target_id', 'in', ids).execute();
  await trx.deleteFrom('project_tag').where('project_id', 'in', ids).execute();
  await trx.deleteFrom('credential').where('project_id', 'in', ids).execute();
  await trx.deleteFrom('application_credential').where('project_id', 'in', ids).execute();
  await trx.deleteFrom('project_limit').where('project_id', 'in', ids).execute();
}

/** Keystone's `_delete_project` for a leaf project. */
async function deleteProject(identity: Identity, row: Project): Promise<void> {
  if (isImmutable(row)) throw immutableDelete('project', row.id);
  const child = await identity.db
    .selectFrom('project')
    .select('id')
    .where('parent_id', '=', row.id)
    .executeTakeFirst();
  if (child) {
    throw new Forbidden(
      `Cannot delete the project ${row.id} since it is not a leaf in the hierarchy. ` +
        'Use the cascade option if you want to delete a whole subtree.',
    );
  }
  await identity.db.transaction().execute(async (trx) => {
    await deleteProjectContents(trx, [row.id]);
    await trx.deleteFrom('project').where('id', '=', row.id).execute();
  });
  await revoke(identity, { projectId: row.id });
}

/**
 * Keystone's `_delete_domain`: a disabled domain goes with its projects (leaves first),
 * its users and groups, its domain-specific roles and every role assignment on it.
 */
async function deleteDomain(identity: Identity, domain: Project): Promise<void> {
  if (isImmutable(domain)) throw immutableDelete('domain', domain.id);
  if (domain.enabled) {
    throw new Forbidden('Cannot delete a domain that is enabled, please disable it first.');
  }
  const { db } = identity;
  const projects = await db
    .selectFrom('project')
    .selectAll()
    .where('domain_id', '=', domain.id)
    .where('is_domain', '=', false)
    .execute();
  const locked = projects.find(isImmutable);
  if (locked) throw immutableDelete('project', locked.id);

  await db.transaction().execute(async (trx) => {
    const projectIds = projects.map((p) => p.id);
    await deleteProjectContents(trx, [...projectIds, domain.id]);
    // Leaves first, so no project row is ever left pointing at a deleted parent.
    const remaining = new Set(projectIds);
    while (remaining.size > 0) {
      const parents = new Set(
        projects.filter((p) => remaining.has(p.id)).map((p) => p.parent_id ?? ''),
      );
      const leaves = [...remaining].filter((id) => !parents.has(id));
      const batch = leaves.length > 0 ? leaves : [...remaining];
      await trx.deleteFrom('project').where('id', 'in', batch).execute();
      for (const id of batch) remaining.delete(id);
    }

    const users = (
      await trx
        .selectFrom('identity_user')
        .select('id')
        .where('domain_id', '=', domain.id)
        .execute()
    ).map((u) => u.id);
    const groups = (
      await trx
        .selectFrom('identity_group')
        .select('id')
        .where('domain_id', '=', domain.id)
        .execute()
    ).map((g) => g.id);
    const actors = [...users, ...groups];
    for (let i = 0; i < actors.length; i += 500) {
      const chunk = actors.slice(i, i + 500);
      await trx.deleteFrom('assignment').where('actor_id', 'in', chunk).execute();
    }
    for (let i = 0; i < users.length; i += 500) {
      const chunk = users.slice(i, i + 500);
      await trx.deleteFrom('application_credential').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('access_rule').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('credential').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('group_membership').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('password').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_user').where('id', 'in', chunk).execute();
    }
    for (let i = 0; i < groups.length; i += 500) {
      const chunk = groups.slice(i, i + 500);
      await trx.deleteFrom('group_membership').where('group_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_group').where('id', 'in', chunk).execute();
    }
    const roles = (
      await trx.selectFrom('role').select('id').where('domain_id', '=', domain.id).execute()
    ).map((r) => r.id);
    if (roles.length > 0) {
      await trx.deleteFrom('assignment').where('role_id', 'in', roles).execute();
      await trx
        .deleteFrom('implied_role')
        .where((eb) =>
          eb.or([eb('prior_role_id', 'in', roles), eb('implied_role_id', 'in', roles)]),
        )
        .execute();
      await trx.deleteFrom('role').where('id', 'in', roles).execute();
    }
    await trx.deleteFrom('project_limit').where('domain_id', '=', domain.id).execute();
    await trx.deleteFrom('project').where('id', '=', domain.id).execute();
  });
  await revoke(identity, { domainId: domain.id });
}

// ---------------------------------------------------------------------------------------
// Routes.

export function registerProjectRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  // ---- Domains ------------------------------------------------------------------------

  app.post('/v3/domains', async (request, reply) => {
    authorize(identity, request, 'identity:create_domain');
    const body = entity(request, 'domain');
    if (!('name' in body)) invalid('name', "'name' is a required property");
    const name = checkName(body['name']).trim();
    let id = hexId();
    if (body['explicit_domain_id'] !== undefined && body['explicit_domain_id'] !== null) {
      const explicit = checkString('explicit_domain_id', body['explicit_domain_id'], {
        min: 1,
        max: 64,
        pattern: ID_PATTERN,
      }) as string;
      if (!/^[0-9a-f]{32}$/.test(explicit)) {
        throw new BadRequest('Domain ID does not conform to required UUID format.');
      }
      id = explicit;
    }
    const created = await insertProject(identity, {
      id,
      name,
      domainId: null,
      parentId: null,
      isDomain: true,
      enabled: 'enabled' in body ? checkBoolean('enabled', body['enabled']) : true,
      description:
        'description' in body
          ? checkString('description', body['description'], { nullable: true, max: 255 })
          : '',
      tags: 'tags' in body ? checkTags(body['tags']).map((t) => t.trim()) : [],
      options: 'options' in body ? checkOptions(body['options']) : {},
      extra: extrasOf(body),
    });
    return reply.code(201).send({ domain: domainBody(request, created, await tagsOf(db, id)) });
  });

  app.get('/v3/domains', async (request) => {
    const ctx = request.context;
    authorize(
      identity,
      request,
      'identity:list_domains',
      ctx.domain_id ? { domain: { id: ctx.domain_id } } : {},
    );
    const query = request.query as Record<string, unknown>;
    let q = db.selectFrom('project').selectAll().where('is_domain', '=', true);
    const name = firstQuery(query, 'name');
    if (name !== undefined) q = q.where('name', '=', name);
    const enabled = queryBool(firstQuery(query, 'enabled'), 'enabled');
    if (enabled !== undefined) q = q.where('enabled', '=', enabled);
    if (ctx.domain_id) q = q.where('id', '=', ctx.domain_id);
    const rows = await q.orderBy('name').execute();
    const tags = await tagsByProject(
      db,
      rows.map((r) => r.id),
    );
    return collection(
      request,
      'domains',
      rows.map((r) => domainBody(request, r, tags.get(r.id) ?? [])),
    );
  });

  app.get('/v3/domains/:domain_id', async (request) => {
    const { domain_id: id } = request.params as { domain_id: string };
    const domain = await loadDomain(db, id);
    authorize(identity, request, 'identity:get_domain', domain ? { domain } : {});
    if (!domain) throw notFound('domain', id);
    return { domain: domainBody(request, domain, await tagsOf(db, id)) };
  });

  app.patch('/v3/domains/:domain_id', async (request) => {
    const { domain_id: id } = request.params as { domain_id: string };
    authorize(identity, request, 'identity:update_domain');
    const body = entity(request, 'domain');
    if (Object.keys(body).length === 0) {
      invalid('domain', '{} does not have enough properties');
    }
    const domain = await loadDomain(db, id);
    if (!domain) throw notFound('domain', id);
    const updated = await updateProject(identity, domain, body, 'domain');
    return { domain: domainBody(request, updated, await tagsOf(db, id)) };
  });

  app.delete('/v3/domains/:domain_id', async (request, reply) => {
    const { domain_id: id } = request.params as { domain_id: string };
    authorize(identity, request, 'identity:delete_domain');
    const domain = await loadDomain(db, id);
    if (!domain) throw notFound('domain', id);
    await deleteDomain(identity, domain);
    return reply.code(204).send();
  });

  // ---- Projects -----------------------------------------------------------------------

  app.post('/v3/projects', async (request, reply) => {
    const body = entity(request, 'project');
    authorize(identity, request, 'identity:create_project', { project: body });
    if (!('name' in body)) invalid('name', "'name' is a required property");
    const name = checkName(body['name']).trim();
    const isDomain = 'is_domain' in body ? checkBoolean('is_domain', body['is_domain']) : false;
    const rawDomain =
      body['domain_id'] === undefined
        ? null
        : checkString('domain_id', body['domain_id'], {
            nullable: true,
            min: 1,
            max: 64,
            pattern: ID_PATTERN,
          });
    const rawParent =
      body['parent_id'] === undefined
        ? null
        : checkString('parent_id', body['parent_id'], {
            nullable: true,
            min: 1,
            max: 64,
            pattern: ID_PATTERN,
          });
    const enabled = 'enabled' in body ? checkBoolean('enabled', body['enabled']) : true;
    const description =
      'description' in body
        ? checkString('description', body['description'], { nullable: true })
        : '';
    const tags = 'tags' in body ? checkTags(body['tags']).map((t) => t.trim()) : [];
    const options = 'options' in body ? checkOptions(body['options']) : {};

    let domainId: string | null = null;
    let parentId: string | null = null;
    if (isDomain) {
      if (rawParent) throw new BadRequest('only root projects are allowed to act as domains.');
    } else {
      // Keystone's _normalize_domain_id: the token's domain, else the default domain.
      domainId = rawDomain || request.context.domain_id || DEFAULT_DOMAIN_ID;
      parentId = rawParent || domainId;
      const domain = await loadDomain(db, domainId);
      if (!domain) throw new BadRequest(`Could not find domain: ${domainId}.`);
      const parent = await loadProject(db, parentId);
      if (!parent) throw new BadRequest(`Could not find project: ${parentId}.`);
      if (parent.is_domain && parent.id !== domain.id) {
        throw new BadRequest(
          `Cannot create project, the parent (${parent.id}) is acting as a domain, but this ` +
            `project's domain id (${domain.id}) does not match the parent's id.`,
        );
      }
      if (!parent.is_domain && parent.domain_id !== domain.id) {
        throw new BadRequest(
          `Cannot create project, since it specifies its domain_id ${domain.id}, but ` +
            `specifies a parent in a different domain (${parent.domain_id}).`,
        );
      }
      // The parent's ancestors (ending with the domain), then the parent itself.
      const parents = [...(await parentsOf(db, parent)), parent];
      const disabled = parents.find((p) => !p.enabled);
      if (disabled) {
        throw new BadRequest(
          `cannot create a project in a branch containing a disabled project: ${disabled.id}`,
        );
      }
      if (parents.length + 1 > MAX_PROJECT_TREE_DEPTH + 1) {
        throw new Forbidden(`Max hierarchy depth reached for ${parent.id} branch.`);
      }
    }
    const id = hexId();
    const created = await insertProject(identity, {
      id,
      name,
      domainId,
      parentId,
      isDomain,
      enabled,
      description,
      tags,
      options,
      extra: extrasOf(body),
    });
    return reply.code(201).send({ project: projectBody(request, created, await tagsOf(db, id)) });
  });

  app.get('/v3/projects', async (request) => {
    const ctx = request.context;
    authorize(
      identity,
      request,
      'identity:list_projects',
      ctx.domain_id ? { domain_id: ctx.domain_id } : {},
    );
    const query = request.query as Record<string, unknown>;
    let q = db.selectFrom('project').selectAll();
    const isDomain = queryBool(firstQuery(query, 'is_domain'), 'is_domain') ?? false;
    q = q.where('is_domain', '=', isDomain);
    const domainId = firstQuery(query, 'domain_id');
    if (domainId !== undefined) q = q.where('domain_id', '=', domainId);
    const name = firstQuery(query, 'name');
    if (name !== undefined) q = q.where('name', '=', name);
    const parentId = firstQuery(query, 'parent_id');
    if (parentId !== undefined) q = q.where('parent_id', '=', parentId);
    const enabled = queryBool(firstQuery(query, 'enabled'), 'enabled');
    if (enabled !== undefined) q = q.where('enabled', '=', enabled);
    if (ctx.domain_id) q = q.where('domain_id', '=', ctx.domain_id);
    const rows = await q.orderBy('name').orderBy('id').execute();
    const tags = await tagsByProject(
      db,
      rows.map((r) => r.id),
    );

    const tagFilter = (key: string): string[] | undefined => {
      const value = firstQuery(query, key);
      return value === undefined ? undefined : value.split(',');
    };
    const all = tagFilter('tags');
    const any = tagFilter('tags-any');
    const notAll = tagFilter('not-tags');
    const notAny = tagFilter('not-tags-any');
    const matching = rows.filter((r) => {
      const own = new Set(tags.get(r.id) ?? []);
      if (all && !all.every((t) => own.has(t))) return false;
      if (any && !any.some((t) => own.has(t))) return false;
      if (notAll && notAll.every((t) => own.has(t))) return false;
      if (notAny && notAny.some((t) => own.has(t))) return false;
      return true;
    });
    return collection(
      request,
      'projects',
      matching.map((r) => projectBody(request, r, tags.get(r.id) ?? [])),
    );
  });

  const withProject = async (
    request: FastifyRequest,
    action: string,
  ): Promise<{ id: string; project: Project }> => {
    const { project_id: id } = request.params as { project_id: string };
    const project = await loadProject(db, id);
    authorize(identity, request, action, project ? { project } : {});
    if (!project) throw notFound('project', id);
    return { id, project };
  };

  app.get('/v3/projects/:project_id', async (request) => {
    const { id, project } = await withProject(request, 'identity:get_project');
    const query = request.query as Record<string, unknown>;
    const flag = (key: string): boolean => queryBool(firstQuery(query, key), key) ?? false;
    const parentsAsList = flag('parents_as_list');
    const parentsAsIds = flag('parents_as_ids');
    const subtreeAsList = flag('subtree_as_list');
    const subtreeAsIds = flag('subtree_as_ids');
    if (parentsAsList && parentsAsIds) {
      throw new BadRequest(
        'Cannot use parents_as_list and parents_as_ids query params at the same time.',
      );
    }
    if (subtreeAsList && subtreeAsIds) {
      throw new BadRequest(
        'Cannot use subtree_as_list and subtree_as_ids query params at the same time.',
      );
    }
    const out = projectBody(request, project, await tagsOf(db, id));
    const userId = request.context.user_id ?? '';
    const asList = async (rows: Project[]): Promise<Body[]> => {
      const visible: Project[] = [];
      for (const r of rows) {
        if (!r.is_domain && (await hasRoleOn(db, userId, r.id))) visible.push(r);
      }
      const tags = await tagsByProject(
        db,
        visible.map((r) => r.id),
      );
      return visible.map((r) => ({ project: projectBody(request, r, tags.get(r.id) ?? []) }));
    };
    if (parentsAsList) {
      out['parents'] = await asList(await parentsOf(db, project));
    } else if (parentsAsIds) {
      // {parent: {grandparent: {...: {domain: null}}}}, or null for a root.
      let tree: Body | null = null;
      for (const p of (await parentsOf(db, project)).reverse()) tree = { [p.id]: tree };
      out['parents'] = tree;
    }
    if (subtreeAsList) {
      out['subtree'] = await asList(await subtreeOf(db, id));
    } else if (subtreeAsIds) {
      const subtree = await subtreeOf(db, id);
      const build = (parent: string): Body | null => {
        const children = subtree.filter((p) => p.parent_id === parent);
        if (children.length === 0) return null;
        return Object.fromEntries(children.map((c) => [c.id, build(c.id)]));
      };
      out['subtree'] = build(id);
    }
    return { project: out };
  });

  app.patch('/v3/projects/:project_id', async (request) => {
    const { id, project } = await withProject(request, 'identity:update_project');
    const body = entity(request, 'project');
    const updated = await updateProject(
      identity,
      project,
      body,
      project.is_domain ? 'domain' : 'project',
    );
    return { project: projectBody(request, updated, await tagsOf(db, id)) };
  });

  app.delete('/v3/projects/:project_id', async (request, reply) => {
    const { project } = await withProject(request, 'identity:delete_project');
    if (project.is_domain) await deleteDomain(identity, project);
    else await deleteProject(identity, project);
    return reply.code(204).send();
  });

  // ---- Project tags -------------------------------------------------------------------

  const tagsLink = (request: FastifyRequest): string =>
    `${request.baseUrl}${request.url.split('?')[0] ?? ''}`;

  app.get('/v3/projects/:project_id/tags', async (request) => {
    const { id } = await withProject(request, 'identity:list_project_tags');
    return { tags: await tagsOf(db, id), links: { self: tagsLink(request) } };
  });

  app.put('/v3/projects/:project_id/tags', async (request) => {
    const { id, project } = await withProject(request, 'identity:update_project_tags');
    if (isImmutable(project)) {
      throw new Forbidden(
        `Cannot update project tags for ${id}, project is immutable. Set "immutable" option ` +
          'to false before creating project tags.',
      );
    }
    const body = request.body;
    const raw =
      body && typeof body === 'object' && !Array.isArray(body) ? (body as Body)['tags'] : undefined;
    const tags = checkTags(raw ?? []).map((t) => t.trim());
    await db.transaction().execute((trx) => setTags(trx, id, tags));
    return { tags: await tagsOf(db, id), links: { self: tagsLink(request) } };
  });

  app.delete('/v3/projects/:project_id/tags', async (request, reply) => {
    const { id, project } = await withProject(request, 'identity:delete_project_tags');
    if (isImmutable(project)) {
      throw new Forbidden(
        `Cannot update project tags for ${id}, project is immutable. Set "immutable" option ` +
          'to false before creating project tags.',
      );
    }
    await db.deleteFrom('project_tag').where('project_id', '=', id).execute();
    return reply.code(204).send();
  });

  app.get('/v3/projects/:project_id/tags/:tag', async (request, reply) => {
    const { id } = await withProject(request, 'identity:get_project_tag');
    const { tag } = request.params as { tag: string };
    if (!(await tagsOf(db, id)).includes(tag)) throw notFound('project tag', tag);
    return reply.code(204).send();
  });

  app.put('/v3/projects/:project_id/tags/:tag', async (request, reply) => {
    const { id, project } = await withProject(request, 'identity:create_project_tag');
    const { tag } = request.params as { tag: string };
    checkTag('tags', tag);
    const current = await tagsOf(db, id);
    checkTags([...current, tag]);
    if (isImmutable(project)) {
      throw new Forbidden(
        `Cannot create project tags for ${id}, project is immutable. Set "immutable" option ` +
          'to false before creating project tags.',
      );
    }
    const name = tag.trim();
    if (!current.includes(name)) {
      await db.insertInto('project_tag').values({ project_id: id, name }).execute();
    }
    void reply.header(
      'location',
      selfLink(request, `projects/${id}/tags/${encodeURIComponent(name)}`),
    );
    return reply.code(201).send();
  });

  app.delete('/v3/projects/:project_id/tags/:tag', async (request, reply) => {
    const { id, project } = await withProject(request, 'identity:delete_project_tag');
    const { tag } = request.params as { tag: string };
    if (isImmutable(project)) {
      throw new Forbidden(
        `Cannot delete project tags for ${id}, project is immutable. Set "immutable" option ` +
          'to false before creating project tags.',
      );
    }
    const removed = await db
      .deleteFrom('project_tag')
      .where('project_id', '=', id)
      .where('name', '=', tag)
      .executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) throw notFound('project tag', tag);
    return reply.code(204).send();
  });

  // ---- Projects of a user -------------------------------------------------------------

  app.get('/v3/users/:user_id/projects', async (request) => {
    const { user_id: userId } = request.params as { user_id: string };
    const user = await db
      .selectFrom('identity_user')
      .select(['id', 'domain_id', 'name'])
      .where('id', '=', userId)
      .executeTakeFirst();
    authorize(identity, request, 'identity:list_user_projects', user ? { user } : {});
    if (!user) throw notFound('user', userId);
    const query = request.query as Record<string, unknown>;
    let q = db.selectFrom('project').selectAll().where('is_domain', '=', false);
    const name = firstQuery(query, 'name');
    if (name !== undefined) q = q.where('name', '=', name);
    const domainId = firstQuery(query, 'domain_id');
    if (domainId !== undefined) q = q.where('domain_id', '=', domainId);
    const enabled = queryBool(firstQuery(query, 'enabled'), 'enabled');
    if (enabled !== undefined) q = q.where('enabled', '=', enabled);
    const candidates = await q.orderBy('name').orderBy('id').execute();
    const rows: Project[] = [];
    for (const p of candidates) if (await hasRoleOn(db, userId, p.id)) rows.push(p);
    const tags = await tagsByProject(
      db,
      rows.map((r) => r.id),
    );
    return collection(
      request,
      'projects',
      rows.map((r) => projectBody(request, r, tags.get(r.id) ?? [])),
    );
  });
}
