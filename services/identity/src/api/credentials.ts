import { createHash, randomBytes } from 'node:crypto';
import type { ApiServer } from '@stratus/api-kit';
import {
  BadRequest,
  Conflict,
  Forbidden,
  NotFound,
  hexId,
  isoMicrosNaive,
  parseTimestamp,
} from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { credentialCipher, type CredentialCipher } from '../core/credential-keys.js';
import type { Identity } from '../core/identity.js';
import { withImpliedRoles } from '../core/roles.js';
import type { TokenData } from '../core/token-data.js';
import type { ApplicationCredentialRow, CredentialRow, IdentitySchema } from '../store/schema.js';
import { validateToken } from './auth.js';
import { extraOf, filterString, invalid, member, optString } from './catalog.js';
import { authorize, collection, notFound, parseJson, selfLink } from './http.js';

type Db = Kysely<IdentitySchema>;
type Body = Record<string, unknown>;

const forbiddenAction = (action: string): InstanceType<typeof Forbidden> =>
  new Forbidden(`You are not authorized to perform the requested action: ${action}.`);

/** What the caller's token stands for (its app credential, its roles), resolved again. */
async function callerToken(identity: Identity, request: FastifyRequest): Promise<TokenData> {
  const token = request.context.auth_token;
  if (!token) throw new Forbidden();
  return validateToken(identity, token);
}

/** Keystone refuses restricted application credentials managing further credentials. */
function checkUnrestricted(token: TokenData, what: string): void {
  if (token.appCred && !token.appCred.unrestricted) {
    throw forbiddenAction(
      `Using method 'application_credential' is not allowed for managing additional ${what}`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Credentials (/v3/credentials)

interface Credential {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: Body;
}

function decryptRow(cipher: CredentialCipher, row: Selectable<CredentialRow>): Credential {
  return {
    id: row.id,
    user_id: row.user_id,
    project_id: row.project_id,
    type: row.type,
    blob: cipher.decrypt(row.encrypted_blob),
    extra: parseJson(row.extra),
  };
}

function renderCredential(request: FastifyRequest, c: Credential): Body {
  return {
    ...c.extra,
    id: c.id,
    user_id: c.user_id,
    project_id: c.project_id,
    type: c.type,
    blob: c.blob,
    links: { self: selfLink(request, `credentials/${c.id}`) },
  };
}

/** An ec2 blob is a JSON object with an `access` key (Keystone's _validate_blob_json). */
function ec2Blob(blob: unknown): Body {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(blob));
  } catch {
    throw new BadRequest('Invalid blob in credential');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new BadRequest('Expecting to find blob in credential.');
  if ((parsed as Body)['access'] === undefined || (parsed as Body)['access'] === null)
    throw new BadRequest('Expecting to find access in credential.');
  return parsed as Body;
}

/**
 * Tokens made from an application credential are bound to its project: they only
 * reach credentials of that project (Keystone's _check_credential_project_scope).
 */
function checkDelegatedScope(token: TokenData, projectId: string | null | undefined): void {
  if (token.appCred && (projectId ?? null) !== (token.project?.id ?? null)) {
    throw forbiddenAction(
      'Credential project does not match the project scope of the delegated token',
    );
  }
}

const CREDENTIAL_COLUMNS = ['user_id', 'project_id', 'type', 'blob'];

function checkCredentialBody(credential: Body): void {
  optString(credential, 'blob');
  optString(credential, 'type');
  optString(credential, 'user_id');
  optString(credential, 'project_id', { nullable: true });
}

function registerCredentialCrud(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  const load = async (
    id: string,
  ): Promise<{ row: Selectable<CredentialRow> | undefined; credential?: Credential }> => {
    const row = await db
      .selectFrom('credential')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return { row };
    return { row, credential: decryptRow(await credentialCipher(identity), row) };
  };

  app.get('/v3/credentials', async (request) => {
    const ctx = request.context;
    authorize(identity, request, 'identity:list_credentials', {
      credential: ctx.system_scope ? {} : { user_id: ctx.user_id },
    });
    const token = await callerToken(identity, request);
    const userId = filterString(request.query, 'user_id');
    const type = filterString(request.query, 'type');
    let q = db.selectFrom('credential').selectAll().orderBy('id');
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    if (type !== undefined) q = q.where('type', '=', type);
    const rows = await q.execute();
    const visible = rows.filter(
      (row) =>
        identity.enforcer.enforce(
          'identity:get_credential',
          { target: { credential: row }, credential: row },
          ctx,
        ) &&
        (!token.appCred || row.project_id === (token.project?.id ?? null)),
    );
    const cipher = visible.length > 0 ? await credentialCipher(identity) : undefined;
    return collection(
      request,
      'credentials',
      visible.map((row) => renderCredential(request, decryptRow(cipher!, row))),
    );
  });

  app.post('/v3/credentials', async (request, reply) => {
    const credential = member(request, 'credential');
    authorize(identity, request, 'identity:create_credential', { credential });
    for (const field of ['blob', 'type', 'user_id']) {
      if (credential[field] === undefined)
        throw new BadRequest(`'${field}' is a required property`);
    }
    checkCredentialBody(credential);
    const type = credential['type'] as string;
    const isEc2 = type.toLowerCase() === 'ec2';
    if (isEc2 && credential['project_id'] === undefined)
      throw new BadRequest("'project_id' is a required property");
    const token = await callerToken(identity, request);
    if (isEc2) checkUnrestricted(token, 'credentials');
    checkDelegatedScope(token, credential['project_id'] as string | null | undefined);
    let blob = credential['blob'] as string;
    let id = hexId();
    if (isEc2) {
      const parsed = ec2Blob(blob);
      // The id is derived from the access key, so that ec2tokens can find it by access.
      id = createHash('sha256').update(String(parsed['access']), 'utf8').digest('hex');
      if (token.appCred) {
        // Credentials made with an app credential yield app-credential-scoped tokens.
        blob = JSON.stringify({ ...parsed, app_cred_id: token.appCred.id });
      }
    }
    const user = await db
      .selectFrom('identity_user')
      .select('id')
      .where('id', '=', credential['user_id'] as string)
      .executeTakeFirst();
    if (!user) throw notFound('user', credential['user_id'] as string);
    const { encryptedBlob, keyHash } = (await credentialCipher(identity)).encrypt(blob);
    const c: Credential = {
      id,
      user_id: credential['user_id'] as string,
      project_id: (credential['project_id'] as string | null | undefined) ?? null,
      type,
      blob,
      extra: extraOf(credential, CREDENTIAL_COLUMNS),
    };
    const conflict = () =>
      new Conflict(`Conflict occurred attempting to store credential - Duplicate ID, ${id}.`);
    const exists = await db
      .selectFrom('credential')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (exists) throw conflict();
    try {
      await db
        .insertInto('credential')
        .values({
          id,
          user_id: c.user_id,
          project_id: c.project_id,
          type,
          encrypted_blob: encryptedBlob,
          key_hash: keyHash,
          extra: JSON.stringify(c.extra),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict();
      throw err;
    }
    return reply.code(201).send({ credential: renderCredential(request, c) });
  });

  app.get<{ Params: { id: string } }>('/v3/credentials/:id', async (request) => {
    const { credential } = await load(request.params.id);
    // As Keystone: policy first (a non-owner learns nothing), existence second.
    authorize(identity, request, 'identity:get_credential', credential ? { credential } : {});
    if (!credential) throw notFound('credential', request.params.id);
    checkDelegatedScope(await callerToken(identity, request), credential.project_id);
    return { credential: renderCredential(request, credential) };
  });

  app.patch<{ Params: { id: string } }>('/v3/credentials/:id', async (request) => {
    const id = request.params.id;
    const { credential: current } = await load(id);
    authorize(
      identity,
      request,
      'identity:update_credential',
      current ? { credential: current } : {},
    );
    if (!current) throw notFound('credential', id);
    checkDelegatedScope(await callerToken(identity, request), current.project_id);
    const changes = member(request, 'credential', 1);
    checkCredentialBody(changes);
    if (changes['id'] !== undefined && changes['id'] !== id)
      throw new BadRequest('Cannot change ID');
    if (current.type.toLowerCase() === 'ec2' && changes['blob'] !== undefined) {
      const next = ec2Blob(changes['blob']);
      const prev = ec2Blob(current.blob);
      // The scope a credential was made with cannot be changed or dropped.
      for (const key of ['trust_id', 'app_cred_id', 'access_token_id', 'access_id']) {
        if (prev[key] !== next[key])
          throw new BadRequest(`${key} can not be updated for credential`);
      }
    }
    const updated: Credential = {
      id,
      user_id: (changes['user_id'] as string | undefined) ?? current.user_id,
      project_id:
        changes['project_id'] !== undefined
          ? (changes['project_id'] as string | null)
          : current.project_id,
      type: (changes['type'] as string | undefined) ?? current.type,
      blob: (changes['blob'] as string | undefined) ?? current.blob,
      extra: { ...current.extra, ...extraOf(changes, CREDENTIAL_COLUMNS) },
    };
    // The owner may not hand the credential to somebody else.
    authorize(identity, request, 'identity:update_credential', { credential: updated });
    const { encryptedBlob, keyHash } = (await credentialCipher(identity)).encrypt(updated.blob);
    await db
      .updateTable('credential')
      .set({
        user_id: updated.user_id,
        project_id: updated.project_id,
        type: updated.type,
        encrypted_blob: encryptedBlob,
        key_hash: keyHash,
        extra: JSON.stringify(updated.extra),
      })
      .where('id', '=', id)
      .execute();
    return { credential: renderCredential(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/credentials/:id', async (request, reply) => {
    const id = request.params.id;
    const row = await db
      .selectFrom('credential')
      .select(['id', 'user_id', 'project_id'])
      .where('id', '=', id)
      .executeTakeFirst();
    authorize(identity, request, 'identity:delete_credential', row ? { credential: row } : {});
    if (!row) throw notFound('credential', id);
    checkDelegatedScope(await callerToken(identity, request), row.project_id);
    await db.deleteFrom('credential').where('id', '=', id).execute();
    return reply.code(204).send();
  });
}

// ---------------------------------------------------------------------------------------
// Application credentials and access rules (/v3/users/{user_id}/...)

interface AccessRule {
  id: string;
  service: string;
  path: string;
  method: string;
}

const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'];

/** 64 random bytes, url-safe base64 without padding, as Keystone generates secrets. */
function generateSecret(): string {
  return randomBytes(64).toString('base64url');
}

function renderAccessRule(request: FastifyRequest, r: AccessRule): Body {
  return {
    id: r.id,
    service: r.service,
    path: r.path,
    method: r.method,
    // Keystone's link, though it serves access rules only under /v3/users/{user_id}.
    links: { self: selfLink(request, `access_rules/${r.id}`) },
  };
}

async function renderAppCred(
  db: Db,
  request: FastifyRequest,
  a: Selectable<ApplicationCredentialRow>,
  secret?: string,
): Promise<Body> {
  const roles = await db
    .selectFrom('application_credential_role')
    .innerJoin('role', 'role.id', 'application_credential_role.role_id')
    .select(['role.id', 'role.name', 'role.domain_id'])
    .where('application_credential_role.application_credential_id', '=', a.id)
    .orderBy('role.name')
    .execute();
  const rules = await db
    .selectFrom('application_credential_access_rule')
    .innerJoin('access_rule', 'access_rule.id', 'application_credential_access_rule.access_rule_id')
    .select(['access_rule.id', 'access_rule.service', 'access_rule.path', 'access_rule.method'])
    .where('application_credential_access_rule.application_credential_id', '=', a.id)
    .orderBy('access_rule.id')
    .execute();
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    expires_at: a.expires_at ? withMicros(a.expires_at, a.expires_at_micros) : null,
    project_id: a.project_id,
    roles: roles.map((r) => ({ id: r.id, name: r.name, domain_id: r.domain_id || null })),
    unrestricted: a.unrestricted,
    access_rules: rules.map((r) => ({
      id: r.id,
      service: r.service,
      path: r.path,
      method: r.method,
    })),
    ...(secret !== undefined ? { secret } : {}),
    links: { self: selfLink(request, `users/${a.user_id}/application_credentials/${a.id}`) },
  };
}

interface AppCredInput {
  name: string;
  description: string | null;
  secret: string;
  expiresAt: Date | null;
  /** The fraction of a second the client gave, in microseconds. */
  expiresMicros: number | null;
  unrestricted: boolean;
  roles: Array<{ id?: string; name?: string }>;
  accessRules: Array<Partial<AccessRule>> | undefined;
}

/** The create body, checked as Keystone's schema does (additional properties refused). */
function parseAppCred(body: Body): AppCredInput {
  const allowed = [
    'id',
    'name',
    'description',
    'secret',
    'expires_at',
    'roles',
    'access_rules',
    'unrestricted',
    'project_id',
    'system',
  ];
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw invalid(
        'application_credential',
        `Additional properties are not allowed ('${key}' was unexpected)`,
      );
  }
  if (body['name'] === undefined) throw new BadRequest("'name' is a required property");
  const name = optString(body, 'name', { min: 1, max: 255 }) as string;
  const description = optString(body, 'description', { nullable: true }) ?? null;
  const secret = optString(body, 'secret', { nullable: true }) || generateSecret();
  const expires = optString(body, 'expires_at', { nullable: true });
  let expiresAt: Date | null = null;
  let expiresMicros: number | null = null;
  if (expires) {
    const parsed = parseTimestamp(expires);
    if (!parsed) throw invalid('expires_at', `'${expires}' is not a 'date-time'`);
    if (parsed.getTime() < Date.now())
      throw new BadRequest(
        "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
      );
    expiresAt = parsed;
    const fraction = /\.(\d+)/.exec(expires)?.[1];
    expiresMicros = fraction ? Number(fraction.slice(0, 6).padEnd(6, '0')) : 0;
  }
  const unrestrictedValue = body['unrestricted'];
  if (
    unrestrictedValue !== undefined &&
    unrestrictedValue !== null &&
    typeof unrestrictedValue !== 'boolean'
  )
    throw invalid(
      'unrestricted',
      `${JSON.stringify(unrestrictedValue)} is not of type 'boolean', 'null'`,
    );
  const roles = body['roles'] ?? [];
  if (!Array.isArray(roles))
    throw invalid('roles', `${JSON.stringify(roles)} is not of type 'array'`);
  for (const role of roles as unknown[]) {
    const r = role as Body;
    const keys = r && typeof r === 'object' ? Object.keys(r) : [];
    if (keys.length !== 1 || !['id', 'name'].includes(keys[0]!) || typeof r[keys[0]!] !== 'string')
      throw invalid('roles', `${JSON.stringify(role)} must have exactly one of 'id' or 'name'`);
  }
  const rules = body['access_rules'];
  let accessRules: Array<Partial<AccessRule>> | undefined;
  if (rules !== undefined && rules !== null) {
    if (!Array.isArray(rules))
      throw invalid('access_rules', `${JSON.stringify(rules)} is not of type 'array'`);
    accessRules = [];
    for (const rule of rules as unknown[]) {
      if (!rule || typeof rule !== 'object' || Array.isArray(rule))
        throw invalid('access_rules', `${JSON.stringify(rule)} is not of type 'object'`);
      const r = rule as Body;
      for (const key of Object.keys(r)) {
        if (!['id', 'service', 'path', 'method'].includes(key))
          throw invalid(
            'access_rules',
            `Additional properties are not allowed ('${key}' was unexpected)`,
          );
      }
      const id = optString(r, 'id', { min: 1, max: 64 }) ?? undefined;
      const service = optString(r, 'service', { min: 1, max: 64 }) ?? undefined;
      const path = optString(r, 'path', { max: 225 }) ?? undefined;
      const method = optString(r, 'method') ?? undefined;
      if (path !== undefined && !path.startsWith('/'))
        throw invalid('path', `'${path}' does not match '^/.*'`);
      if (method !== undefined && !METHODS.includes(method))
        throw invalid('method', `'${method}' is not one of ${JSON.stringify(METHODS)}`);
      accessRules.push({
        ...(id !== undefined ? { id } : {}),
        ...(service !== undefined ? { service } : {}),
        ...(path !== undefined ? { path } : {}),
        ...(method !== undefined ? { method } : {}),
      });
    }
  }
  return {
    name,
    description,
    secret,
    expiresAt,
    expiresMicros,
    unrestricted: unrestrictedValue === true,
    roles: roles as Array<{ id?: string; name?: string }>,
    accessRules,
  };
}

/**
 * The roles the credential gets: those asked for (by id or name) with every role they
 * imply, all of which the creating token must carry; or, when none are asked for, the
 * token's own roles (Keystone's _get_roles).
 */
async function appCredRoles(
  db: Db,
  asked: AppCredInput['roles'],
  token: TokenData,
): Promise<string[]> {
  const held = new Set(token.roles.map((r) => r.id));
  if (asked.length === 0) return [...held];
  const ids: string[] = [];
  for (const role of asked) {
    if (role.id !== undefined) {
      ids.push(role.id);
      continue;
    }
    const rows = await db
      .selectFrom('role')
      .select('id')
      .where('name', '=', role.name ?? '')
      .where('domain_id', '=', '')
      .execute();
    if (rows.length === 0) throw new NotFound(`Could not find role: ${role.name}.`);
    ids.push(rows[0]!.id);
  }
  const all = await withImpliedRoles(db, ids);
  for (const id of all) {
    if (!held.has(id))
      throw new BadRequest(
        'Invalid application credential: Cannot create an application credential with unassigned role',
      );
  }
  return all;
}

function registerAppCredRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;
  const base = '/v3/users/:user_id/application_credentials';
  type Params = { user_id: string; id: string };

  app.get<{ Params: { user_id: string } }>(base, async (request) => {
    const userId = request.params.user_id;
    authorize(identity, request, 'identity:list_application_credentials', { user_id: userId });
    const name = filterString(request.query, 'name');
    let q = db.selectFrom('application_credential').selectAll().where('user_id', '=', userId);
    if (name !== undefined) q = q.where('name', '=', name);
    const rows = await q.orderBy('name').execute();
    const items = [];
    for (const row of rows) items.push(await renderAppCred(db, request, row));
    return collection(request, 'application_credentials', items);
  });

  app.post<{ Params: { user_id: string } }>(base, async (request, reply) => {
    const userId = request.params.user_id;
    authorize(identity, request, 'identity:create_application_credential', { user_id: userId });
    const token = await callerToken(identity, request);
    checkUnrestricted(token, 'application credentials');
    if (token.user.id !== userId)
      throw forbiddenAction('Cannot create an application credential for another user');
    if (!token.project)
      throw forbiddenAction(
        'An application credential can only be created with a project-scoped token',
      );
    const input = parseAppCred(member(request, 'application_credential'));
    const roleIds = await appCredRoles(db, input.roles, token);
    const duplicate = () =>
      new Conflict(
        'Conflict occurred attempting to store application_credential - Duplicate entry.',
      );
    const taken = await db
      .selectFrom('application_credential')
      .select('id')
      .where('user_id', '=', userId)
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (taken) throw duplicate();
    const row: Selectable<ApplicationCredentialRow> = {
      id: hexId(),
      name: input.name,
      user_id: userId,
      project_id: token.project.id,
      system: null,
      secret_hash: await identity.hasher.hash(input.secret),
      description: input.description,
      expires_at: input.expiresAt,
      expires_at_micros: input.expiresMicros,
      unrestricted: input.unrestricted,
      created_at: new Date(),
    };
    try {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('application_credential').values(row).execute();
        for (const roleId of roleIds) {
          await trx
            .insertInto('application_credential_role')
            .values({ application_credential_id: row.id, role_id: roleId })
            .execute();
        }
        const linked = new Set<string>();
        for (const rule of input.accessRules ?? []) {
          let found: { id: string } | undefined;
          if (rule.id !== undefined) {
            found = await trx
              .selectFrom('access_rule')
              .select('id')
              .where('id', '=', rule.id)
              .where('user_id', '=', userId)
              .executeTakeFirst();
          }
          if (
            !found &&
            rule.service !== undefined &&
            rule.path !== undefined &&
            rule.method !== undefined
          ) {
            // An identical rule of the user's is shared rather than duplicated.
            found = await trx
              .selectFrom('access_rule')
              .select('id')
              .where('user_id', '=', userId)
              .where('service', '=', rule.service)
              .where('path', '=', rule.path)
              .where('method', '=', rule.method)
              .executeTakeFirst();
            if (!found) {
              found = { id: rule.id ?? hexId() };
              await trx
                .insertInto('access_rule')
                .values({
                  id: found.id,
                  user_id: userId,
                  service: rule.service,
                  path: rule.path,
                  method: rule.method,
                })
                .execute();
            }
          }
          if (!found) {
            if (rule.id !== undefined)
              throw new NotFound(`Could not find Access Rule: ${rule.id}.`);
            throw invalid(
              'access_rules',
              "an access rule needs 'service', 'path' and 'method', or the 'id' of an existing one",
            );
          }
          if (linked.has(found.id)) continue;
          linked.add(found.id);
          await trx
            .insertInto('application_credential_access_rule')
            .values({ application_credential_id: row.id, access_rule_id: found.id })
            .execute();
        }
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate();
      throw err;
    }
    return reply
      .code(201)
      .send({ application_credential: await renderAppCred(db, request, row, input.secret) });
  });

  /** The app credential of the path's user; its owner is what policy checks. */
  const find = async (
    request: FastifyRequest<{ Params: Params }>,
    action: string,
  ): Promise<Selectable<ApplicationCredentialRow>> => {
    const { user_id: userId, id } = request.params;
    const row = await db
      .selectFrom('application_credential')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    // The owner comes from the credential, not from the path (Keystone closed that hole).
    authorize(identity, request, action, { user_id: row ? row.user_id : userId });
    if (!row || row.user_id !== userId)
      throw new NotFound(`Could not find Application Credential: ${id}.`);
    return row;
  };

  app.get<{ Params: Params }>(`${base}/:id`, async (request) => {
    const row = await find(request, 'identity:get_application_credential');
    return { application_credential: await renderAppCred(db, request, row) };
  });

  app.delete<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
    const row = await find(request, 'identity:delete_application_credential');
    checkUnrestricted(await callerToken(identity, request), 'application credentials');
    await db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('application_credential_access_rule')
        .where('application_credential_id', '=', row.id)
        .execute();
      await trx
        .deleteFrom('application_credential_role')
        .where('application_credential_id', '=', row.id)
        .execute();
      await trx.deleteFrom('application_credential').where('id', '=', row.id).execute();
    });
    // Tokens made from it stop working at once: every validation resolves the token's
    // application credential again (core/token-data.ts) and fails when it is gone, which
    // is exactly what Keystone does. No revocation event is written: the revocation model
    // has no application-credential field, and the narrowest event it can express
    // (user + project) would also kill the user's own password tokens on that project.
    identity.tokens.invalidate();
    return reply.code(204).send();
  });

  const rules = '/v3/users/:user_id/access_rules';

  app.get<{ Params: { user_id: string } }>(rules, async (request) => {
    const userId = request.params.user_id;
    authorize(identity, request, 'identity:list_access_rules', { user: { id: userId } });
    let q = db.selectFrom('access_rule').selectAll().where('user_id', '=', userId);
    for (const field of ['service', 'path', 'method'] as const) {
      const v = filterString(request.query, field);
      if (v !== undefined) q = q.where(field, '=', v);
    }
    const rows = await q.orderBy('id').execute();
    return collection(
      request,
      'access_rules',
      rows.map((r) => renderAccessRule(request, r)),
    );
  });

  const findRule = async (
    request: FastifyRequest<{ Params: Params }>,
    action: string,
  ): Promise<AccessRule> => {
    const { user_id: userId, id } = request.params;
    authorize(identity, request, action, { user: { id: userId } });
    const row = await db
      .selectFrom('access_rule')
      .select(['id', 'service', 'path', 'method'])
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) throw new NotFound(`Could not find Access Rule: ${id}.`);
    return row;
  };

  app.get<{ Params: Params }>(`${rules}/:id`, async (request) => {
    return {
      access_rule: renderAccessRule(request, await findRule(request, 'identity:get_access_rule')),
    };
  });

  app.delete<{ Params: Params }>(`${rules}/:id`, async (request, reply) => {
    const rule = await findRule(request, 'identity:delete_access_rule');
    const used = await db
      .selectFrom('application_credential_access_rule')
      .select('application_credential_id')
      .where('access_rule_id', '=', rule.id)
      .executeTakeFirst();
    if (used) throw new Forbidden('May not delete access rule in use');
    await db.deleteFrom('access_rule').where('id', '=', rule.id).execute();
    return reply.code(204).send();
  });
}

/**
 * Credentials (/v3/credentials, blobs encrypted at rest under the credential key
 * repository), application credentials and their access rules (/v3/users/{user_id}/…).
 */
export function registerCredentialRoutes(app: ApiServer, identity: Identity): void {
  registerCredentialCrud(app, identity);
  registerAppCredRoutes(app, identity);
}

/** `expires_at` as Keystone prints it, with the microseconds the client sent. */
function withMicros(at: Date, micros: number | null): string {
  const text = isoMicrosNaive(at);
  return micros === null ? text : `${text.slice(0, 19)}.${String(micros).padStart(6, '0')}`;
}
