import type { ApiServer, RequestContext } from '@stratus/api-kit';
import { Conflict, NotFound } from '@stratus/common';
import { paginate } from '@stratus/db';
import type { ImageService } from '../core/service.js';
import {
  authorize,
  duplicateTag,
  findNamespace,
  insertTag,
  NAMESPACES_PATH,
  param,
  parseLimit,
  parseSortDir,
  parseSortKey,
  refuseIfProtected,
  renderTag,
  unique,
} from './core.js';
import { metadefDb, type NamespaceRow, type TagRow } from './schema.js';
import { tagListSchema, tagSchema } from './schemas.js';
import { bodyObject, refuseReadOnly, truthy, validate } from './validate.js';

type Params = { namespace: string };
type TagParams = Params & { tag_name: string };

const TAGS = `${NAMESPACES_PATH}/:namespace/tags`;
const SORT_KEYS = ['name', 'created_at', 'updated_at'] as const;

async function findTag(service: ImageService, ns: NamespaceRow, name: string): Promise<TagRow> {
  const row = await metadefDb(service)
    .selectFrom('metadef_tag')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFound(`Could not find metadata tag ${name}`);
  return row;
}

export function registerTagRoutes(app: ApiServer, service: ImageService): void {
  const load = async (ctx: RequestContext, params: Params, action: string) => {
    const ns = await findNamespace(service, ctx, params.namespace);
    authorize(service, ctx, action, ns);
    return ns;
  };

  // Several tags at once; they replace the namespace's tags unless X-Openstack-Append.
  app.post<{ Params: Params }>(TAGS, async (request, reply) => {
    const body = bodyObject(request);
    refuseReadOnly(body, ['created_at', 'updated_at']);
    validate(tagListSchema(), body);
    const names = ((body['tags'] as Array<{ name: string }> | undefined) ?? []).map((t) => {
      validate(tagSchema(), t);
      return t.name;
    });
    const ns = await load(request.context, request.params, 'add_metadef_tags');
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) throw new Conflict(duplicateTag(name, ns));
      seen.add(name);
    }
    const append = truthy(request.headers['x-openstack-append']);
    if (names.length > 0) {
      const now = new Date();
      await metadefDb(service)
        .transaction()
        .execute(async (trx) => {
          if (!append)
            await trx.deleteFrom('metadef_tag').where('namespace_id', '=', ns.id).execute();
          for (const name of names) await insertTag(trx, ns, name, now);
        });
    }
    void reply.code(201);
    return { tags: names.map((name) => ({ name })) };
  });

  app.get<{ Params: Params }>(TAGS, async (request) => {
    const ctx = request.context;
    const { query } = request;
    const limit = parseLimit(param(query, 'limit') || undefined);
    const dir = parseSortDir(param(query, 'sort_dir'));
    const key = parseSortKey(param(query, 'sort_key'), SORT_KEYS);
    const ns = await load(ctx, request.params, 'get_metadef_tags');
    const markerName = param(query, 'marker');
    const marker = markerName ? await findTag(service, ns, markerName) : undefined;
    const rows = await paginate(
      metadefDb(service).selectFrom('metadef_tag').selectAll().where('namespace_id', '=', ns.id),
      {
        sort: [
          { key, dir },
          { key: 'created_at', dir },
        ],
        idKey: 'id',
        ...(marker ? { marker } : {}),
        ...(limit !== undefined ? { limit } : {}),
      },
    );
    return { tags: rows.map((r) => ({ name: r.name })) };
  });

  app.post<{ Params: TagParams }>(`${TAGS}/:tag_name`, async (request, reply) => {
    const ns = await findNamespace(service, request.context, request.params.namespace);
    const name = request.params.tag_name;
    validate(tagSchema(), { name });
    authorize(service, request.context, 'add_metadef_tag', ns);
    const row = await insertTag(metadefDb(service), ns, name, new Date());
    void reply.code(201);
    return renderTag(row);
  });

  app.get<{ Params: TagParams }>(`${TAGS}/:tag_name`, async (request) => {
    const ns = await load(request.context, request.params, 'get_metadef_tag');
    return renderTag(await findTag(service, ns, request.params.tag_name));
  });

  app.put<{ Params: TagParams }>(`${TAGS}/:tag_name`, async (request) => {
    const body = bodyObject(request);
    refuseReadOnly(body, ['created_at', 'updated_at']);
    validate(tagSchema(), body);
    const ns = await load(request.context, request.params, 'modify_metadef_tag');
    const row = await findTag(service, ns, request.params.tag_name);
    const next: TagRow = { ...row, name: body['name'] as string, updated_at: new Date() };
    await unique(
      metadefDb(service)
        .updateTable('metadef_tag')
        .set({ name: next.name, updated_at: next.updated_at })
        .where('id', '=', row.id)
        .execute(),
      duplicateTag(next.name, ns),
    );
    return renderTag(next);
  });

  app.delete<{ Params: TagParams }>(`${TAGS}/:tag_name`, async (request, reply) => {
    const ns = await load(request.context, request.params, 'delete_metadef_tag');
    const row = await findTag(service, ns, request.params.tag_name);
    refuseIfProtected(ns, `Metadata definition tag ${row.name}`);
    await metadefDb(service).deleteFrom('metadef_tag').where('id', '=', row.id).execute();
    return reply.code(204).send();
  });
}
