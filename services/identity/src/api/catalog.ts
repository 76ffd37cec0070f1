import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, hexId } from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import type { Identity } from '../core/identity.js';
import type { EndpointRow, IdentitySchema } from '../store/schema.js';
import { authorize, collection, notFound, parseJson, queryBool, selfLink } from './http.js';

type Db = Kysely<IdentitySchema>;
type Body = Record<string, unknown>;
type RegionRow = IdentitySchema['region'];
type ServiceRow = IdentitySchema['service'];

const INTERFACES = ['admin', 'internal', 'public'];
/** Keystone's endpoint URL schema: a scheme, a colon, something. */
const URL_PATTERN = /^[a-zA-Z0-9+.-]+:.+/;

// ---------------------------------------------------------------------------------------
// Request body checks, worded as Keystone's jsonschema validation errors.

export function invalid(field: string, why: string): InstanceType<typeof BadRequest> {
  return new BadRequest(`Invalid input for field '${field}': ${why}`);
}

/** The `{ <key>: {...} }` envelope of a create or update request. */
export function member(request: FastifyRequest, key: string, minProperties = 0): Body {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequest(`'${key}' is a required property`);
  const value = (body as Body)[key];
  if (value === undefined) throw new BadRequest(`'${key}' is a required property`);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw invalid(key, `${JSON.stringify(value)} is not of type 'object'`);
  if (Object.keys(value).length < minProperties)
    throw invalid(key, `${JSON.stringify(value)} does not have enough properties`);
  return value as Body;
}

export function optString(
  body: Body,
  field: string,
  opts: { nullable?: boolean; min?: number; max?: number } = {},
): string | null | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (v === null && opts.nullable) return null;
  if (typeof v !== 'string')
    throw invalid(
      field,
      `${JSON.stringify(v)} is not of type 'string'${opts.nullable ? ", 'null'" : ''}`,
    );
  if (opts.min !== undefined && v.length < opts.min) throw invalid(field, `'${v}' is too short`);
  if (opts.max !== undefined && v.length > opts.max) throw invalid(field, `'${v}' is too long`);
  return v;
}

export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(field, `${JSON.stringify(v)} is not of type 'boolean'`);
  return v;
}

/** PATCH bodies may repeat the id, but not change it (Keystone's _require_matching_id). */
export function requireMatchingId(body: Body, id: string): void {
  if (body['id'] !== undefined && body['id'] !== id) throw new BadRequest('Cannot change ID');
}

/** What Keystone keeps in `extra`: every attribute without a column of its own. */
export function extraOf(body: Body, columns: readonly string[]): Body {
  const extra: Body = {};
  for (const [k, v] of Object.entries(body)) {
    if (!columns.includes(k) && k !== 'links' && k !== 'id') extra[k] = v;
  }
  return extra;
}

export function filterString(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

// ---------------------------------------------------------------------------------------
// Regions

function renderRegion(request: FastifyRequest, r: Selectable<RegionRow>): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    description: r.description,
    parent_region_id: r.parent_region_id,
    links: { self: selfLink(request, `regions/${r.id}`) },
  };
}

async function getRegion(db: Db, id: string): Promise<Selectable<RegionRow>> {
  const row = await db.selectFrom('region').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('region', id);
  return row;
}

/** Walks up from `parentId`: reaching `id` again would close a cycle. */
async function assertNoCycle(db: Db, id: string, parentId: string | null): Promise<void> {
  const seen = new Set<string>();
  let current = parentId;
  while (current) {
    if (current === id || seen.has(current)) {
      throw new BadRequest(
        `The specified parent region ${parentId} would create a circular region hierarchy.`,
      );
    }
    seen.add(current);
    const row = await db
      .selectFrom('region')
      .select('parent_region_id')
      .where('id', '=', current)
      .executeTakeFirst();
    current = row?.parent_region_id ?? null;
  }
}

/** The region and all regions below it (a cycle, which Keystone guards against, stops the walk). */
async function regionSubtree(db: Db, id: string): Promise<string[]> {
  const all = new Set([id]);
  let frontier = [id];
  while (frontier.length > 0) {
    const rows = await db
      .selectFrom('region')
      .select('id')
      .where('parent_region_id', 'in', frontier)
      .execute();
    frontier = rows.map((r) => r.id).filter((r) => !all.has(r));
    for (const r of frontier) all.add(r);
  }
  return [...all];
}

async function createRegion(
  identity: Identity,
  request: FastifyRequest,
  region: Body,
  id: string,
): Promise<Body> {
  const { db } = identity;
  if (id.length > 255) throw invalid('id', `'${id}' is too long`);
  const description = optString(region, 'description', { nullable: true, max: 255 }) ?? '';
  const parent = optString(region, 'parent_region_id', { nullable: true, max: 255 }) ?? null;
  const existing = await db
    .selectFrom('region')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
  if (existing)
    throw new Conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
  if (parent !== null) await getRegion(db, parent);
  const row = {
    id,
    description,
    parent_region_id: parent,
    extra: JSON.stringify(extraOf(region, ['description', 'parent_region_id'])),
  };
  try {
    await db.insertInto('region').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err))
      throw new Conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
    throw err;
  }
  return { region: renderRegion(request, row) };
}

function registerRegionRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  app.get('/v3/regions', async (request) => {
    authorize(identity, request, 'identity:list_regions');
    const parent = filterString(request.query, 'parent_region_id');
    let q = db.selectFrom('region').selectAll().orderBy('id');
    if (parent !== undefined) q = q.where('parent_region_id', '=', parent);
    const rows = await q.execute();
    return collection(
      request,
      'regions',
      rows.map((r) => renderRegion(request, r)),
    );
  });

  app.post('/v3/regions', async (request, reply) => {
    authorize(identity, request, 'identity:create_region');
    const region = member(request, 'region');
    const given = optString(region, 'id', { nullable: true });
    // Keystone officially sets ids through PUT, but honours one given to POST too.
    const id = given ? given : hexId();
    return reply.code(201).send(await createRegion(identity, request, region, id));
  });

  app.get<{ Params: { id: string } }>('/v3/regions/:id', async (request) => {
    authorize(identity, request, 'identity:get_region');
    return { region: renderRegion(request, await getRegion(db, request.params.id)) };
  });

  app.put<{ Params: { id: string } }>('/v3/regions/:id', async (request, reply) => {
    authorize(identity, request, 'identity:create_region');
    const region = member(request, 'region');
    const id = request.params.id;
    if (region['id'] !== undefined && region['id'] !== id) {
      throw new BadRequest(
        `Conflicting region IDs specified: "${id}" != "${String(region['id'])}"`,
      );
    }
    return reply.code(201).send(await createRegion(identity, request, region, id));
  });

  app.patch<{ Params: { id: string } }>('/v3/regions/:id', async (request) => {
    authorize(identity, request, 'identity:update_region');
    const region = member(request, 'region', 1);
    const id = request.params.id;
    requireMatchingId(region, id);
    const description = optString(region, 'description', { nullable: true, max: 255 });
    const parent = optString(region, 'parent_region_id', { nullable: true, max: 255 });
    if (parent) await getRegion(db, parent);
    const current = await getRegion(db, id);
    if (parent !== undefined) await assertNoCycle(db, id, parent);
    const extra = {
      ...parseJson(current.extra),
      ...extraOf(region, ['description', 'parent_region_id']),
    };
    const updated = {
      ...current,
      ...(description !== undefined ? { description: description ?? '' } : {}),
      ...(parent !== undefined ? { parent_region_id: parent } : {}),
      extra: JSON.stringify(extra),
    };
    await db
      .updateTable('region')
      .set({
        description: updated.description,
        parent_region_id: updated.parent_region_id,
        extra: updated.extra,
      })
      .where('id', '=', id)
      .execute();
    return { region: renderRegion(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/regions/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_region');
    const id = request.params.id;
    await getRegion(db, id);
    // As Keystone: the region goes with all its child regions, unless any of them
    // still has endpoints.
    const subtree = await regionSubtree(db, id);
    const used = await db
      .selectFrom('endpoint')
      .select('id')
      .where('region_id', 'in', subtree)
      .executeTakeFirst();
    if (used) {
      throw new Forbidden(
        `Unable to delete region ${id} because it or its child regions have associated endpoints.`,
      );
    }
    await db.deleteFrom('region').where('id', 'in', subtree).execute();
    return reply.code(204).send();
  });
}

// ---------------------------------------------------------------------------------------
// Services

function renderService(request: FastifyRequest, s: Selectable<ServiceRow>): Body {
  return {
    ...parseJson(s.extra),
    id: s.id,
    type: s.type,
    enabled: s.enabled,
    links: { self: selfLink(request, `services/${s.id}`) },
  };
}

async function getService(db: Db, id: string): Promise<Selectable<ServiceRow>> {
  const row = await db.selectFrom('service').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('service', id);
  return row;
}

function checkServiceBody(service: Body): void {
  optString(service, 'type', { min: 1, max: 255 });
  optString(service, 'name', { min: 1, max: 255 });
  optBool(service, 'enabled');
}

function registerServiceRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  app.get('/v3/services', async (request) => {
    authorize(identity, request, 'identity:list_services');
    const type = filterString(request.query, 'type');
    const name = filterString(request.query, 'name');
    let q = db.selectFrom('service').selectAll().orderBy('type').orderBy('id');
    if (type !== undefined) q = q.where('type', '=', type);
    let rows = await q.execute();
    // The name lives in `extra`, as in Keystone: filtered here.
    if (name !== undefined) rows = rows.filter((s) => parseJson(s.extra)['name'] === name);
    return collection(
      request,
      'services',
      rows.map((s) => renderService(request, s)),
    );
  });

  app.post('/v3/services', async (request, reply) => {
    authorize(identity, request, 'identity:create_service');
    const service = member(request, 'service');
    if (service['type'] === undefined) throw new BadRequest("'type' is a required property");
    checkServiceBody(service);
    const row = {
      id: hexId(),
      type: service['type'] as string,
      enabled: (service['enabled'] as boolean | undefined) ?? true,
      extra: JSON.stringify({ name: '', ...extraOf(service, ['type', 'enabled']) }),
    };
    await db.insertInto('service').values(row).execute();
    return reply.code(201).send({ service: renderService(request, row) });
  });

  app.get<{ Params: { id: string } }>('/v3/services/:id', async (request) => {
    authorize(identity, request, 'identity:get_service');
    return { service: renderService(request, await getService(db, request.params.id)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/services/:id', async (request) => {
    authorize(identity, request, 'identity:update_service');
    const service = member(request, 'service', 1);
    const id = request.params.id;
    requireMatchingId(service, id);
    checkServiceBody(service);
    const current = await getService(db, id);
    const updated = {
      id,
      type: (service['type'] as string | undefined) ?? current.type,
      enabled: (service['enabled'] as boolean | undefined) ?? current.enabled,
      extra: JSON.stringify({
        ...parseJson(current.extra),
        ...extraOf(service, ['type', 'enabled']),
      }),
    };
    await db
      .updateTable('service')
      .set({ type: updated.type, enabled: updated.enabled, extra: updated.extra })
      .where('id', '=', id)
      .execute();
    return { service: renderService(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/services/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_service');
    const id = request.params.id;
    await getService(db, id);
    // A service takes its endpoints with it (Keystone deletes them explicitly too).
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('endpoint').where('service_id', '=', id).execute();
      await trx.deleteFrom('service').where('id', '=', id).execute();
    });
    return reply.code(204).send();
  });
}

// ---------------------------------------------------------------------------------------
// Endpoints

/** Keystone's endpoint body (also the endpoint groups' `/endpoints` list). */
export function renderEndpoint(request: FastifyRequest, e: Selectable<EndpointRow>): Body {
  return {
    ...parseJson(e.extra),
    id: e.id,
    interface: e.interface,
    region_id: e.region_id,
    region: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: e.enabled,
    links: { self: selfLink(request, `endpoints/${e.id}`) },
  };
}

async function getEndpoint(db: Db, id: string): Promise<Selectable<EndpointRow>> {
  const row = await db.selectFrom('endpoint').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('endpoint', id);
  return row;
}

const ENDPOINT_COLUMNS = ['interface', 'region_id', 'region', 'service_id', 'url', 'enabled'];

/**
 * Checks an endpoint body and resolves its region: `region_id` must name an existing
 * region (400 otherwise); the legacy `region` alone is created when missing, as
 * Keystone does for clients still speaking v2's dialect. Returns the region to store,
 * or undefined when the body names none.
 */
async function endpointRegion(db: Db, endpoint: Body): Promise<string | null | undefined> {
  const iface = endpoint['interface'];
  if (iface !== undefined && (typeof iface !== 'string' || !INTERFACES.includes(iface)))
    throw invalid(
      'interface',
      `${JSON.stringify(iface)} is not one of ['admin', 'internal', 'public']`,
    );
  const url = optString(endpoint, 'url', { max: 225 });
  if (url !== undefined && url !== null && !URL_PATTERN.test(url))
    throw invalid('url', `'${url}' does not match '${URL_PATTERN.source}'`);
  optString(endpoint, 'service_id');
  optBool(endpoint, 'enabled');
  const regionId = optString(endpoint, 'region_id', { nullable: true });
  const legacy = optString(endpoint, 'region', { nullable: true });
  if (endpoint['service_id'] !== undefined) {
    const service = await db
      .selectFrom('service')
      .select('id')
      .where('id', '=', endpoint['service_id'] as string)
      .executeTakeFirst();
    if (!service)
      throw new BadRequest(
        'Expecting to find endpoint service_id in service table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
      );
  }
  if ((regionId === undefined || regionId === null) && legacy) {
    const exists = await db
      .selectFrom('region')
      .select('id')
      .where('id', '=', legacy)
      .executeTakeFirst();
    if (!exists) {
      await db
        .insertInto('region')
        .values({ id: legacy, description: '', parent_region_id: null, extra: '{}' })
        .execute();
    }
    return legacy;
  }
  if (regionId) {
    const exists = await db
      .selectFrom('region')
      .select('id')
      .where('id', '=', regionId)
      .executeTakeFirst();
    if (!exists)
      throw new BadRequest(
        'Expecting to find endpoint region_id in region table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
      );
  }
  if (regionId !== undefined) return regionId;
  return legacy === null ? null : undefined;
}

function registerEndpointRoutes(app: ApiServer, identity: Identity): void {
  const { db } = identity;

  app.get('/v3/endpoints', async (request) => {
    authorize(identity, request, 'identity:list_endpoints');
    const iface = filterString(request.query, 'interface');
    const serviceId = filterString(request.query, 'service_id');
    const regionId = filterString(request.query, 'region_id');
    const enabled = queryBool((request.query as Record<string, unknown>)['enabled'], 'enabled');
    let q = db.selectFrom('endpoint').selectAll().orderBy('id');
    if (iface !== undefined) q = q.where('interface', '=', iface);
    if (serviceId !== undefined) q = q.where('service_id', '=', serviceId);
    if (regionId !== undefined) q = q.where('region_id', '=', regionId);
    if (enabled !== undefined) q = q.where('enabled', '=', enabled);
    const rows = await q.execute();
    return collection(
      request,
      'endpoints',
      rows.map((e) => renderEndpoint(request, e)),
    );
  });

  app.post('/v3/endpoints', async (request, reply) => {
    authorize(identity, request, 'identity:create_endpoint');
    const endpoint = member(request, 'endpoint');
    for (const field of ['interface', 'service_id', 'url']) {
      if (endpoint[field] === undefined) throw new BadRequest(`'${field}' is a required property`);
    }
    const region = await endpointRegion(db, endpoint);
    const row = {
      id: hexId(),
      service_id: endpoint['service_id'] as string,
      interface: endpoint['interface'] as string,
      region_id: region ?? null,
      url: endpoint['url'] as string,
      enabled: (endpoint['enabled'] as boolean | undefined) ?? true,
      extra: JSON.stringify(extraOf(endpoint, ENDPOINT_COLUMNS)),
    };
    await db.insertInto('endpoint').values(row).execute();
    return reply.code(201).send({ endpoint: renderEndpoint(request, row) });
  });

  app.get<{ Params: { id: string } }>('/v3/endpoints/:id', async (request) => {
    authorize(identity, request, 'identity:get_endpoint');
    return { endpoint: renderEndpoint(request, await getEndpoint(db, request.params.id)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/endpoints/:id', async (request) => {
    authorize(identity, request, 'identity:update_endpoint');
    const endpoint = member(request, 'endpoint', 1);
    const id = request.params.id;
    requireMatchingId(endpoint, id);
    const current = await getEndpoint(db, id);
    const region = await endpointRegion(db, endpoint);
    const updated: Selectable<EndpointRow> = {
      id,
      service_id: (endpoint['service_id'] as string | undefined) ?? current.service_id,
      interface: (endpoint['interface'] as string | undefined) ?? current.interface,
      region_id: region === undefined ? current.region_id : region,
      url: (endpoint['url'] as string | undefined) ?? current.url,
      enabled: (endpoint['enabled'] as boolean | undefined) ?? current.enabled,
      extra: JSON.stringify({
        ...parseJson(current.extra),
        ...extraOf(endpoint, ENDPOINT_COLUMNS),
      }),
    };
    const { id: _id, ...changes } = updated;
    await db.updateTable('endpoint').set(changes).where('id', '=', id).execute();
    return { endpoint: renderEndpoint(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/endpoints/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_endpoint');
    await getEndpoint(db, request.params.id);
    await db.deleteFrom('endpoint').where('id', '=', request.params.id).execute();
    return reply.code(204).send();
  });
}

/**
 * Regions, services and endpoints (/v3/regions, /v3/services, /v3/endpoints). Token
 * catalogs are built from these tables on every request, so changes show at once.
 */
export function registerCatalogRoutes(app: ApiServer, identity: Identity): void {
  registerRegionRoutes(app, identity);
  registerServiceRoutes(app, identity);
  registerEndpointRoutes(app, identity);
}
