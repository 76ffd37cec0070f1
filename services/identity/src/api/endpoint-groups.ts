import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict, NotFound, hexId } from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import type { Identity } from '../core/identity.js';
import type { EndpointRow, IdentitySchema, ProjectRow } from '../store/schema.js';
import {
  filterString,
  invalid,
  member,
  optString,
  renderEndpoint,
  requireMatchingId,
} from './catalog.js';
import { authorize, collection, notFound, parseJson, selfLink } from './http.js';

/**
 * The tables of migration 0004 that this group uses (not yet in store/schema.ts, so the
 * group widens the identity database's type with them).
 */
export interface EndpointGroupTables {
  endpoint_group: { id: string; name: string; description: string | null; filters: string };
  project_endpoint_group: { endpoint_group_id: string; project_id: string };
}

type Db = Kysely<IdentitySchema & EndpointGroupTables>;
type Body = Record<string, unknown>;
type EndpointGroupRow = EndpointGroupTables['endpoint_group'];

/** Keystone's `_require_valid_filter`, in its order (the order shows in the message). */
export const ENDPOINT_GROUP_FILTER_KEYS = ['service_id', 'region_id', 'interface'] as const;

const PREFIX = '/v3/OS-EP-FILTER';

function renderGroup(request: FastifyRequest, g: EndpointGroupRow): Body {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    filters: parseJson(g.filters),
    links: { self: selfLink(request, `OS-EP-FILTER/endpoint_groups/${g.id}`) },
  };
}

/** As projects.ts renders a project (tags and options included). */
async function renderProjects(
  db: Db,
  request: FastifyRequest,
  rows: Selectable<ProjectRow>[],
): Promise<Body[]> {
  const ids = rows.map((r) => r.id);
  const tagRows =
    ids.length === 0
      ? []
      : await db
          .selectFrom('project_tag')
          .selectAll()
          .where('project_id', 'in', ids)
          .orderBy('name')
          .execute();
  return rows.map((row) => {
    const { options, ...extra } = parseJson(row.extra);
    return {
      ...extra,
      id: row.id,
      name: row.name,
      domain_id: row.domain_id,
      description: row.description,
      enabled: row.enabled,
      parent_id: row.parent_id,
      is_domain: row.is_domain,
      tags: tagRows.filter((t) => t.project_id === row.id).map((t) => t.name),
      options: options && typeof options === 'object' ? options : {},
      links: { self: selfLink(request, `projects/${row.id}`) },
    };
  });
}

async function getGroup(db: Db, id: string): Promise<EndpointGroupRow> {
  const row = await db
    .selectFrom('endpoint_group')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFound(`Could not find Endpoint Group: ${id}.`);
  return row;
}

async function getProject(db: Db, id: string): Promise<Selectable<ProjectRow>> {
  const row = await db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('project', id);
  return row;
}

/**
 * Checks the attributes Keystone's endpoint_group schema knows: name (1-255, not blank),
 * description (string or null) and filters (an object with only the three filter keys).
 */
function checkGroupBody(group: Body): Body | undefined {
  const name = optString(group, 'name', { min: 1, max: 255 });
  if (typeof name === 'string' && !/\S/.test(name))
    throw invalid('name', `'${name}' does not match '[\\S]+'`);
  optString(group, 'description', { nullable: true });
  const filters = group['filters'];
  if (filters === undefined) return undefined;
  if (!filters || typeof filters !== 'object' || Array.isArray(filters))
    throw invalid('filters', `${JSON.stringify(filters)} is not of type 'object'`);
  for (const key of Object.keys(filters)) {
    if (!(ENDPOINT_GROUP_FILTER_KEYS as readonly string[]).includes(key)) {
      throw new BadRequest(
        `Expecting to find ${ENDPOINT_GROUP_FILTER_KEYS.join(' or ')} in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
      );
    }
  }
  return filters as Body;
}

/** Keystone matches each filter by equality against the endpoint's attribute. */
function matches(e: Selectable<EndpointRow>, filters: Body): boolean {
  const attrs: Body = {
    service_id: e.service_id,
    region_id: e.region_id,
    interface: e.interface,
  };
  return Object.entries(filters).every(([k, v]) => attrs[k] === v);
}

function registerGroupRoutes(app: ApiServer, identity: Identity, db: Db): void {
  app.get(`${PREFIX}/endpoint_groups`, async (request) => {
    authorize(identity, request, 'identity:list_endpoint_groups');
    const name = filterString(request.query, 'name');
    let q = db.selectFrom('endpoint_group').selectAll().orderBy('id');
    if (name !== undefined) q = q.where('name', '=', name);
    const rows = await q.execute();
    return collection(
      request,
      'endpoint_groups',
      rows.map((g) => renderGroup(request, g)),
    );
  });

  app.post(`${PREFIX}/endpoint_groups`, async (request, reply) => {
    authorize(identity, request, 'identity:create_endpoint_group');
    const group = member(request, 'endpoint_group');
    for (const field of ['name', 'filters']) {
      if (group[field] === undefined) throw new BadRequest(`'${field}' is a required property`);
    }
    const filters = checkGroupBody(group);
    if (!filters || Object.keys(filters).length === 0)
      throw new BadRequest('filters field is required and cannot be empty');
    // Keystone's model has no `extra`: other attributes are not kept.
    const row: EndpointGroupRow = {
      id: hexId(),
      name: group['name'] as string,
      description: (group['description'] as string | null | undefined) ?? null,
      filters: JSON.stringify(filters),
    };
    await db.insertInto('endpoint_group').values(row).execute();
    return reply.code(201).send({ endpoint_group: renderGroup(request, row) });
  });

  // HEAD comes with GET (200, no body), which is what Tempest's check_endpoint_group expects.
  app.get<{ Params: { id: string } }>(`${PREFIX}/endpoint_groups/:id`, async (request) => {
    authorize(identity, request, 'identity:get_endpoint_group');
    return { endpoint_group: renderGroup(request, await getGroup(db, request.params.id)) };
  });

  app.patch<{ Params: { id: string } }>(`${PREFIX}/endpoint_groups/:id`, async (request) => {
    authorize(identity, request, 'identity:update_endpoint_group');
    const group = member(request, 'endpoint_group', 1);
    const id = request.params.id;
    const filters = checkGroupBody(group);
    requireMatchingId(group, id);
    const current = await getGroup(db, id);
    const updated: EndpointGroupRow = {
      id,
      name: (group['name'] as string | undefined) ?? current.name,
      description:
        group['description'] !== undefined
          ? (group['description'] as string | null)
          : current.description,
      filters: filters !== undefined ? JSON.stringify(filters) : current.filters,
    };
    await db
      .updateTable('endpoint_group')
      .set({ name: updated.name, description: updated.description, filters: updated.filters })
      .where('id', '=', id)
      .execute();
    return { endpoint_group: renderGroup(request, updated) };
  });

  app.delete<{ Params: { id: string } }>(
    `${PREFIX}/endpoint_groups/:id`,
    async (request, reply) => {
      authorize(identity, request, 'identity:delete_endpoint_group');
      const id = request.params.id;
      await getGroup(db, id);
      await db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('project_endpoint_group')
          .where('endpoint_group_id', '=', id)
          .execute();
        await trx.deleteFrom('endpoint_group').where('id', '=', id).execute();
      });
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    `${PREFIX}/endpoint_groups/:id/endpoints`,
    async (request) => {
      authorize(identity, request, 'identity:list_endpoints_associated_with_endpoint_group');
      const group = await getGroup(db, request.params.id);
      const filters = parseJson(group.filters);
      const endpoints = await db.selectFrom('endpoint').selectAll().orderBy('id').execute();
      return collection(
        request,
        'endpoints',
        endpoints.filter((e) => matches(e, filters)).map((e) => renderEndpoint(request, e)),
      );
    },
  );
}

function registerAssociationRoutes(app: ApiServer, identity: Identity, db: Db): void {
  type Params = { Params: { id: string; project_id: string } };
  const path = `${PREFIX}/endpoint_groups/:id/projects/:project_id`;

  const association = async (groupId: string, projectId: string) =>
    db
      .selectFrom('project_endpoint_group')
      .selectAll()
      .where('endpoint_group_id', '=', groupId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();

  app.get<{ Params: { id: string } }>(`${PREFIX}/endpoint_groups/:id/projects`, async (request) => {
    authorize(identity, request, 'identity:list_projects_associated_with_endpoint_group');
    await getGroup(db, request.params.id);
    const rows = await db
      .selectFrom('project')
      .innerJoin('project_endpoint_group as a', 'a.project_id', 'project.id')
      .selectAll('project')
      .where('a.endpoint_group_id', '=', request.params.id)
      .orderBy('project.id')
      .execute();
    return collection(request, 'projects', await renderProjects(db, request, rows));
  });

  // GET and (with it) HEAD: 200 with the association, as Keystone.
  app.get<Params>(path, async (request) => {
    authorize(identity, request, 'identity:get_endpoint_group_in_project');
    const { id, project_id: projectId } = request.params;
    await getProject(db, projectId);
    await getGroup(db, id);
    if (!(await association(id, projectId)))
      throw new NotFound('Endpoint Group Project Association not found');
    return {
      project_endpoint_group: {
        endpoint_group_id: id,
        project_id: projectId,
        links: {
          self: selfLink(request, `OS-EP-FILTER/endpoint_groups/${id}/projects/${projectId}`),
        },
      },
    };
  });

  app.put<Params>(path, async (request, reply) => {
    authorize(identity, request, 'identity:add_endpoint_group_to_project');
    const { id, project_id: projectId } = request.params;
    await getProject(db, projectId);
    await getGroup(db, id);
    const conflict = () =>
      new Conflict(
        'Conflict occurred attempting to store project_endpoint_group - Duplicate entry.',
      );
    if (await association(id, projectId)) throw conflict();
    try {
      await db
        .insertInto('project_endpoint_group')
        .values({ endpoint_group_id: id, project_id: projectId })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict();
      throw err;
    }
    return reply.code(204).send();
  });

  app.delete<Params>(path, async (request, reply) => {
    authorize(identity, request, 'identity:remove_endpoint_group_from_project');
    const { id, project_id: projectId } = request.params;
    await getProject(db, projectId);
    await getGroup(db, id);
    if (!(await association(id, projectId)))
      throw new NotFound('Endpoint Group Project Association not found');
    await db
      .deleteFrom('project_endpoint_group')
      .where('endpoint_group_id', '=', id)
      .where('project_id', '=', projectId)
      .execute();
    return reply.code(204).send();
  });

  app.get<{ Params: { project_id: string } }>(
    `${PREFIX}/projects/:project_id/endpoint_groups`,
    async (request) => {
      authorize(identity, request, 'identity:list_endpoint_groups_for_project');
      await getProject(db, request.params.project_id);
      const rows = await db
        .selectFrom('endpoint_group')
        .innerJoin('project_endpoint_group as a', 'a.endpoint_group_id', 'endpoint_group.id')
        .selectAll('endpoint_group')
        .where('a.project_id', '=', request.params.project_id)
        .orderBy('endpoint_group.id')
        .execute();
      return collection(
        request,
        'endpoint_groups',
        rows.map((g) => renderGroup(request, g)),
      );
    },
  );
}

/**
 * OS-EP-FILTER endpoint groups (/v3/OS-EP-FILTER/endpoint_groups…) and their project
 * associations. Needs migration 0004. The groups are stored and managed only: token
 * catalogs are not (yet) filtered by a project's endpoint groups, and the older
 * per-endpoint associations (/OS-EP-FILTER/projects/{id}/endpoints/{id}) are not served.
 */
export function registerEndpointGroupRoutes(app: ApiServer, identity: Identity): void {
  const db = identity.db as unknown as Db;
  registerGroupRoutes(app, identity, db);
  registerAssociationRoutes(app, identity, db);
}
