import type { ApiServer, RequestContext } from '@stratus/api-kit';
import { NotFound } from '@stratus/common';
import type { ImageService } from '../core/service.js';
import {
  allowed,
  authorize,
  findNamespace,
  insertObject,
  NAMESPACES_PATH,
  refuseIfProtected,
  renderObject,
  SCHEMAS_PATH,
  unique,
  type ObjectFields,
} from './core.js';
import { metadefDb, type NamespaceRow, type ObjectRow } from './schema.js';
import { objectSchema, propertySchema } from './schemas.js';
import {
  bodyObject,
  optionalString,
  propertyDefinitions,
  refuseReadOnly,
  validate,
} from './validate.js';

type Params = { namespace: string };
type ObjectParams = Params & { object_name: string };

const OBJECTS = `${NAMESPACES_PATH}/:namespace/objects`;

/** An object body, validated as Glance's deserializer does. */
function objectFields(body: Record<string, unknown>, strictProperties: boolean): ObjectFields {
  refuseReadOnly(body, ['self', 'schema', 'created_at', 'updated_at']);
  validate(objectSchema(), body);
  const properties = (body['properties'] ?? {}) as Record<string, unknown>;
  // On create, each property must also be a valid property document on its own.
  if (strictProperties)
    for (const definition of Object.values(properties)) validate(propertySchema(false), definition);
  return {
    name: body['name'] as string,
    description: optionalString(body, 'description'),
    required: (body['required'] as string[] | undefined) ?? [],
    properties: propertyDefinitions(properties),
  };
}

async function findObject(
  service: ImageService,
  ns: NamespaceRow,
  name: string,
): Promise<ObjectRow> {
  const row = await metadefDb(service)
    .selectFrom('metadef_object')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFound(`Could not find metadata object ${name}`);
  return row;
}

export function registerObjectRoutes(app: ApiServer, service: ImageService): void {
  const load = async (ctx: RequestContext, params: Params, action: string) => {
    const ns = await findNamespace(service, ctx, params.namespace);
    authorize(service, ctx, action, ns);
    return ns;
  };

  app.post<{ Params: Params }>(OBJECTS, async (request, reply) => {
    const fields = objectFields(bodyObject(request), true);
    const ns = await load(request.context, request.params, 'add_metadef_object');
    const row = await insertObject(metadefDb(service), ns, fields, new Date());
    void reply.code(201);
    return renderObject(ns.namespace, row);
  });

  app.get<{ Params: Params }>(OBJECTS, async (request) => {
    const ctx = request.context;
    const ns = await load(ctx, request.params, 'get_metadef_objects');
    const rows = await metadefDb(service)
      .selectFrom('metadef_object')
      .selectAll()
      .where('namespace_id', '=', ns.id)
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    const visible = allowed(service, ctx, 'get_metadef_object', ns);
    return {
      objects: visible ? rows.map((r) => renderObject(ns.namespace, r)) : [],
      schema: `${SCHEMAS_PATH}/objects`,
    };
  });

  app.get<{ Params: ObjectParams }>(`${OBJECTS}/:object_name`, async (request) => {
    const ns = await load(request.context, request.params, 'get_metadef_object');
    return renderObject(ns.namespace, await findObject(service, ns, request.params.object_name));
  });

  app.put<{ Params: ObjectParams }>(`${OBJECTS}/:object_name`, async (request) => {
    const fields = objectFields(bodyObject(request), false);
    const ns = await load(request.context, request.params, 'modify_metadef_object');
    const row = await findObject(service, ns, request.params.object_name);
    const next: ObjectRow = {
      ...row,
      name: fields.name,
      description: fields.description,
      required: JSON.stringify(fields.required),
      json_schema: JSON.stringify(fields.properties),
      updated_at: new Date(),
    };
    await unique(
      metadefDb(service)
        .updateTable('metadef_object')
        .set({
          name: next.name,
          description: next.description,
          required: next.required,
          json_schema: next.json_schema,
          updated_at: next.updated_at,
        })
        .where('id', '=', row.id)
        .execute(),
      `Invalid update. It would result in a duplicate metadata definition object with the same name=${fields.name} in namespace=${ns.namespace}.`,
    );
    return renderObject(ns.namespace, next);
  });

  app.delete<{ Params: ObjectParams }>(`${OBJECTS}/:object_name`, async (request, reply) => {
    const ns = await load(request.context, request.params, 'delete_metadef_object');
    const row = await findObject(service, ns, request.params.object_name);
    refuseIfProtected(ns, `Metadata definition object ${row.name}`);
    await metadefDb(service).deleteFrom('metadef_object').where('id', '=', row.id).execute();
    return reply.code(204).send();
  });
}
