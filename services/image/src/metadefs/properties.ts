import type { ApiServer, RequestContext } from '@stratus/api-kit';
import { NotFound } from '@stratus/common';
import type { ImageService } from '../core/service.js';
import {
  authorize,
  findNamespace,
  insertProperty,
  loadAssociations,
  NAMESPACES_PATH,
  param,
  refuseIfProtected,
  renderProperty,
  unique,
} from './core.js';
import { metadefDb, type NamespaceRow, type PropertyRow } from './schema.js';
import { propertySchema } from './schemas.js';
import { bodyObject, propertyDefinition, refuseReadOnly, validate } from './validate.js';

type Params = { namespace: string };
type PropertyParams = Params & { property_name: string };

const PROPERTIES = `${NAMESPACES_PATH}/:namespace/properties`;

/** A property body: a JSON-schema fragment with its name. */
function propertyBody(request: Parameters<typeof bodyObject>[0]) {
  const body = bodyObject(request);
  refuseReadOnly(body, ['created_at', 'updated_at']);
  validate(propertySchema(), body);
  return { name: body['name'] as string, definition: propertyDefinition(body) };
}

async function findProperty(
  service: ImageService,
  ns: NamespaceRow,
  name: string,
): Promise<PropertyRow> {
  const row = await metadefDb(service)
    .selectFrom('metadef_property')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFound(`Could not find property ${name}`);
  return row;
}

export function registerPropertyRoutes(app: ApiServer, service: ImageService): void {
  const load = async (ctx: RequestContext, params: Params, action: string) => {
    const ns = await findNamespace(service, ctx, params.namespace);
    authorize(service, ctx, action, ns);
    return ns;
  };

  app.post<{ Params: Params }>(PROPERTIES, async (request, reply) => {
    const { name, definition } = propertyBody(request);
    const ns = await load(request.context, request.params, 'add_metadef_property');
    const row = await insertProperty(metadefDb(service), ns, name, definition, new Date());
    void reply.code(201);
    return renderProperty(row);
  });

  app.get<{ Params: Params }>(PROPERTIES, async (request) => {
    const ns = await load(request.context, request.params, 'get_metadef_properties');
    const rows = await metadefDb(service)
      .selectFrom('metadef_property')
      .selectAll()
      .where('namespace_id', '=', ns.id)
      .orderBy('name')
      .execute();
    return { properties: Object.fromEntries(rows.map((r) => [r.name, renderProperty(r, false)])) };
  });

  app.get<{ Params: PropertyParams }>(`${PROPERTIES}/:property_name`, async (request) => {
    const ctx = request.context;
    const ns = await load(ctx, request.params, 'get_metadef_property');
    let name = request.params.property_name;
    // With a resource type, the name carries that association's prefix.
    const resourceType = param(request.query, 'resource_type');
    if (resourceType) {
      authorize(service, ctx, 'get_metadef_resource_type', ns);
      const association = (await loadAssociations(metadefDb(service), [ns.id])).find(
        (a) => a.name === resourceType,
      );
      if (!association)
        throw new NotFound(
          `The metadata definition resource-type association of resource-type=${resourceType} to namespace=${ns.namespace}, was not found.`,
        );
      const { prefix } = association;
      if (!prefix || !name.startsWith(prefix))
        throw new NotFound(
          `Property ${name} does not start with the expected resource type association prefix of '${prefix ?? 'None'}'.`,
        );
      name = name.slice(prefix.length);
    }
    return renderProperty(await findProperty(service, ns, name));
  });

  app.put<{ Params: PropertyParams }>(`${PROPERTIES}/:property_name`, async (request) => {
    const { name, definition } = propertyBody(request);
    const ns = await load(request.context, request.params, 'modify_metadef_property');
    const row = await findProperty(service, ns, request.params.property_name);
    const next: PropertyRow = {
      ...row,
      name,
      json_schema: JSON.stringify(definition),
      updated_at: new Date(),
    };
    await unique(
      metadefDb(service)
        .updateTable('metadef_property')
        .set({ name, json_schema: next.json_schema, updated_at: next.updated_at })
        .where('id', '=', row.id)
        .execute(),
      `Invalid update. It would result in a duplicate metadata definition property with the same name=${name} in namespace=${ns.namespace}.`,
    );
    return renderProperty(next);
  });

  app.delete<{ Params: PropertyParams }>(`${PROPERTIES}/:property_name`, async (request, reply) => {
    const ns = await load(request.context, request.params, 'remove_metadef_property');
    const row = await findProperty(service, ns, request.params.property_name);
    refuseIfProtected(ns, `Metadata definition property ${row.name}`);
    await metadefDb(service).deleteFrom('metadef_property').where('id', '=', row.id).execute();
    return reply.code(204).send();
  });
}
