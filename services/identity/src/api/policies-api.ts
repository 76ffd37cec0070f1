import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, hexId } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Identity } from '../core/identity.js';
import type { IdentitySchema } from '../store/schema.js';
import { extraOf, filterString, member, optString } from './catalog.js';
import { authorize, collection, notFound, parseJson, selfLink } from './http.js';

type Body = Record<string, unknown>;

/** A row of `policy` (migrations/0003_policies_consumers.ts). */
export interface PolicyRow {
  id: string;
  type: string;
  blob: string;
  /** JSON: every attribute of the policy besides id, type and blob. */
  extra: string;
}

type Db = Kysely<IdentitySchema & { policy: PolicyRow }>;

const COLUMNS = ['blob', 'type'] as const;

function render(request: FastifyRequest, p: PolicyRow): Body {
  return {
    ...parseJson(p.extra),
    id: p.id,
    blob: p.blob,
    type: p.type,
    links: { self: selfLink(request, `policies/${p.id}`) },
  };
}

async function getPolicy(db: Db, id: string): Promise<PolicyRow> {
  const row = await db.selectFrom('policy').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('policy', id);
  return row;
}

/** Keystone's policy schema: `blob` any string, `type` a string of up to 255. */
function checkBody(policy: Body): void {
  optString(policy, 'blob');
  optString(policy, 'type', { max: 255 });
}

/**
 * Keystone's deprecated policy-blob API (/v3/policies): opaque blobs with a type, stored
 * and served as given; they have no effect on Stratus's own policy enforcement. The
 * OS-ENDPOINT-POLICY associations under /v3/policies/{id} are not served.
 */
export function registerPolicyRoutes(app: ApiServer, identity: Identity): void {
  const db: Db = identity.db.withTables<{ policy: PolicyRow }>();

  app.get('/v3/policies', async (request) => {
    authorize(identity, request, 'identity:list_policies');
    const type = filterString(request.query, 'type');
    let q = db.selectFrom('policy').selectAll().orderBy('id');
    if (type !== undefined) q = q.where('type', '=', type);
    const rows = await q.execute();
    return collection(
      request,
      'policies',
      rows.map((p) => render(request, p)),
    );
  });

  app.post('/v3/policies', async (request, reply) => {
    authorize(identity, request, 'identity:create_policy');
    const policy = member(request, 'policy');
    for (const field of COLUMNS) {
      if (policy[field] === undefined) throw new BadRequest(`'${field}' is a required property`);
    }
    checkBody(policy);
    // As Keystone's _assign_unique_id: the server picks the id, whatever the body says.
    const row: PolicyRow = {
      id: hexId(),
      blob: policy['blob'] as string,
      type: policy['type'] as string,
      extra: JSON.stringify(extraOf(policy, COLUMNS)),
    };
    await db.insertInto('policy').values(row).execute();
    return reply.code(201).send({ policy: render(request, row) });
  });

  app.get<{ Params: { id: string } }>('/v3/policies/:id', async (request) => {
    authorize(identity, request, 'identity:get_policy');
    return { policy: render(request, await getPolicy(db, request.params.id)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/policies/:id', async (request) => {
    authorize(identity, request, 'identity:update_policy');
    const policy = member(request, 'policy', 1);
    const id = request.params.id;
    checkBody(policy);
    if (policy['id'] !== undefined && policy['id'] !== id)
      throw new BadRequest('Cannot change policy ID');
    const current = await getPolicy(db, id);
    const updated: PolicyRow = {
      id,
      blob: (policy['blob'] as string | undefined) ?? current.blob,
      type: (policy['type'] as string | undefined) ?? current.type,
      extra: JSON.stringify({ ...parseJson(current.extra), ...extraOf(policy, COLUMNS) }),
    };
    await db
      .updateTable('policy')
      .set({ blob: updated.blob, type: updated.type, extra: updated.extra })
      .where('id', '=', id)
      .execute();
    return { policy: render(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/policies/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_policy');
    const id = request.params.id;
    await getPolicy(db, id);
    await db.deleteFrom('policy').where('id', '=', id).execute();
    return reply.code(204).send();
  });
}
