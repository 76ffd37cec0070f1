import { randomUUID } from 'node:crypto';
import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Conflict } from '@stratus/common';
import { paginate } from '@stratus/db';
import { isAdmin, type ImageService } from '../core/service.js';
import {
  associate,
  authorize,
  allowed,
  findNamespace,
  insertObject,
  insertProperty,
  insertTag,
  loadAssociations,
  namespaceDetail,
  namespaceHref,
  namespaceNotFound,
  NAMESPACES_PATH,
  param,
  parseLimit,
  parseSortDir,
  parseSortKey,
  queryWithout,
  refuseIfProtected,
  renderAssociation,
  renderNamespace,
  SCHEMAS_PATH,
  unique,
  type AssociationFields,
  type ObjectFields,
} from './core.js';
import { metadefDb, type NamespaceRow, type NamespaceVisibility } from './schema.js';
import { namespaceSchema } from './schemas.js';
import {
  bodyObject,
  optionalString,
  propertyDefinitions,
  refuseReadOnly,
  validate,
} from './validate.js';

type Params = { namespace: string };

const READ_ONLY = ['self', 'schema', 'created_at', 'updated_at'];

/** Keys GET /v2/metadefs/namespaces sorts by. */
const SORT_KEYS = [
  'namespace',
  'display_name',
  'visibility',
  'protected',
  'owner',
  'created_at',
  'updated_at',
] as const;

/** Items of a list in a namespace body must be objects naming something. */
function named(list: unknown, field: string): Array<Record<string, unknown> & { name: string }> {
  if (!Array.isArray(list)) return [];
  return list.map((item: unknown) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    if (typeof entry['name'] !== 'string')
      throw new BadRequest(`Invalid input for field/attribute ${field}: a name is mandatory.`);
    return entry as Record<string, unknown> & { name: string };
  });
}

function refuseDuplicates(names: string[], what: string, namespace: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw new Conflict(`Duplicate ${what} name=${name} in namespace=${namespace}.`);
    seen.add(name);
  }
}

function checkedBody(
  body: Record<string, unknown>,
): Record<string, unknown> & { namespace: string } {
  refuseReadOnly(body, READ_ONLY);
  validate(namespaceSchema(), body);
  const name = body['namespace'] as string;
  if (name.trim() === '')
    throw new BadRequest("Provided object does not match schema 'namespace': '' is too short");
  return body as Record<string, unknown> & { namespace: string };
}

function registerCreate(app: ApiServer, service: ImageService): void {
  app.post(NAMESPACES_PATH, async (request, reply) => {
    const ctx = request.context;
    const body = checkedBody(bodyObject(request));
    const associations: AssociationFields[] = named(
      body['resource_type_associations'],
      'resource_type_associations',
    ).map((a) => ({
      name: a.name,
      prefix: optionalString(a, 'prefix'),
      properties_target: optionalString(a, 'properties_target'),
    }));
    const objects: ObjectFields[] = named(body['objects'], 'objects').map((o) => ({
      name: o.name,
      description: optionalString(o, 'description'),
      required: (o['required'] as string[] | undefined) ?? [],
      properties: propertyDefinitions(o['properties']),
    }));
    const tags = named(body['tags'], 'tags').map((t) => t.name);
    const properties = propertyDefinitions(body['properties']);

    authorize(service, ctx, 'add_metadef_namespace');
    if (associations.length > 0) authorize(service, ctx, 'add_metadef_resource_type_association');
    if (objects.length > 0) authorize(service, ctx, 'add_metadef_object');
    if (Object.keys(properties).length > 0) authorize(service, ctx, 'add_metadef_property');
    if (tags.length > 0) authorize(service, ctx, 'add_metadef_tag');
    refuseDuplicates(
      associations.map((a) => a.name),
      'resource-type association',
      body.namespace,
    );
    refuseDuplicates(
      objects.map((o) => o.name),
      'object',
      body.namespace,
    );
    refuseDuplicates(tags, 'tag', body.namespace);

    const now = new Date();
    const row: NamespaceRow = {
      id: randomUUID(),
      namespace: body.namespace,
      display_name: optionalString(body, 'display_name'),
      description: optionalString(body, 'description'),
      visibility: (body['visibility'] as NamespaceVisibility | undefined) ?? 'private',
      protected: (body['protected'] as boolean | undefined) ?? false,
      owner: (body['owner'] as string | undefined) ?? ctx.project_id ?? '',
      created_at: now,
      updated_at: now,
    };
    await metadefDb(service)
      .transaction()
      .execute(async (trx) => {
        await unique(
          trx.insertInto('metadef_namespace').values(row).execute(),
          `The metadata definition namespace=${row.namespace} already exists.`,
        );
        for (const a of associations) await associate(trx, row, a, now);
        for (const o of objects) await insertObject(trx, row, o, now);
        for (const t of tags) await insertTag(trx, row, t, now);
        for (const [name, definition] of Object.entries(properties))
          await insertProperty(trx, row, name, definition, now);
      });
    void reply.code(201).header('location', `${request.baseUrl}${namespaceHref(row.namespace)}`);
    return namespaceDetail(service, row);
  });
}

function registerList(app: ApiServer, service: ImageService): void {
  app.get(NAMESPACES_PATH, async (request) => {
    const ctx = request.context;
    const { query } = request;
    authorize(service, ctx, 'get_metadef_namespaces');
    authorize(service, ctx, 'list_metadef_resource_types');
    const { settings } = service;
    const limit = Math.min(
      settings.api_limit_max,
      parseLimit(param(query, 'limit')) ?? settings.limit_param_default,
    );
    const dir = parseSortDir(param(query, 'sort_dir'));
    const key = parseSortKey(param(query, 'sort_key'), SORT_KEYS);
    const visibility = param(query, 'visibility');
    if (visibility && visibility !== 'public' && visibility !== 'private')
      throw new BadRequest(`Invalid visibility value: ${visibility}`);
    const resourceTypes = param(query, 'resource_types');

    const db = metadefDb(service);
    let q = db.selectFrom('metadef_namespace').selectAll();
    if (!isAdmin(service, ctx)) {
      const project = ctx.project_id;
      q = q.where((eb) =>
        project === undefined
          ? eb('visibility', '=', 'public')
          : eb.or([eb('owner', '=', project), eb('visibility', '=', 'public')]),
      );
    }
    if (visibility) q = q.where('visibility', '=', visibility as NamespaceVisibility);
    if (resourceTypes !== undefined) {
      const names = resourceTypes.split(',').map((n) => n.trim());
      q = q.where('id', 'in', (eb) =>
        eb
          .selectFrom('metadef_namespace_resource_type as a')
          .innerJoin('metadef_resource_type as r', 'r.id', 'a.resource_type_id')
          .select('a.namespace_id')
          .where('r.name', 'in', names),
      );
    }
    const markerName = param(query, 'marker');
    const marker = markerName ? await findNamespace(service, ctx, markerName) : undefined;
    const rows = (
      await paginate(q, {
        sort: [
          { key, dir },
          { key: 'created_at', dir },
        ],
        idKey: 'id',
        ...(marker ? { marker } : {}),
        limit,
      })
    ).filter((ns) => allowed(service, ctx, 'get_metadef_namespace', ns));
    const associations = await loadAssociations(
      db,
      rows.map((r) => r.id),
    );
    const namespaces = rows.map((ns) => {
      const doc = renderNamespace(ns);
      const mine = associations.filter((a) => a.namespace_id === ns.id);
      if (mine.length > 0) doc['resource_type_associations'] = mine.map(renderAssociation);
      return doc;
    });
    const params = queryWithout(request.url, 'marker');
    const first = params.toString() !== '' ? `${NAMESPACES_PATH}?${params}` : NAMESPACES_PATH;
    const body: Record<string, unknown> = {
      namespaces,
      first,
      schema: `${SCHEMAS_PATH}/namespaces`,
    };
    const last = rows.at(-1);
    if (last && rows.length === limit) {
      params.append('marker', last.namespace);
      body['next'] = `${NAMESPACES_PATH}?${params}`;
    }
    return body;
  });
}

function registerShowUpdateDelete(app: ApiServer, service: ImageService): void {
  const path = `${NAMESPACES_PATH}/:namespace`;

  app.get<{ Params: Params }>(path, async (request) => {
    const ctx = request.context;
    const ns = await findNamespace(service, ctx, request.params.namespace);
    authorize(service, ctx, 'get_metadef_namespace', ns);
    for (const action of [
      'list_metadef_resource_types',
      'get_metadef_objects',
      'get_metadef_properties',
      'get_metadef_tags',
    ])
      authorize(service, ctx, action, ns);
    return namespaceDetail(service, ns, param(request.query, 'resource_type'));
  });

  app.put<{ Params: Params }>(path, async (request) => {
    const ctx = request.context;
    const body = checkedBody(bodyObject(request));
    const ns = await findNamespace(service, ctx, request.params.namespace);
    authorize(service, ctx, 'modify_metadef_namespace', ns);
    // A PUT replaces: what the body leaves out goes back to its default.
    const next: NamespaceRow = {
      ...ns,
      namespace: body.namespace,
      display_name: optionalString(body, 'display_name'),
      description: optionalString(body, 'description'),
      visibility: (body['visibility'] as NamespaceVisibility | undefined) ?? 'private',
      protected: (body['protected'] as boolean | undefined) ?? false,
      owner: (body['owner'] as string | undefined) ?? ctx.project_id ?? ns.owner,
      updated_at: new Date(),
    };
    const { id, created_at: _created, ...changes } = next;
    const done = await unique(
      metadefDb(service)
        .updateTable('metadef_namespace')
        .set(changes)
        .where('id', '=', id)
        .executeTakeFirst(),
      `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${next.namespace}`,
    );
    if (Number(done.numUpdatedRows) === 0) throw namespaceNotFound(request.params.namespace);
    return renderNamespace(next);
  });

  app.delete<{ Params: Params }>(path, async (request, reply) => {
    const ctx = request.context;
    const ns = await findNamespace(service, ctx, request.params.namespace);
    authorize(service, ctx, 'delete_metadef_namespace', ns);
    refuseIfProtected(ns, `Metadata definition namespace ${ns.namespace}`);
    await metadefDb(service)
      .transaction()
      .execute(async (trx) => {
        for (const table of [
          'metadef_object',
          'metadef_property',
          'metadef_tag',
          'metadef_namespace_resource_type',
        ] as const)
          await trx.deleteFrom(table).where('namespace_id', '=', ns.id).execute();
        await trx.deleteFrom('metadef_namespace').where('id', '=', ns.id).execute();
      });
    return reply.code(204).send();
  });
}

/** DELETE .../objects, .../properties, .../tags: everything of one kind. */
function registerDeleteContents(app: ApiServer, service: ImageService): void {
  const kinds = [
    ['objects', 'metadef_object', []],
    ['properties', 'metadef_property', []],
    ['tags', 'metadef_tag', ['delete_metadef_tags']],
  ] as const;
  for (const [segment, table, extra] of kinds) {
    app.delete<{ Params: Params }>(
      `${NAMESPACES_PATH}/:namespace/${segment}`,
      async (request, reply) => {
        const ctx = request.context;
        const ns = await findNamespace(service, ctx, request.params.namespace);
        authorize(service, ctx, 'delete_metadef_namespace', ns);
        for (const action of extra) authorize(service, ctx, action, ns);
        refuseIfProtected(ns, `Metadata definition namespace ${ns.namespace}`);
        await metadefDb(service).deleteFrom(table).where('namespace_id', '=', ns.id).execute();
        return reply.code(204).send();
      },
    );
  }
}

export function registerNamespaceRoutes(app: ApiServer, service: ImageService): void {
  registerCreate(app, service);
  registerList(app, service);
  registerShowUpdateDelete(app, service);
  registerDeleteContents(app, service);
}
