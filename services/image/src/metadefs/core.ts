import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, NotFound } from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import { isoSeconds } from '../core/images.js';
import { isAdmin, type ImageService } from '../core/service.js';
import {
  metadefDb,
  type MetadefDb,
  type NamespaceRow,
  type ObjectRow,
  type PropertyRow,
  type TagRow,
} from './schema.js';

export const NAMESPACES_PATH = '/v2/metadefs/namespaces';
export const SCHEMAS_PATH = '/v2/schemas/metadefs';

export type Query = Record<string, string | string[] | undefined>;

/** The last value of a query parameter. */
export function param(query: unknown, name: string): string | undefined {
  const value = ((query ?? {}) as Query)[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

export function namespaceNotFound(name: string) {
  return new NotFound(`Metadata definition namespace=${name} was not found.`);
}

/**
 * Glance's `_is_namespace_visible`: administrators see every namespace, others the
 * public ones and those their project owns.
 */
export function canSeeNamespace(
  service: ImageService,
  ctx: RequestContext,
  row: NamespaceRow,
): boolean {
  return (
    isAdmin(service, ctx) ||
    row.visibility === 'public' ||
    (ctx.project_id !== undefined && row.owner === ctx.project_id)
  );
}

/** The policy target of a metadef rule: the namespace's owner and visibility. */
function targetOf(ctx: RequestContext, ns: NamespaceRow | undefined): Record<string, unknown> {
  return ns
    ? { project_id: ns.owner, visibility: ns.visibility }
    : { project_id: ctx.project_id ?? '' };
}

export function allowed(
  service: ImageService,
  ctx: RequestContext,
  action: string,
  ns?: NamespaceRow,
): boolean {
  return service.enforcer.enforce(action, targetOf(ctx, ns), ctx);
}

/**
 * Glance's MetadefAPIPolicy: a refusal is a 403, except that it is a 404 when the
 * caller may not even see the namespace (so its existence does not leak).
 */
export function authorize(
  service: ImageService,
  ctx: RequestContext,
  action: string,
  ns?: NamespaceRow,
): void {
  if (allowed(service, ctx, action, ns)) return;
  if (
    ns &&
    (action === 'get_metadef_namespace' || !allowed(service, ctx, 'get_metadef_namespace', ns))
  )
    throw namespaceNotFound(ns.namespace);
  throw new Forbidden(`You are not authorized to complete ${action} action.`);
}

/** A namespace the caller can see, by name, or 404. */
export async function findNamespace(
  service: ImageService,
  ctx: RequestContext,
  name: string,
): Promise<NamespaceRow> {
  const row = await metadefDb(service)
    .selectFrom('metadef_namespace')
    .selectAll()
    .where('namespace', '=', name)
    .executeTakeFirst();
  if (!row || !canSeeNamespace(service, ctx, row)) throw namespaceNotFound(name);
  return row;
}

/** Contents of a protected namespace cannot be deleted (nor the namespace itself). */
export function refuseIfProtected(ns: NamespaceRow, what: string): void {
  if (ns.protected) throw new Forbidden(`${what} is protected and cannot be deleted.`);
}

const without = <T extends Record<string, unknown>>(doc: T): Partial<T> =>
  Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null && v !== undefined)) as T;

export function namespaceHref(name: string): string {
  return `${NAMESPACES_PATH}/${name}`;
}

/** A namespace's own attributes (Glance leaves out the unset ones). */
export function renderNamespace(row: NamespaceRow): Record<string, unknown> {
  return without({
    namespace: row.namespace,
    display_name: row.display_name,
    description: row.description,
    visibility: row.visibility,
    protected: row.protected,
    owner: row.owner,
    created_at: isoSeconds(row.created_at),
    updated_at: isoSeconds(row.updated_at),
    self: namespaceHref(row.namespace),
    schema: `${SCHEMAS_PATH}/namespace`,
  });
}

export interface Association {
  namespace_id: string;
  name: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: Date;
  updated_at: Date;
}

export function renderAssociation(a: Association): Record<string, unknown> {
  return without({
    name: a.name,
    prefix: a.prefix,
    properties_target: a.properties_target,
    created_at: isoSeconds(a.created_at),
    updated_at: isoSeconds(a.updated_at),
  });
}

/** The resource-type associations of some namespaces. */
export async function loadAssociations(
  db: MetadefDb,
  namespaceIds: readonly string[],
): Promise<Association[]> {
  if (namespaceIds.length === 0) return [];
  return db
    .selectFrom('metadef_namespace_resource_type as a')
    .innerJoin('metadef_resource_type as r', 'r.id', 'a.resource_type_id')
    .select([
      'a.namespace_id',
      'r.name',
      'a.prefix',
      'a.properties_target',
      'a.created_at',
      'a.updated_at',
    ])
    .where('a.namespace_id', 'in', namespaceIds)
    .orderBy('a.created_at')
    .orderBy('r.name')
    .execute();
}

export function objectHref(namespace: string, name: string): string {
  return `${namespaceHref(namespace)}/objects/${name}`;
}

export function renderObject(namespace: string, row: ObjectRow): Record<string, unknown> {
  return without({
    name: row.name,
    description: row.description,
    required: JSON.parse(row.required) as string[],
    properties: JSON.parse(row.json_schema) as Record<string, unknown>,
    created_at: isoSeconds(row.created_at),
    updated_at: isoSeconds(row.updated_at),
    self: objectHref(namespace, row.name),
    schema: `${SCHEMAS_PATH}/object`,
  });
}

/** A property: its definition, with its name unless it is a key of a collection. */
export function renderProperty(row: PropertyRow, withName = true): Record<string, unknown> {
  const definition = JSON.parse(row.json_schema) as Record<string, unknown>;
  return withName ? { name: row.name, ...definition } : definition;
}

export function renderTag(row: TagRow): Record<string, unknown> {
  return {
    name: row.name,
    created_at: isoSeconds(row.created_at),
    updated_at: isoSeconds(row.updated_at),
  };
}

/**
 * GET /v2/metadefs/namespaces/{ns}: the namespace with everything in it. With a
 * resource type whose association has a prefix, property names carry that prefix.
 */
export async function namespaceDetail(
  service: ImageService,
  ns: NamespaceRow,
  resourceType?: string,
): Promise<Record<string, unknown>> {
  const db = metadefDb(service);
  const [objects, associations, properties, tags] = await Promise.all([
    db
      .selectFrom('metadef_object')
      .selectAll()
      .where('namespace_id', '=', ns.id)
      .orderBy('created_at')
      .orderBy('name')
      .execute(),
    loadAssociations(db, [ns.id]),
    db
      .selectFrom('metadef_property')
      .selectAll()
      .where('namespace_id', '=', ns.id)
      .orderBy('name')
      .execute(),
    db
      .selectFrom('metadef_tag')
      .selectAll()
      .where('namespace_id', '=', ns.id)
      .orderBy('created_at')
      .orderBy('name')
      .execute(),
  ]);
  const prefix = resourceType
    ? (associations.find((a) => a.name === resourceType)?.prefix ?? '')
    : '';
  const prefixed = (props: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(props).map(([k, v]) => [prefix + k, v]));
  const doc = renderNamespace(ns);
  if (objects.length > 0)
    doc['objects'] = objects.map((o) => {
      const rendered = renderObject(ns.namespace, o);
      if (!prefix) return rendered;
      return {
        ...rendered,
        properties: prefixed(rendered['properties'] as Record<string, unknown>),
        required: (rendered['required'] as string[]).map((r) => prefix + r),
      };
    });
  if (associations.length > 0)
    doc['resource_type_associations'] = associations.map(renderAssociation);
  if (properties.length > 0)
    doc['properties'] = prefixed(
      Object.fromEntries(properties.map((p) => [p.name, renderProperty(p, false)])),
    );
  if (tags.length > 0) doc['tags'] = tags.map((t) => ({ name: t.name }));
  return doc;
}

/** Runs an insert or update, turning a unique-key violation into Glance's 409. */
export async function unique<T>(work: Promise<T>, message: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(message);
    throw err;
  }
}

/** The definition of an object, as a body (validated) gives it. */
export interface ObjectFields {
  name: string;
  description: string | null;
  required: string[];
  properties: Record<string, Record<string, unknown>>;
}

export async function insertObject(
  db: MetadefDb,
  ns: NamespaceRow,
  fields: ObjectFields,
  now: Date,
): Promise<ObjectRow> {
  const row: ObjectRow = {
    id: randomUUID(),
    namespace_id: ns.id,
    name: fields.name,
    description: fields.description,
    required: JSON.stringify(fields.required),
    json_schema: JSON.stringify(fields.properties),
    created_at: now,
    updated_at: now,
  };
  await unique(
    db.insertInto('metadef_object').values(row).execute(),
    `A metadata definition object with name=${fields.name} already exists in namespace=${ns.namespace}.`,
  );
  return row;
}

export async function insertProperty(
  db: MetadefDb,
  ns: NamespaceRow,
  name: string,
  definition: Record<string, unknown>,
  now: Date,
): Promise<PropertyRow> {
  const row: PropertyRow = {
    id: randomUUID(),
    namespace_id: ns.id,
    name,
    json_schema: JSON.stringify(definition),
    created_at: now,
    updated_at: now,
  };
  await unique(
    db.insertInto('metadef_property').values(row).execute(),
    `A metadata definition property with name=${name} already exists in namespace=${ns.namespace}.`,
  );
  return row;
}

export function duplicateTag(name: string, ns: NamespaceRow): string {
  return `A metadata tag with name=${name} already exists in namespace=${ns.namespace}. (Please note that metadata tag names are case insensitive).`;
}

export async function insertTag(
  db: MetadefDb,
  ns: NamespaceRow,
  name: string,
  now: Date,
): Promise<TagRow> {
  const row: TagRow = {
    id: randomUUID(),
    namespace_id: ns.id,
    name,
    created_at: now,
    updated_at: now,
  };
  await unique(db.insertInto('metadef_tag').values(row).execute(), duplicateTag(name, ns));
  return row;
}

export interface AssociationFields {
  name: string;
  prefix: string | null;
  properties_target: string | null;
}

/**
 * Associates a namespace with a resource type, creating the type when it is new (as
 * Glance does): 409 when the association exists.
 */
export async function associate(
  db: MetadefDb,
  ns: NamespaceRow,
  fields: AssociationFields,
  now: Date,
): Promise<Association> {
  let type = await db
    .selectFrom('metadef_resource_type')
    .select('id')
    .where('name', '=', fields.name)
    .executeTakeFirst();
  if (!type) {
    type = { id: randomUUID() };
    await unique(
      db
        .insertInto('metadef_resource_type')
        .values({
          id: type.id,
          name: fields.name,
          protected: false,
          created_at: now,
          updated_at: now,
        })
        .execute(),
      `A metadata definition resource-type with name=${fields.name} already exists.`,
    );
  }
  await unique(
    db
      .insertInto('metadef_namespace_resource_type')
      .values({
        namespace_id: ns.id,
        resource_type_id: type.id,
        prefix: fields.prefix,
        properties_target: fields.properties_target,
        created_at: now,
        updated_at: now,
      })
      .execute(),
    `The metadata definition resource-type association of resource-type=${fields.name} to namespace=${ns.namespace} already exists.`,
  );
  return { namespace_id: ns.id, ...fields, created_at: now, updated_at: now };
}

/** `limit` as Glance parses it: an integer, not negative. */
export function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) throw new BadRequest('limit param must be an integer');
  const limit = Number(raw);
  if (limit < 0) throw new BadRequest('limit param must be positive');
  return limit;
}

export function parseSortDir(raw: string | undefined): 'asc' | 'desc' {
  const dir = raw ?? 'desc';
  if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`Invalid sort direction: ${dir}`);
  return dir;
}

export function parseSortKey(raw: string | undefined, keys: readonly string[]): string {
  const key = raw ?? 'created_at';
  if (!keys.includes(key))
    throw new BadRequest(`Invalid sort key: ${key}. Valid keys are: ${keys.join(', ')}.`);
  return key;
}

/** The request's query string without `marker` ('' when nothing is left). */
export function queryWithout(url: string, name: string): URLSearchParams {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  params.delete(name);
  return params;
}
