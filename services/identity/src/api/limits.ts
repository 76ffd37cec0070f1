import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, NotFound, hexId } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import type { Identity } from '../core/identity.js';
import type { IdentitySchema, ProjectLimitRow, RegisteredLimitRow } from '../store/schema.js';
import { filterString, invalid, member, optString } from './catalog.js';
import { authorize, collection, selfLink } from './http.js';

type Db = Kysely<IdentitySchema>;
type Body = Record<string, unknown>;

const MAX_LIMIT = 0x7fffffff;

export const LIMIT_MODEL = {
  name: 'flat',
  description:
    'Limit enforcement and validation does not take project hierarchy into consideration.',
} as const;

function noExtras(body: Body, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw invalid(where, `Additional properties are not allowed ('${key}' was unexpected)`);
  }
}

function limitValue(body: Body, field: string): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw invalid(field, `${JSON.stringify(v)} is not of type 'integer'`);
  if (v < -1) throw invalid(field, `${v} is less than the minimum of -1`);
  if (v > MAX_LIMIT) throw invalid(field, `${v} is greater than the maximum of ${MAX_LIMIT}`);
  return v;
}

/** The `{ <key>: [ {...}, ... ] }` body of a batch create. */
function list(request: FastifyRequest, key: string): Body[] {
  const body = request.body as Body | undefined;
  const items = body && typeof body === 'object' ? body[key] : undefined;
  if (items === undefined) throw new BadRequest(`'${key}' is a required property`);
  if (!Array.isArray(items)) throw invalid(key, `${JSON.stringify(items)} is not of type 'array'`);
  if (items.length === 0) throw invalid(key, '[] is too short');
  for (const item of items as unknown[]) {
    if (!item || typeof item !== 'object' || Array.isArray(item))
      throw invalid(key, `${JSON.stringify(item)} is not of type 'object'`);
  }
  return items as Body[];
}

/** Referenced service, region, project and domain must exist: 400 otherwise (Keystone). */
async function assertExists(
  db: Db,
  ref: { service_id?: string; region_id?: string | null; project_id?: string; domain_id?: string },
  target: string,
): Promise<{ project?: { is_domain: boolean } }> {
  const missing = (attribute: string) =>
    new BadRequest(
      `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
    );
  if (ref.service_id !== undefined) {
    const row = await db
      .selectFrom('service')
      .select('id')
      .where('id', '=', ref.service_id)
      .executeTakeFirst();
    if (!row) throw missing('service_id');
  }
  if (ref.region_id) {
    const row = await db
      .selectFrom('region')
      .select('id')
      .where('id', '=', ref.region_id)
      .executeTakeFirst();
    if (!row) throw missing('region_id');
  }
  const out: { project?: { is_domain: boolean } } = {};
  if (ref.project_id !== undefined) {
    const row = await db
      .selectFrom('project')
      .select('is_domain')
      .where('id', '=', ref.project_id)
      .executeTakeFirst();
    if (!row) throw missing('project_id');
    out.project = row;
  }
  if (ref.domain_id !== undefined) {
    const row = await db
      .selectFrom('project')
      .select('id')
      .where('id', '=', ref.domain_id)
      .where('is_domain', '=', true)
      .executeTakeFirst();
    if (!row) throw missing('domain_id');
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Registered limits

function renderRegistered(request: FastifyRequest, r: Selectable<RegisteredLimitRow>): Body {
  return {
    id: r.id,
    service_id: r.service_id,
    region_id: r.region_id,
    resource_name: r.resource_name,
    default_limit: r.default_limit,
    description: r.description,
    links: { self: selfLink(request, `registered_limits/${r.id}`) },
  };
}

const REGISTERED_FIELDS = [
  'service_id',
  'region_id',
  'resource_name',
  'default_limit',
  'description',
];

function checkRegistered(body: Body, where: string): void {
  noExtras(body, REGISTERED_FIELDS, where);
  optString(body, 'service_id');
  optString(body, 'region_id', { nullable: true, max: 255 });
  optString(body, 'resource_name', { min: 1, max: 255 });
  limitValue(body, 'default_limit');
  optString(body, 'description', { nullable: true });
}

async function findRegistered(
  db: Db,
  r: { service_id: string; region_id: string | null; resource_name: string },
): Promise<Selectable<RegisteredLimitRow> | undefined> {
  return db
    .selectFrom('registered_limit')
    .selectAll()
    .where('service_id', '=', r.service_id)
    .where('resource_name', '=', r.resource_name)
    .where((eb) =>
      r.region_id === null ? eb('region_id', 'is', null) : eb('region_id', '=', r.region_id),
    )
    .executeTakeFirst();
}

/** Limits that override a registered limit (same service, region and resource). */
async function limitsOf(db: Db, r: Selectable<RegisteredLimitRow>): Promise<boolean> {
  const row = await db
    .selectFrom('project_limit')
    .select('id')
    .where('service_id', '=', r.service_id)
    .where('resource_name', '=', r.resource_name)
    .where((eb) =>
      r.region_id === null ? eb('region_id', 'is', null) : eb('region_id', '=', r.region_id),
    )
    .executeTakeFirst();
  return row !== undefined;
}

const registeredConflict = () =>
  new Conflict('Conflict occurred attempting to store registered_limit - Duplicate entry');

function registerRegisteredLimitRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  const get = async (id: string): Promise<Selectable<RegisteredLimitRow>> => {
    const row = await db
      .selectFrom('registered_limit')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFound(`Could not find registered limit for ${id}.`);
    return row;
  };

  app.get('/v3/registered_limits', async (request) => {
    authorize(identity, request, 'identity:list_registered_limits');
    let q = db.selectFrom('registered_limit').selectAll();
    for (const field of ['service_id', 'region_id', 'resource_name'] as const) {
      const v = filterString(request.query, field);
      if (v !== undefined) q = q.where(field, '=', v);
    }
    const rows = await q.orderBy('id').execute();
    return collection(
      request,
      'registered_limits',
      rows.map((r) => renderRegistered(request, r)),
    );
  });

  app.post('/v3/registered_limits', async (request, reply) => {
    authorize(identity, request, 'identity:create_registered_limits');
    const items = list(request, 'registered_limits');
    const rows: Selectable<RegisteredLimitRow>[] = [];
    for (const item of items) {
      checkRegistered(item, 'registered_limits');
      for (const field of ['service_id', 'resource_name', 'default_limit']) {
        if (item[field] === undefined) throw new BadRequest(`'${field}' is a required property`);
      }
      const row = {
        id: hexId(),
        service_id: item['service_id'] as string,
        region_id: (item['region_id'] as string | null | undefined) ?? null,
        resource_name: item['resource_name'] as string,
        default_limit: item['default_limit'] as number,
        description: (item['description'] as string | null | undefined) ?? null,
      };
      await assertExists(db, row, 'registered_limit');
      const clash = rows.some(
        (r) =>
          r.service_id === row.service_id &&
          r.region_id === row.region_id &&
          r.resource_name === row.resource_name,
      );
      if (clash || (await findRegistered(db, row))) throw registeredConflict();
      rows.push(row);
    }
    await db.transaction().execute(async (trx) => {
      for (const row of rows) await trx.insertInto('registered_limit').values(row).execute();
    });
    return reply
      .code(201)
      .send({ registered_limits: rows.map((r) => renderRegistered(request, r)) });
  });

  app.get<{ Params: { id: string } }>('/v3/registered_limits/:id', async (request) => {
    authorize(identity, request, 'identity:get_registered_limit');
    return { registered_limit: renderRegistered(request, await get(request.params.id)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/registered_limits/:id', async (request) => {
    authorize(identity, request, 'identity:update_registered_limit');
    const changes = member(request, 'registered_limit');
    checkRegistered(changes, 'registered_limit');
    const current = await get(request.params.id);
    await assertExists(
      db,
      {
        ...(changes['service_id'] !== undefined
          ? { service_id: changes['service_id'] as string }
          : {}),
        ...(changes['region_id'] !== undefined
          ? { region_id: changes['region_id'] as string | null }
          : {}),
      },
      'registered_limit',
    );
    // As Keystone: a registered limit that limits refer to cannot change at all.
    if (await limitsOf(db, current)) {
      throw new Forbidden(
        `Unable to update or delete registered limit ${current.id} because there are project limits associated with it.`,
      );
    }
    const updated = { ...current };
    for (const field of REGISTERED_FIELDS) {
      if (changes[field] !== undefined)
        (updated as Record<string, unknown>)[field] = changes[field];
    }
    if (
      changes['service_id'] !== undefined ||
      changes['region_id'] !== undefined ||
      changes['resource_name'] !== undefined
    ) {
      const other = await findRegistered(db, updated);
      if (other && other.id !== current.id) throw registeredConflict();
    }
    const { id, ...set } = updated;
    await db.updateTable('registered_limit').set(set).where('id', '=', id).execute();
    return { registered_limit: renderRegistered(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/registered_limits/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_registered_limit');
    const current = await get(request.params.id);
    if (await limitsOf(db, current)) {
      throw new Forbidden(
        `Unable to update or delete registered limit ${current.id} because there are project limits associated with it.`,
      );
    }
    await db.deleteFrom('registered_limit').where('id', '=', current.id).execute();
    return reply.code(204).send();
  });
}

// ---------------------------------------------------------------------------------------
// Limits

function renderLimit(request: FastifyRequest, l: Selectable<ProjectLimitRow>): Body {
  return {
    id: l.id,
    project_id: l.project_id,
    domain_id: l.domain_id,
    service_id: l.service_id,
    region_id: l.region_id,
    resource_name: l.resource_name,
    resource_limit: l.resource_limit,
    description: l.description,
    links: { self: selfLink(request, `limits/${l.id}`) },
  };
}

const limitConflict = () =>
  new Conflict('Conflict occurred attempting to store limit - Duplicate entry');

function registerProjectLimitRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  const get = async (id: string): Promise<Selectable<ProjectLimitRow> | undefined> =>
    db.selectFrom('project_limit').selectAll().where('id', '=', id).executeTakeFirst();

  app.get('/v3/limits/model', async (request) => {
    authorize(identity, request, 'identity:get_limit_model');
    return { model: { ...LIMIT_MODEL } };
  });

  app.get('/v3/limits', async (request) => {
    authorize(identity, request, 'identity:list_limits');
    const ctx = request.context;
    let q = db.selectFrom('project_limit').selectAll();
    for (const field of [
      'service_id',
      'region_id',
      'resource_name',
      'project_id',
      'domain_id',
    ] as const) {
      const v = filterString(request.query, field);
      if (v !== undefined) q = q.where(field, '=', v);
    }
    const superuser =
      !!ctx.system_scope || ctx.roles.includes('admin') || ctx.roles.includes('service');
    let rows = await q.orderBy('id').execute();
    // Everyone else sees the limits of their own scope only (Keystone's list filtering).
    if (!superuser) {
      if (ctx.domain_id && !ctx.project_id) {
        const projects = await db
          .selectFrom('project')
          .select('id')
          .where('domain_id', '=', ctx.domain_id)
          .where('is_domain', '=', false)
          .execute();
        const ids = new Set(projects.map((p) => p.id));
        rows = rows.filter((l) =>
          l.project_id ? ids.has(l.project_id) : l.domain_id === ctx.domain_id,
        );
      } else if (ctx.project_id) {
        rows = rows.filter((l) => l.project_id === ctx.project_id);
      } else {
        rows = [];
      }
    }
    return collection(
      request,
      'limits',
      rows.map((l) => renderLimit(request, l)),
    );
  });

  app.post('/v3/limits', async (request, reply) => {
    authorize(identity, request, 'identity:create_limits');
    const items = list(request, 'limits');
    const rows: Selectable<ProjectLimitRow>[] = [];
    for (const item of items) {
      noExtras(
        item,
        [
          'service_id',
          'region_id',
          'resource_name',
          'resource_limit',
          'description',
          'project_id',
          'domain_id',
        ],
        'limits',
      );
      for (const field of ['service_id', 'resource_name', 'resource_limit']) {
        if (item[field] === undefined) throw new BadRequest(`'${field}' is a required property`);
      }
      optString(item, 'service_id');
      optString(item, 'region_id', { nullable: true, max: 255 });
      optString(item, 'resource_name', { min: 1, max: 255 });
      optString(item, 'description', { nullable: true });
      optString(item, 'project_id');
      optString(item, 'domain_id');
      limitValue(item, 'resource_limit');
      if ((item['project_id'] === undefined) === (item['domain_id'] === undefined))
        throw invalid('limits', 'a limit needs exactly one of project_id and domain_id');
      let projectId = (item['project_id'] as string | undefined) ?? null;
      let domainId = (item['domain_id'] as string | undefined) ?? null;
      const ref = {
        service_id: item['service_id'] as string,
        region_id: (item['region_id'] as string | null | undefined) ?? null,
        ...(projectId !== null ? { project_id: projectId } : {}),
        ...(domainId !== null ? { domain_id: domainId } : {}),
      };
      const found = await assertExists(db, ref, 'limit');
      // A project id naming a domain makes a domain limit (Keystone treats it so).
      if (found.project?.is_domain) {
        domainId = projectId;
        projectId = null;
      }
      const row: Selectable<ProjectLimitRow> = {
        id: hexId(),
        project_id: projectId,
        domain_id: domainId,
        service_id: ref.service_id,
        region_id: ref.region_id,
        resource_name: item['resource_name'] as string,
        resource_limit: item['resource_limit'] as number,
        description: (item['description'] as string | null | undefined) ?? null,
      };
      if (!(await findRegistered(db, row)))
        throw new Forbidden('Unable to create a limit that has no corresponding registered limit.');
      const same = (l: Selectable<ProjectLimitRow>) =>
        l.service_id === row.service_id &&
        l.region_id === row.region_id &&
        l.resource_name === row.resource_name &&
        l.project_id === row.project_id &&
        l.domain_id === row.domain_id;
      if (rows.some(same)) throw limitConflict();
      let existing = db
        .selectFrom('project_limit')
        .selectAll()
        .where('service_id', '=', row.service_id)
        .where('resource_name', '=', row.resource_name);
      existing =
        row.project_id !== null
          ? existing.where('project_id', '=', row.project_id)
          : existing.where('domain_id', '=', row.domain_id ?? '');
      if ((await existing.execute()).some(same)) throw limitConflict();
      rows.push(row);
    }
    await db.transaction().execute(async (trx) => {
      for (const row of rows) await trx.insertInto('project_limit').values(row).execute();
    });
    return reply.code(201).send({ limits: rows.map((l) => renderLimit(request, l)) });
  });

  app.get<{ Params: { id: string } }>('/v3/limits/:id', async (request) => {
    const row = await get(request.params.id);
    // The policy target names the limit's project or domain (Keystone's build_target).
    const target: Body = {};
    if (row) {
      const limit: Body = { ...row };
      if (row.project_id) {
        const project = await db
          .selectFrom('project')
          .select(['id', 'domain_id'])
          .where('id', '=', row.project_id)
          .executeTakeFirst();
        if (project) limit['project'] = project;
      } else if (row.domain_id) {
        limit['domain'] = { id: row.domain_id };
      }
      target['limit'] = limit;
    }
    authorize(identity, request, 'identity:get_limit', target);
    if (!row) throw new NotFound(`Could not find limit for ${request.params.id}.`);
    return { limit: renderLimit(request, row) };
  });

  app.patch<{ Params: { id: string } }>('/v3/limits/:id', async (request) => {
    authorize(identity, request, 'identity:update_limit');
    const changes = member(request, 'limit');
    noExtras(changes, ['resource_limit', 'description', 'id'], 'limit');
    if (changes['id'] !== undefined && changes['id'] !== request.params.id)
      throw new BadRequest('Cannot change ID');
    const value = limitValue(changes, 'resource_limit');
    const description = optString(changes, 'description', { nullable: true });
    const current = await get(request.params.id);
    if (!current) throw new NotFound(`Could not find limit for ${request.params.id}.`);
    const updated = {
      ...current,
      ...(value !== undefined ? { resource_limit: value } : {}),
      ...(description !== undefined ? { description } : {}),
    };
    await db
      .updateTable('project_limit')
      .set({ resource_limit: updated.resource_limit, description: updated.description })
      .where('id', '=', current.id)
      .execute();
    return { limit: renderLimit(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/limits/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_limit');
    const current = await get(request.params.id);
    if (!current) throw new NotFound(`Could not find limit for ${request.params.id}.`);
    await db.deleteFrom('project_limit').where('id', '=', current.id).execute();
    return reply.code(204).send();
  });
}

/** Unified limits: /v3/registered_limits, /v3/limits and /v3/limits/model (flat model). */
export function registerLimitRoutes(app: ApiServer, identity: Identity): void {
  registerRegisteredLimitRoutes(app, identity);
  registerProjectLimitRoutes(app, identity);
}
