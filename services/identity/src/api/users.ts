import type { ApiServer } from '@stratus/api-kit';
import {
  BadRequest,
  Conflict,
  NotFound,
  Unauthorized,
  hexId,
  isoMicrosNaive,
  parseTimestamp,
} from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { AccountLocked } from '../core/auth.js';
import { DEFAULT_DOMAIN_ID } from '../core/bootstrap.js';
import { revoke, type Identity } from '../core/identity.js';
import type { GroupRow, IdentitySchema, UserRow } from '../store/schema.js';
import { authorize, collection, notFound, parseJson, queryBool, selfLink } from './http.js';

/*
 * Users and groups (keystone/api/users.py, groups.py; keystone/identity/core.py and
 * backends/sql.py for passwords: history, minimum age, expiry, first-use change).
 */

type Json = Record<string, unknown>;
type Db = Kysely<IdentitySchema>;
type UserWithPassword = Selectable<UserRow> & { password_expires_at: Date | null };

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's repr, as jsonschema's messages print values. */
function repr(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return JSON.stringify(v) ?? String(v);
}

const invalid = (field: string, message: string) =>
  new BadRequest(`Invalid input for field '${field}': ${message}`);

/** The `{"<key>": {...}}` envelope of a request body. */
function envelope(request: FastifyRequest, key: string): Json {
  const body = request.body;
  if (!isObject(body) || body[key] === undefined) {
    throw new BadRequest(`'${key}' is a required property`);
  }
  const extra = Object.keys(body).filter((k) => k !== key);
  if (extra.length > 0) {
    throw new BadRequest(
      `Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`,
    );
  }
  const value = body[key];
  if (!isObject(value)) throw invalid(key, `${repr(value)} is not of type 'object'`);
  return value;
}

function checkName(v: unknown, field: string, maxLength: number): string {
  if (typeof v !== 'string') throw invalid(field, `${repr(v)} is not of type 'string'`);
  if (v.length < 1) throw invalid(field, `${repr(v)} is too short`);
  if (v.length > maxLength) throw invalid(field, `${repr(v)} is too long`);
  if (!/\S/.test(v)) throw invalid(field, `${repr(v)} does not match '[\\S]+'`);
  return v;
}

function checkNullableString(v: unknown, field: string): string | null {
  if (v !== null && typeof v !== 'string') {
    throw invalid(field, `${repr(v)} is not of type 'string', 'null'`);
  }
  return v;
}

function checkDomainId(v: unknown, field: string): string {
  if (typeof v !== 'string') throw invalid(field, `${repr(v)} is not of type 'string'`);
  if (v.length < 1) throw invalid(field, `${repr(v)} is too short`);
  if (v.length > 64) throw invalid(field, `${repr(v)} is too long`);
  if (!/^[a-zA-Z0-9-]+$/.test(v))
    throw invalid(field, `${repr(v)} does not match '^[a-zA-Z0-9-]+$'`);
  return v;
}

const TRUE_WORDS = ['True', 'TRUE', 'true', '1', 'y', 'Y', 'on', 'ON', 'yes'];
const FALSE_WORDS = ['False', 'FALSE', 'false', '', '0', 'n', 'N', 'off', 'OFF', 'no'];

/** Keystone's API boolean: true/false, the usual words for them, or null (false). */
function checkEnabled(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (typeof v === 'string' && TRUE_WORDS.includes(v)) return true;
  if (typeof v === 'string' && FALSE_WORDS.includes(v)) return false;
  throw invalid(
    field,
    `${repr(v)} is not one of [True, False, 'True', 'true', 'False', 'false', ...]`,
  );
}

/** Keystone's user resource options; all nullable, null removes the option. */
const BOOLEAN_OPTIONS = [
  'ignore_change_password_upon_first_use',
  'ignore_password_expiry',
  'ignore_lockout_failure_attempts',
  'lock_password',
  'ignore_user_inactivity',
  'multi_factor_auth_enabled',
] as const;
const MFA_RULES = 'multi_factor_auth_rules';

function checkOptions(v: unknown, field: string): Json {
  if (!isObject(v)) throw invalid(field, `${repr(v)} is not of type 'object'`);
  for (const [name, value] of Object.entries(v)) {
    const where = `${field}/${name}`;
    if ((BOOLEAN_OPTIONS as readonly string[]).includes(name)) {
      if (value !== null && typeof value !== 'boolean') {
        throw invalid(where, `${repr(value)} is not of type 'boolean', 'null'`);
      }
    } else if (name === MFA_RULES) {
      if (value !== null) checkMfaRules(value, where);
    } else {
      throw invalid(field, `Additional properties are not allowed ('${name}' was unexpected)`);
    }
  }
  return v;
}

function checkMfaRules(value: unknown, field: string): void {
  const msg =
    'Invalid data type, must be a list of lists comprised of strings. ' +
    'Sub-lists may not be duplicated. Strings in sub-lists may not be duplicated.';
  if (!Array.isArray(value)) throw invalid(field, msg);
  const seen = new Set<string>();
  for (const rule of value) {
    if (!Array.isArray(rule) || rule.length === 0) throw invalid(field, msg);
    if (!rule.every((s) => typeof s === 'string')) throw invalid(field, msg);
    if (new Set(rule).size !== rule.length) throw invalid(field, msg);
    const key = JSON.stringify(rule);
    if (seen.has(key)) throw invalid(field, msg);
    seen.add(key);
  }
}

/** Options after an update: given values replace, nulls remove, the rest stay. */
function mergeOptions(current: Json, changes: Json | undefined): Json {
  const out: Json = { ...current };
  for (const [k, v] of Object.entries(changes ?? {})) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Attributes with a column of their own, or never stored; the rest go to `extra`. */
const USER_RESERVED = new Set([
  'id',
  'name',
  'domain_id',
  'enabled',
  'default_project_id',
  'description',
  'email',
  'password',
  'options',
  'links',
  'password_expires_at',
  'federated',
  'tenants',
  'groups',
  'domains',
]);
const GROUP_RESERVED = new Set(['id', 'name', 'domain_id', 'description', 'links']);

/** Keystone normalises `:` and `-` in attribute names to `_`. */
function extraOf(data: Json, reserved: ReadonlySet<string>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(data)) {
    const key = k.replace(/[:-]/g, '_');
    if (!reserved.has(key)) out[key] = v;
  }
  return out;
}

interface UserInput {
  name?: string;
  domain_id?: string;
  enabled?: boolean;
  default_project_id?: string | null;
  description?: string | null;
  email?: string | null;
  password?: string | null;
  options?: Json;
  id?: unknown;
  extra: Json;
}

function parseUser(data: Json, create: boolean): UserInput {
  const out: UserInput = { extra: extraOf(data, USER_RESERVED) };
  if (create && data['name'] === undefined) throw invalid('user', "'name' is a required property");
  if (!create && Object.keys(data).length === 0)
    throw invalid('user', '{} does not have enough properties');
  if (data['name'] !== undefined) out.name = checkName(data['name'], 'user/name', 255).trim();
  if (data['domain_id'] !== undefined)
    out.domain_id = checkDomainId(data['domain_id'], 'user/domain_id');
  if (data['enabled'] !== undefined) out.enabled = checkEnabled(data['enabled'], 'user/enabled');
  for (const key of ['default_project_id', 'description', 'password'] as const) {
    if (data[key] !== undefined) out[key] = checkNullableString(data[key], `user/${key}`);
  }
  if (data['email'] !== undefined) out.email = checkNullableString(data['email'], 'user/email');
  if (data['options'] !== undefined) out.options = checkOptions(data['options'], 'user/options');
  if (data['id'] !== undefined) out.id = data['id'];
  return out;
}

/** Python's re.match: the pattern must match at the start of the password. */
function validatePassword(identity: Identity, password: string): void {
  const pattern = identity.settings.password_regex;
  if (!pattern) return;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})`, 'u');
  } catch {
    identity.logger.error({ pattern }, 'invalid password_regex');
    throw new BadRequest(
      'Password validation error: Unable to validate password due to invalid configuration.',
    );
  }
  if (!re.test(password)) {
    throw new BadRequest(
      `The password does not match the requirements: ${identity.settings.password_regex_description}.`,
    );
  }
}

const DAY_MS = 86_400_000;

/** When a new password expires: first use, the user's options and password_expires_days. */
function passwordExpiry(
  identity: Identity,
  options: Json,
  now: Date,
  adminSet: boolean,
): Date | null {
  const s = identity.settings;
  if (
    adminSet &&
    s.change_password_upon_first_use &&
    options['ignore_change_password_upon_first_use'] !== true
  ) {
    return now;
  }
  if (options['ignore_password_expiry'] === true || s.password_expires_days <= 0) return null;
  const at = new Date(now.getTime() + s.password_expires_days * DAY_MS);
  at.setUTCMilliseconds(0);
  return at;
}

/** Replaces the current password (kept, with replaced_at, for the history). */
async function setPassword(
  db: Db,
  userId: string,
  hash: string | null,
  expiresAt: Date | null,
  selfService: boolean,
  now: Date,
): Promise<void> {
  await db
    .updateTable('password')
    .set({ replaced_at: now })
    .where('user_id', '=', userId)
    .where('replaced_at', 'is', null)
    .execute();
  if (hash === null) return;
  await db
    .insertInto('password')
    .values({
      user_id: userId,
      hash,
      created_at: now,
      expires_at: expiresAt,
      replaced_at: null,
      self_service: selfService,
    })
    .execute();
}

function usersWithPassword(db: Db) {
  return db
    .selectFrom('identity_user')
    .leftJoin('password', (join) =>
      join
        .onRef('password.user_id', '=', 'identity_user.id')
        .on('password.replaced_at', 'is', null),
    )
    .selectAll('identity_user')
    .select('password.expires_at as password_expires_at');
}

async function loadUser(db: Db, id: string): Promise<UserWithPassword | undefined> {
  return usersWithPassword(db).where('identity_user.id', '=', id).executeTakeFirst();
}

async function loadGroup(db: Db, id: string): Promise<Selectable<GroupRow> | undefined> {
  return db.selectFrom('identity_group').selectAll().where('id', '=', id).executeTakeFirst();
}

function renderUser(request: FastifyRequest, u: UserWithPassword): Json {
  return {
    ...parseJson(u.extra),
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: u.enabled,
    ...(u.default_project_id !== null ? { default_project_id: u.default_project_id } : {}),
    ...(u.description !== null ? { description: u.description } : {}),
    ...(u.email !== null ? { email: u.email } : {}),
    password_expires_at: u.password_expires_at ? isoMicrosNaive(u.password_expires_at) : null,
    options: parseJson(u.options),
    links: { self: selfLink(request, `users/${u.id}`) },
  };
}

function renderGroup(request: FastifyRequest, g: Selectable<GroupRow>): Json {
  return {
    ...parseJson(g.extra),
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description,
    links: { self: selfLink(request, `groups/${g.id}`) },
  };
}

async function requireDomain(db: Db, id: string): Promise<void> {
  const row = await db
    .selectFrom('project')
    .select('id')
    .where('id', '=', id)
    .where('is_domain', '=', true)
    .executeTakeFirst();
  if (!row) throw notFound('domain', id);
}

async function assertDefaultProjectNotDomain(db: Db, projectId: string | null | undefined) {
  if (!projectId) return;
  const row = await db
    .selectFrom('project')
    .select('is_domain')
    .where('id', '=', projectId)
    .executeTakeFirst();
  if (row?.is_domain) {
    throw new BadRequest(`User's default project ID cannot be a domain ID: ${projectId}`);
  }
}

const duplicate = (type: string, name: string, domainId: string) =>
  new Conflict(
    `Conflict occurred attempting to store ${type} - Duplicate entry found with name ${name} at domain ID ${domainId}.`,
  );

/** Runs a write, turning a unique violation (a concurrent duplicate) into Keystone's 409. */
async function storing<T>(fn: () => Promise<T>, conflict: () => Error): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict();
    throw err;
  }
}

/** `password_expires_at=<op>:<timestamp>` as Keystone reads it. */
function expiryFilter(value: string): (d: Date | null) => boolean {
  let op = 'eq';
  let stamp = value;
  if (value.slice(2, 4).includes(':')) {
    const i = value.indexOf(':');
    op = value.slice(0, i);
    stamp = value.slice(i + 1);
  }
  const at = parseTimestamp(stamp);
  if (!at) {
    throw new BadRequest(
      'Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
    );
  }
  const t = at.getTime();
  const ops: Record<string, (x: number) => boolean> = {
    lt: (x) => x < t,
    lte: (x) => x <= t,
    gt: (x) => x > t,
    gte: (x) => x >= t,
    eq: (x) => x === t,
    neq: (x) => x !== t,
  };
  const cmp = ops[op];
  if (!cmp) {
    throw new BadRequest(
      `The given operator ${op} is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.`,
    );
  }
  // SQL semantics: a password that never expires matches no comparison.
  return (d) => d !== null && cmp(d.getTime());
}

function stringQuery(query: Json, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? String(v[v.length - 1]) : String(v);
}

/** The user list filters shared by /v3/users and /v3/groups/{id}/users. */
function filterUsers(query: Json, users: UserWithPassword[]): UserWithPassword[] {
  const name = stringQuery(query, 'name');
  const domainId = stringQuery(query, 'domain_id');
  const enabled = queryBool(query['enabled'], 'enabled');
  const expiry = stringQuery(query, 'password_expires_at');
  const expires = expiry !== undefined ? expiryFilter(expiry) : undefined;
  return users.filter(
    (u) =>
      (name === undefined || u.name === name) &&
      (domainId === undefined || u.domain_id === domainId) &&
      (enabled === undefined || u.enabled === enabled) &&
      (expires === undefined || expires(u.password_expires_at)),
  );
}

const FAILED = 'Error when changing user password: Invalid user / password';

export function registerUserRoutes(app: ApiServer, identity: Identity): void {
  const db = identity.db;
  type UserParams = { user_id: string };
  type GroupParams = { group_id: string };
  type MemberParams = { group_id: string; user_id: string };

  const userTarget = (id: string, u: UserWithPassword | undefined): Json => ({
    user_id: id,
    ...(u ? { user: { id: u.id, domain_id: u.domain_id, name: u.name } } : {}),
  });

  // ---- users -------------------------------------------------------------------------

  app.post('/v3/users', async (request, reply) => {
    const data = envelope(request, 'user');
    const input = parseUser(data, true);
    authorize(identity, request, 'identity:create_user', { user: data });
    if (typeof input.password === 'string') validatePassword(identity, input.password);
    const domainId = input.domain_id ?? request.context.domain_id ?? DEFAULT_DOMAIN_ID;
    await requireDomain(db, domainId);
    await assertDefaultProjectNotDomain(db, input.default_project_id);
    const name = input.name ?? '';
    const options = mergeOptions({}, input.options);
    const now = new Date();
    const id = hexId();
    const hash =
      typeof input.password === 'string' ? await identity.hasher.hash(input.password) : null;
    await storing(
      () =>
        db.transaction().execute(async (trx) => {
          await assertNameFree(trx, 'identity_user', domainId, name);
          await trx
            .insertInto('identity_user')
            .values({
              id,
              domain_id: domainId,
              name,
              enabled: input.enabled ?? true,
              default_project_id: input.default_project_id ?? null,
              description: input.description ?? null,
              email: input.email ?? null,
              extra: JSON.stringify(input.extra),
              options: JSON.stringify(options),
              created_at: now,
              last_active_at: null,
              failed_auth_at: null,
            })
            .execute();
          if (hash !== null) {
            await setPassword(
              trx,
              id,
              hash,
              passwordExpiry(identity, options, now, true),
              false,
              now,
            );
          }
        }),
      () => duplicate('user', name, domainId),
    );
    const user = await loadUser(db, id);
    if (!user) throw notFound('user', id);
    return reply.code(201).send({ user: renderUser(request, user) });
  });

  app.get('/v3/users', async (request) => {
    const query = (request.query ?? {}) as Json;
    const scopedDomain = request.context.domain_id;
    authorize(
      identity,
      request,
      'identity:list_users',
      scopedDomain ? { domain_id: scopedDomain } : {},
    );
    const rows = await usersWithPassword(db).orderBy('identity_user.id').execute();
    let users = filterUsers(query, rows);
    // A domain-scoped token sees its domain's users only.
    if (scopedDomain) users = users.filter((u) => u.domain_id === scopedDomain);
    return collection(
      request,
      'users',
      users.map((u) => renderUser(request, u)),
    );
  });

  app.get('/v3/users/:user_id', async (request) => {
    const { user_id: id } = request.params as UserParams;
    const user = await loadUser(db, id);
    authorize(identity, request, 'identity:get_user', userTarget(id, user));
    if (!user) throw notFound('user', id);
    return { user: renderUser(request, user) };
  });

  app.patch('/v3/users/:user_id', async (request) => {
    const { user_id: id } = request.params as UserParams;
    const data = envelope(request, 'user');
    const input = parseUser(data, false);
    const before = await loadUser(db, id);
    authorize(identity, request, 'identity:update_user', userTarget(id, before));
    if (input.id !== undefined && input.id !== null && input.id !== id) {
      throw new BadRequest('Cannot change ID');
    }
    if (!before) throw notFound('user', id);
    if (input.domain_id !== undefined && input.domain_id !== before.domain_id) {
      throw new BadRequest('Cannot change Domain ID');
    }
    if (typeof input.password === 'string') validatePassword(identity, input.password);
    await assertDefaultProjectNotDomain(db, input.default_project_id);
    const options = mergeOptions(parseJson(before.options), input.options);
    const extra = { ...parseJson(before.extra), ...input.extra };
    const name = input.name ?? before.name;
    const now = new Date();
    const hash =
      typeof input.password === 'string' ? await identity.hasher.hash(input.password) : null;
    const enabled = input.enabled ?? before.enabled;
    await storing(
      () =>
        db.transaction().execute(async (trx) => {
          if (name !== before.name)
            await assertNameFree(trx, 'identity_user', before.domain_id, name, id);
          await trx
            .updateTable('identity_user')
            .set({
              name,
              enabled,
              default_project_id:
                input.default_project_id !== undefined
                  ? input.default_project_id
                  : before.default_project_id,
              description: input.description !== undefined ? input.description : before.description,
              email: input.email !== undefined ? input.email : before.email,
              extra: JSON.stringify(extra),
              options: JSON.stringify(options),
              // Enabling a user clears its failed attempts (Keystone's enabled setter).
              ...(input.enabled === true ? { failed_auth_count: 0, failed_auth_at: null } : {}),
            })
            .where('id', '=', id)
            .execute();
          if (input.password !== undefined) {
            await setPassword(
              trx,
              id,
              hash,
              passwordExpiry(identity, options, now, true),
              false,
              now,
            );
          }
        }),
      () => duplicate('user', name, before.domain_id),
    );
    if ((input.enabled === false && before.enabled) || typeof input.password === 'string') {
      await revoke(identity, { userId: id });
    } else {
      identity.tokens.invalidate();
    }
    const user = await loadUser(db, id);
    if (!user) throw notFound('user', id);
    return { user: renderUser(request, user) };
  });

  app.delete('/v3/users/:user_id', async (request, reply) => {
    const { user_id: id } = request.params as UserParams;
    const user = await loadUser(db, id);
    authorize(identity, request, 'identity:delete_user', userTarget(id, user));
    if (!user) throw notFound('user', id);
    await db.transaction().execute(async (trx) => {
      const appCreds = await trx
        .selectFrom('application_credential')
        .select('id')
        .where('user_id', '=', id)
        .execute();
      const appCredIds = appCreds.map((a) => a.id);
      if (appCredIds.length > 0) {
        await trx
          .deleteFrom('application_credential_role')
          .where('application_credential_id', 'in', appCredIds)
          .execute();
        await trx
          .deleteFrom('application_credential_access_rule')
          .where('application_credential_id', 'in', appCredIds)
          .execute();
        await trx.deleteFrom('application_credential').where('id', 'in', appCredIds).execute();
      }
      await trx.deleteFrom('access_rule').where('user_id', '=', id).execute();
      await trx.deleteFrom('credential').where('user_id', '=', id).execute();
      await trx
        .deleteFrom('assignment')
        .where('actor_id', '=', id)
        .where('type', 'in', ['UserProject', 'UserDomain', 'UserSystem'])
        .execute();
      await trx.deleteFrom('group_membership').where('user_id', '=', id).execute();
      await trx.deleteFrom('password').where('user_id', '=', id).execute();
      await trx.deleteFrom('identity_user').where('id', '=', id).execute();
    });
    await revoke(identity, { userId: id });
    return reply.code(204).send();
  });

  // Keystone's password change needs no token: the original password is the proof.
  app.post('/v3/users/:user_id/password', { config: { public: true } }, async (request, reply) => {
    const { user_id: id } = request.params as UserParams;
    const data = envelope(request, 'user');
    for (const key of ['original_password', 'password']) {
      if (data[key] === undefined) throw invalid('user', `'${key}' is a required property`);
      if (typeof data[key] !== 'string') throw invalid(`user/${key}`, "is not of type 'string'");
    }
    const extra = Object.keys(data).filter((k) => k !== 'original_password' && k !== 'password');
    if (extra.length > 0) {
      throw invalid(
        'user',
        `Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`,
      );
    }
    const original = data['original_password'] as string;
    const password = data['password'] as string;
    const user = await checkOriginal(identity, id, original);

    const options = parseJson(user.options);
    if (options['lock_password'] === true) {
      throw new BadRequest(
        'You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.',
      );
    }
    const s = identity.settings;
    const history = await db
      .selectFrom('password')
      .select(['hash', 'created_at', 'self_service', 'replaced_at'])
      .where('user_id', '=', id)
      .orderBy('id', 'desc')
      .execute();
    const current = history.find((p) => p.replaced_at === null);
    const now = new Date();
    if (current?.self_service && s.minimum_password_age_days > 0) {
      const minAge = current.created_at.getTime() + s.minimum_password_age_days * DAY_MS;
      if (now.getTime() < minAge) {
        const daysLeft = Math.floor((minAge - now.getTime()) / DAY_MS);
        throw new BadRequest(
          `You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${s.minimum_password_age_days} day(s) before it can be changed. Please try again in ${daysLeft} day(s) or contact your administrator to reset your password.`,
        );
      }
    }
    validatePassword(identity, password);
    const count = s.unique_last_password_count;
    if (count > 0) {
      for (const old of history.slice(0, count)) {
        if (await identity.hasher.verify(password, old.hash)) {
          throw new BadRequest(
            `The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${count}.`,
          );
        }
      }
    }
    const hash = await identity.hasher.hash(password);
    await db.transaction().execute(async (trx) => {
      await setPassword(trx, id, hash, passwordExpiry(identity, options, now, false), true, now);
    });
    await revoke(identity, { userId: id });
    return reply.code(204).send();
  });

  app.get('/v3/users/:user_id/groups', async (request) => {
    const { user_id: id } = request.params as UserParams;
    const user = await loadUser(db, id);
    authorize(identity, request, 'identity:list_groups_for_user', userTarget(id, user));
    if (!user) throw notFound('user', id);
    const name = stringQuery((request.query ?? {}) as Json, 'name');
    let q = db
      .selectFrom('identity_group')
      .innerJoin('group_membership', 'group_membership.group_id', 'identity_group.id')
      .selectAll('identity_group')
      .where('group_membership.user_id', '=', id);
    if (name !== undefined) q = q.where('identity_group.name', '=', name);
    let groups = await q.orderBy('identity_group.id').execute();
    const scopedDomain = request.context.domain_id;
    if (scopedDomain) groups = groups.filter((g) => g.domain_id === scopedDomain);
    return collection(
      request,
      'groups',
      groups.map((g) => ({ ...renderGroup(request, g), membership_expires_at: null })),
    );
  });

  // ---- groups ------------------------------------------------------------------------

  const parseGroup = (data: Json, create: boolean) => {
    if (create && data['name'] === undefined)
      throw invalid('group', "'name' is a required property");
    if (!create && Object.keys(data).length === 0)
      throw invalid('group', '{} does not have enough properties');
    const out: {
      name?: string;
      domain_id?: string;
      description?: string | null;
      id?: unknown;
      extra: Json;
    } = {
      extra: extraOf(data, GROUP_RESERVED),
    };
    // Keystone's schema allows 255 characters, its column 64: longer names cannot be stored.
    if (data['name'] !== undefined) out.name = checkName(data['name'], 'group/name', 64).trim();
    if (data['domain_id'] !== undefined) {
      if (!create)
        throw invalid(
          'group',
          "Additional properties are not allowed ('domain_id' was unexpected)",
        );
      out.domain_id = checkDomainId(data['domain_id'], 'group/domain_id');
    }
    if (data['description'] !== undefined) {
      out.description = checkNullableString(data['description'], 'group/description');
    }
    if (data['id'] !== undefined) out.id = data['id'];
    return out;
  };

  app.post('/v3/groups', async (request, reply) => {
    const data = envelope(request, 'group');
    const input = parseGroup(data, true);
    authorize(identity, request, 'identity:create_group', { group: data });
    const domainId = input.domain_id ?? request.context.domain_id ?? DEFAULT_DOMAIN_ID;
    await requireDomain(db, domainId);
    const name = input.name ?? '';
    const id = hexId();
    await storing(
      () =>
        db.transaction().execute(async (trx) => {
          await assertNameFree(trx, 'identity_group', domainId, name);
          await trx
            .insertInto('identity_group')
            .values({
              id,
              domain_id: domainId,
              name,
              description: input.description !== undefined ? input.description : '',
              extra: JSON.stringify(input.extra),
              created_at: new Date(),
            })
            .execute();
        }),
      () => duplicate('group', name, domainId),
    );
    const group = await loadGroup(db, id);
    if (!group) throw notFound('group', id);
    return reply.code(201).send({ group: renderGroup(request, group) });
  });

  app.get('/v3/groups', async (request) => {
    const query = (request.query ?? {}) as Json;
    const scopedDomain = request.context.domain_id;
    authorize(
      identity,
      request,
      'identity:list_groups',
      scopedDomain ? { group: { domain_id: scopedDomain } } : {},
    );
    let q = db.selectFrom('identity_group').selectAll();
    const name = stringQuery(query, 'name');
    const domainId = stringQuery(query, 'domain_id');
    if (name !== undefined) q = q.where('name', '=', name);
    if (domainId !== undefined) q = q.where('domain_id', '=', domainId);
    if (scopedDomain) q = q.where('domain_id', '=', scopedDomain);
    const groups = await q.orderBy('id').execute();
    return collection(
      request,
      'groups',
      groups.map((g) => renderGroup(request, g)),
    );
  });

  const groupTarget = (g: Selectable<GroupRow> | undefined): Json =>
    g ? { group: { id: g.id, domain_id: g.domain_id, name: g.name } } : {};

  app.get('/v3/groups/:group_id', async (request) => {
    const { group_id: id } = request.params as GroupParams;
    const group = await loadGroup(db, id);
    authorize(identity, request, 'identity:get_group', groupTarget(group));
    if (!group) throw notFound('group', id);
    return { group: renderGroup(request, group) };
  });

  app.patch('/v3/groups/:group_id', async (request) => {
    const { group_id: id } = request.params as GroupParams;
    const data = envelope(request, 'group');
    const input = parseGroup(data, false);
    const before = await loadGroup(db, id);
    authorize(identity, request, 'identity:update_group', groupTarget(before));
    if (input.id !== undefined && input.id !== null && input.id !== id) {
      throw new BadRequest('Cannot change ID');
    }
    if (!before) throw notFound('group', id);
    const name = input.name ?? before.name;
    await storing(
      () =>
        db.transaction().execute(async (trx) => {
          if (name !== before.name)
            await assertNameFree(trx, 'identity_group', before.domain_id, name, id);
          await trx
            .updateTable('identity_group')
            .set({
              name,
              description: input.description !== undefined ? input.description : before.description,
              extra: JSON.stringify({ ...parseJson(before.extra), ...input.extra }),
            })
            .where('id', '=', id)
            .execute();
        }),
      () => duplicate('group', name, before.domain_id),
    );
    const group = await loadGroup(db, id);
    if (!group) throw notFound('group', id);
    return { group: renderGroup(request, group) };
  });

  app.delete('/v3/groups/:group_id', async (request, reply) => {
    const { group_id: id } = request.params as GroupParams;
    const group = await loadGroup(db, id);
    authorize(identity, request, 'identity:delete_group', groupTarget(group));
    if (!group) throw notFound('group', id);
    const { members, hadRoles } = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('group_membership')
        .select('user_id')
        .where('group_id', '=', id)
        .execute();
      const removed = await trx
        .deleteFrom('assignment')
        .where('actor_id', '=', id)
        .where('type', 'in', ['GroupProject', 'GroupDomain', 'GroupSystem'])
        .executeTakeFirst();
      await trx.deleteFrom('group_membership').where('group_id', '=', id).execute();
      await trx.deleteFrom('identity_group').where('id', '=', id).execute();
      return { members: rows.map((r) => r.user_id), hadRoles: Number(removed.numDeletedRows) > 0 };
    });
    // As Keystone: the members' tokens go only when the group granted them roles.
    if (hadRoles) for (const userId of members) await revoke(identity, { userId });
    identity.tokens.invalidate();
    return reply.code(204).send();
  });

  app.get('/v3/groups/:group_id/users', async (request) => {
    const { group_id: id } = request.params as GroupParams;
    const group = await loadGroup(db, id);
    authorize(identity, request, 'identity:list_users_in_group', groupTarget(group));
    if (!group) throw notFound('group', id);
    const rows = await usersWithPassword(db)
      .innerJoin('group_membership', 'group_membership.user_id', 'identity_user.id')
      .where('group_membership.group_id', '=', id)
      .orderBy('identity_user.id')
      .execute();
    let users = filterUsers((request.query ?? {}) as Json, rows);
    const scopedDomain = request.context.domain_id;
    if (scopedDomain) users = users.filter((u) => u.domain_id === scopedDomain);
    return collection(
      request,
      'users',
      users.map((u) => renderUser(request, u)),
    );
  });

  const membership = async (request: FastifyRequest, action: string) => {
    const { group_id: groupId, user_id: userId } = request.params as MemberParams;
    const group = await loadGroup(db, groupId);
    const user = await loadUser(db, userId);
    authorize(identity, request, action, {
      ...groupTarget(group),
      ...(user ? { user: { id: user.id, domain_id: user.domain_id } } : {}),
      user_id: userId,
      group_id: groupId,
    });
    if (!group) throw notFound('group', groupId);
    if (!user) throw notFound('user', userId);
    const row = await db
      .selectFrom('group_membership')
      .select('user_id')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const missing = () => new NotFound(`User '${userId}' not found in group '${groupId}'`);
    return { groupId, userId, member: row !== undefined, missing };
  };

  app.get('/v3/groups/:group_id/users/:user_id', async (request, reply) => {
    const m = await membership(request, 'identity:check_user_in_group');
    if (!m.member) throw m.missing();
    return reply.code(204).send();
  });

  app.put('/v3/groups/:group_id/users/:user_id', async (request, reply) => {
    const m = await membership(request, 'identity:add_user_to_group');
    if (!m.member) {
      try {
        await db
          .insertInto('group_membership')
          .values({ group_id: m.groupId, user_id: m.userId })
          .execute();
      } catch (err) {
        // Added by someone else in between: the membership exists, as asked.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    // New roles through the group apply to existing tokens at their next validation.
    identity.tokens.invalidate();
    return reply.code(204).send();
  });

  app.delete('/v3/groups/:group_id/users/:user_id', async (request, reply) => {
    const m = await membership(request, 'identity:remove_user_from_group');
    if (!m.member) throw m.missing();
    await db
      .deleteFrom('group_membership')
      .where('group_id', '=', m.groupId)
      .where('user_id', '=', m.userId)
      .execute();
    await revoke(identity, { userId: m.userId });
    return reply.code(204).send();
  });
}

/**
 * The original password of a password change, checked as Keystone's authenticate does:
 * the user exists, is not locked out, the password matches (a failure counts towards
 * the lockout), the user is enabled. An expired password may still be changed.
 */
async function checkOriginal(
  identity: Identity,
  userId: string,
  password: string,
): Promise<Selectable<UserRow>> {
  const { db, settings } = identity;
  const user = await db
    .selectFrom('identity_user')
    .selectAll()
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) throw new Unauthorized(FAILED);
  const options = parseJson(user.options);
  const now = new Date();
  if (
    options['ignore_lockout_failure_attempts'] !== true &&
    settings.lockout_failure_attempts > 0 &&
    user.failed_auth_count >= settings.lockout_failure_attempts &&
    user.failed_auth_at &&
    now.getTime() - user.failed_auth_at.getTime() < settings.lockout_duration_s * 1000
  ) {
    throw new AccountLocked(`The account is locked for user: ${user.id}.`);
  }
  const current = await db
    .selectFrom('password')
    .select('hash')
    .where('user_id', '=', userId)
    .where('replaced_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  const ok = current ? await identity.hasher.verify(password, current.hash) : false;
  if (!ok) {
    await db
      .updateTable('identity_user')
      .set((eb) => ({ failed_auth_count: eb('failed_auth_count', '+', 1), failed_auth_at: now }))
      .where('id', '=', userId)
      .execute();
    throw new Unauthorized(FAILED);
  }
  if (!user.enabled) throw new Unauthorized(`The account is disabled for user: ${user.id}.`);
  if (user.failed_auth_count > 0) {
    await db
      .updateTable('identity_user')
      .set({ failed_auth_count: 0, failed_auth_at: null })
      .where('id', '=', userId)
      .execute();
  }
  return user;
}

/**
 * Names are unique per domain, for users and for groups: Keystone's 409 with its message,
 * checked inside the transaction that writes (the unique index backs it up).
 */
async function assertNameFree(
  trx: Kysely<IdentitySchema>,
  table: 'identity_user' | 'identity_group',
  domainId: string,
  name: string,
  exceptId?: string,
): Promise<void> {
  let q = trx
    .selectFrom(table)
    .select('id')
    .where('domain_id', '=', domainId)
    .where('name', '=', name);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst())
    throw duplicate(table === 'identity_user' ? 'user' : 'group', name, domainId);
}
