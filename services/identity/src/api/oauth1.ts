import { randomBytes } from 'node:crypto';
import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, hexId, NotFound } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Identity } from '../core/identity.js';
import type { IdentitySchema } from '../store/schema.js';
import { extraOf, invalid, optString, requireMatchingId } from './catalog.js';
import { authorize, collection, parseJson, selfLink } from './http.js';

type Body = Record<string, unknown>;

/** A row of `consumer` (migrations/0003_policies_consumers.ts). */
export interface ConsumerRow {
  id: string;
  description: string | null;
  /** identity.hasher's hash of the secret: the secret itself is shown once, on create. */
  secret_hash: string;
  /** JSON: every attribute of the consumer besides id, description and secret. */
  extra: string;
}

type Db = Kysely<IdentitySchema & { consumer: ConsumerRow }>;

/** `secret` is never taken from the body: on create the server makes one, on update it is refused. */
const COLUMNS = ['description', 'secret'] as const;

function render(request: FastifyRequest, c: ConsumerRow): Body {
  return {
    ...parseJson(c.extra),
    id: c.id,
    description: c.description,
    links: { self: selfLink(request, `OS-OAUTH1/consumers/${c.id}`) },
  };
}

async function getConsumer(db: Db, id: string): Promise<ConsumerRow> {
  const row = await db.selectFrom('consumer').selectAll().where('id', '=', id).executeTakeFirst();
  // Keystone's own wording for a missing consumer.
  if (!row) throw new NotFound('Consumer not found');
  return row;
}

/**
 * The `consumer` object of a request. Keystone reads `body.get('consumer', {})`, so a
 * create without one makes a consumer with no description; anything but an object is 400.
 */
function consumerBody(request: FastifyRequest): Body {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new BadRequest("'consumer' is a required property");
  const value = (body as Body)['consumer'];
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw invalid('consumer', `${JSON.stringify(value)} is not of type 'object'`);
  return value as Body;
}

/**
 * OAuth1 consumers (/v3/OS-OAUTH1/consumers), as Keystone's OS-OAUTH1 extension. Only
 * consumer management is served: request tokens, authorization, access tokens and OAuth1
 * authentication (/v3/OS-OAUTH1/request_token, authorize, access_token,
 * /v3/users/{id}/OS-OAUTH1/access_tokens) are not.
 */
export function registerOAuth1Routes(app: ApiServer, identity: Identity): void {
  const db: Db = identity.db.withTables<{ consumer: ConsumerRow }>();

  app.get('/v3/OS-OAUTH1/consumers', async (request) => {
    authorize(identity, request, 'identity:list_consumers');
    const rows = await db.selectFrom('consumer').selectAll().orderBy('id').execute();
    return collection(
      request,
      'consumers',
      rows.map((c) => render(request, c)),
    );
  });

  app.post('/v3/OS-OAUTH1/consumers', async (request, reply) => {
    authorize(identity, request, 'identity:create_consumer');
    const consumer = consumerBody(request);
    const description = optString(consumer, 'description', { nullable: true }) ?? null;
    // As Keystone: the server picks the id and a fresh secret, whatever the body says.
    const secret = randomBytes(16).toString('hex');
    const row: ConsumerRow = {
      id: hexId(),
      description,
      secret_hash: await identity.hasher.hash(secret),
      extra: JSON.stringify(extraOf(consumer, COLUMNS)),
    };
    await db.insertInto('consumer').values(row).execute();
    return reply.code(201).send({ consumer: { ...render(request, row), secret } });
  });

  app.get<{ Params: { id: string } }>('/v3/OS-OAUTH1/consumers/:id', async (request) => {
    authorize(identity, request, 'identity:get_consumer');
    return { consumer: render(request, await getConsumer(db, request.params.id)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/OS-OAUTH1/consumers/:id', async (request) => {
    authorize(identity, request, 'identity:update_consumer');
    const consumer = consumerBody(request);
    const id = request.params.id;
    if (consumer['secret'] !== undefined)
      throw invalid('consumer', 'the secret of a consumer cannot be changed');
    if (Object.keys(consumer).length < 1)
      throw invalid('consumer', `${JSON.stringify(consumer)} does not have enough properties`);
    const description = optString(consumer, 'description', { nullable: true });
    requireMatchingId(consumer, id);
    const current = await getConsumer(db, id);
    const updated: ConsumerRow = {
      ...current,
      description: description === undefined ? current.description : description,
      extra: JSON.stringify({ ...parseJson(current.extra), ...extraOf(consumer, COLUMNS) }),
    };
    await db
      .updateTable('consumer')
      .set({ description: updated.description, extra: updated.extra })
      .where('id', '=', id)
      .execute();
    return { consumer: render(request, updated) };
  });

  app.delete<{ Params: { id: string } }>('/v3/OS-OAUTH1/consumers/:id', async (request, reply) => {
    authorize(identity, request, 'identity:delete_consumer');
    const id = request.params.id;
    await getConsumer(db, id);
    // Keystone also deletes the consumer's request and access tokens and flushes its
    // token cache; with no OAuth1 tokens served here, there is nothing else to remove.
    await db.deleteFrom('consumer').where('id', '=', id).execute();
    return reply.code(204).send();
  });
}
