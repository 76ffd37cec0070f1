import type { ApiServer } from '@stratus/api-kit';
import { NotFound } from '@stratus/common';
import { isoSeconds } from '../core/images.js';
import type { ImageService } from '../core/service.js';
import {
  allowed,
  associate,
  authorize,
  findNamespace,
  loadAssociations,
  NAMESPACES_PATH,
  refuseIfProtected,
  renderAssociation,
} from './core.js';
import { metadefDb } from './schema.js';
import { resourceTypeSchema } from './schemas.js';
import { bodyObject, optionalString, refuseReadOnly, validate } from './validate.js';

type Params = { namespace: string };

const ASSOCIATIONS = `${NAMESPACES_PATH}/:namespace/resource_types`;

export function registerResourceTypeRoutes(app: ApiServer, service: ImageService): void {
  app.get('/v2/metadefs/resource_types', async (request) => {
    authorize(service, request.context, 'list_metadef_resource_types');
    const rows = await metadefDb(service)
      .selectFrom('metadef_resource_type')
      .selectAll()
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    return {
      resource_types: rows.map((r) => ({
        name: r.name,
        created_at: isoSeconds(r.created_at),
        updated_at: isoSeconds(r.updated_at),
      })),
    };
  });

  app.get<{ Params: Params }>(ASSOCIATIONS, async (request) => {
    const ctx = request.context;
    const ns = await findNamespace(service, ctx, request.params.namespace);
    authorize(service, ctx, 'list_metadef_resource_types', ns);
    const visible = allowed(service, ctx, 'get_metadef_resource_type', ns);
    const associations = visible ? await loadAssociations(metadefDb(service), [ns.id]) : [];
    return { resource_type_associations: associations.map(renderAssociation) };
  });

  app.post<{ Params: Params }>(ASSOCIATIONS, async (request, reply) => {
    const ctx = request.context;
    const body = bodyObject(request);
    refuseReadOnly(body, ['created_at', 'updated_at']);
    validate(resourceTypeSchema(), body);
    const ns = await findNamespace(service, ctx, request.params.namespace);
    authorize(service, ctx, 'add_metadef_resource_type_association', ns);
    const association = await metadefDb(service)
      .transaction()
      .execute((trx) =>
        associate(
          trx,
          ns,
          {
            name: body['name'] as string,
            prefix: optionalString(body, 'prefix'),
            properties_target: optionalString(body, 'properties_target'),
          },
          new Date(),
        ),
      );
    void reply.code(201);
    return renderAssociation(association);
  });

  app.delete<{ Params: Params & { resource_type: string } }>(
    `${ASSOCIATIONS}/:resource_type`,
    async (request, reply) => {
      const ctx = request.context;
      const name = request.params.resource_type;
      const ns = await findNamespace(service, ctx, request.params.namespace);
      authorize(service, ctx, 'remove_metadef_resource_type_association', ns);
      const db = metadefDb(service);
      const type = await db
        .selectFrom('metadef_namespace_resource_type as a')
        .innerJoin('metadef_resource_type as r', 'r.id', 'a.resource_type_id')
        .select('a.resource_type_id')
        .where('a.namespace_id', '=', ns.id)
        .where('r.name', '=', name)
        .executeTakeFirst();
      if (!type) throw new NotFound(`Failed to find resource type ${name} to delete`);
      refuseIfProtected(ns, `Metadata definition resource-type-association ${name}`);
      await db
        .deleteFrom('metadef_namespace_resource_type')
        .where('namespace_id', '=', ns.id)
        .where('resource_type_id', '=', type.resource_type_id)
        .execute();
      return reply.code(204).send();
    },
  );
}
