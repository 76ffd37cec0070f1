import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Forbidden, NotFound } from '@stratus/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { DEFAULT_DOMAIN_ID } from '../core/bootstrap.js';
import type { Identity } from '../core/identity.js';
import type { IdentitySchema } from '../store/schema.js';
import { invalid } from './catalog.js';
import { authorize, notFound } from './http.js';

/** The table of migration 0004 this group uses (not yet in store/schema.ts). */
export interface DomainConfigTables {
  domain_config: {
    domain_id: string;
    group: string;
    option: string;
    /** JSON. */
    value: string;
    sensitive: boolean;
  };
}

type Db = Kysely<IdentitySchema & DomainConfigTables>;
type Config = Record<string, Record<string, unknown>>;
type OptionRow = DomainConfigTables['domain_config'];

/**
 * The options a domain may set, with the defaults Keystone's own configuration has for
 * them (keystone/conf/{identity,ldap}.py): Keystone's `whitelisted_options`, in its
 * order. Stratus has no LDAP driver; these configurations are stored and served only.
 */
export const DOMAIN_CONFIG_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  identity: { driver: 'sql', list_limit: null },
  ldap: {
    url: 'ldap://localhost',
    user: null,
    suffix: 'cn=example,cn=com',
    query_scope: 'one',
    page_size: 0,
    alias_dereferencing: 'default',
    debug_level: null,
    chase_referrals: null,
    user_tree_dn: null,
    user_filter: null,
    user_objectclass: 'inetOrgPerson',
    user_id_attribute: 'cn',
    user_name_attribute: 'sn',
    user_mail_attribute: 'mail',
    user_description_attribute: 'description',
    user_pass_attribute: 'userPassword',
    user_enabled_attribute: 'enabled',
    user_enabled_invert: false,
    user_enabled_mask: 0,
    user_enabled_default: 'True',
    user_attribute_ignore: ['default_project_id'],
    user_default_project_id_attribute: null,
    user_enabled_emulation: false,
    user_enabled_emulation_dn: null,
    user_enabled_emulation_use_group_config: false,
    user_additional_attribute_mapping: [],
    group_tree_dn: null,
    group_filter: null,
    group_objectclass: 'groupOfNames',
    group_id_attribute: 'cn',
    group_name_attribute: 'ou',
    group_members_are_ids: false,
    group_member_attribute: 'member',
    group_desc_attribute: 'description',
    group_attribute_ignore: [],
    group_additional_attribute_mapping: [],
    tls_cacertfile: null,
    tls_cacertdir: null,
    use_tls: false,
    tls_req_cert: 'demand',
    use_pool: true,
    pool_size: 10,
    pool_retry_max: 3,
    pool_retry_delay: 0.1,
    pool_connection_timeout: -1,
    pool_connection_lifetime: 600,
    use_auth_pool: true,
    auth_pool_size: 100,
    auth_pool_connection_lifetime: 60,
  },
};

/** Stored, but never shown (Keystone's `sensitive_options`). */
export const DOMAIN_CONFIG_SENSITIVE: Readonly<Record<string, readonly string[]>> = {
  identity: [],
  ldap: ['password'],
};

const SECURITY_COMPLIANCE = 'security_compliance';
const READABLE_COMPLIANCE_OPTIONS = ['password_regex', 'password_regex_description'];

/** Keystone's InvalidDomainConfig: a 403. */
function invalidConfig(reason: string): InstanceType<typeof Forbidden> {
  return new Forbidden(`Invalid domain specific configuration: ${reason}.`);
}

function configNotFound(domainId: string, what: string): InstanceType<typeof NotFound> {
  return new NotFound(`Could not find ${what} in domain configuration for domain ${domainId}.`);
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function isSensitive(group: string, option: string): boolean {
  return (DOMAIN_CONFIG_SENSITIVE[group] ?? []).includes(option);
}

function assertValidGroupAndOption(group?: string, option?: string): void {
  if (group === undefined) return;
  const whitelisted = has(DOMAIN_CONFIG_DEFAULTS, group)
    ? DOMAIN_CONFIG_DEFAULTS[group]
    : undefined;
  if (!whitelisted)
    throw invalidConfig(`Group ${group} is not supported for domain specific configurations`);
  if (option !== undefined && !has(whitelisted, option) && !isSensitive(group, option))
    throw invalidConfig(
      `Option ${option} in group ${group} is not supported for domain specific configurations`,
    );
}

function assertValidConfig(config: Record<string, unknown>): asserts config is Config {
  if (Object.keys(config).length === 0) throw invalidConfig('No options specified');
  for (const [group, options] of Object.entries(config)) {
    if (!isObject(options) || Object.keys(options).length === 0)
      throw invalidConfig(
        `The value of group ${group} specified in the config should be a dictionary of options`,
      );
    for (const option of Object.keys(options)) assertValidGroupAndOption(group, option);
  }
}

/** The request's `config` (Keystone reads a missing one as `{}`). */
function configOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw new BadRequest("Expecting an object with a 'config' member");
  const config = body['config'];
  if (config === undefined) return {};
  if (!isObject(config))
    throw invalid('config', `${JSON.stringify(config)} is not of type 'object'`);
  return config;
}

/** Options as Keystone's `_list_to_config`: `{group: {option: value}}`, or `{option: value}`. */
function toConfig(rows: readonly OptionRow[], option?: string): Config | Record<string, unknown> {
  if (option !== undefined) {
    const row = rows[0];
    return row ? { [row.option]: JSON.parse(row.value) as unknown } : {};
  }
  const config: Config = {};
  for (const r of rows) (config[r.group] ??= {})[r.option] = JSON.parse(r.value) as unknown;
  return config;
}

async function listOptions(
  db: Db,
  domainId: string,
  filter: { group?: string; option?: string; withSensitive?: boolean } = {},
): Promise<OptionRow[]> {
  let q = db
    .selectFrom('domain_config')
    .selectAll()
    .where('domain_id', '=', domainId)
    .orderBy('group')
    .orderBy('option');
  if (filter.group !== undefined) q = q.where('group', '=', filter.group);
  if (filter.option !== undefined) q = q.where('option', '=', filter.option);
  if (!filter.withSensitive) q = q.where('sensitive', '=', false);
  return q.execute();
}

function rowsOf(domainId: string, config: Config): OptionRow[] {
  return Object.entries(config).flatMap(([group, options]) =>
    Object.entries(options).map(([option, value]) => ({
      domain_id: domainId,
      group,
      option,
      value: JSON.stringify(value ?? null),
      sensitive: isSensitive(group, option),
    })),
  );
}

async function assertDomain(db: Db, domainId: string): Promise<void> {
  const row = await db
    .selectFrom('project')
    .select('id')
    .where('id', '=', domainId)
    .where('is_domain', '=', true)
    .executeTakeFirst();
  if (!row) throw notFound('domain', domainId);
}

/** Keystone's get_config: the whitelisted options that match, or 404. */
async function getConfig(
  db: Db,
  domainId: string,
  group?: string,
  option?: string,
): Promise<Record<string, unknown>> {
  const rows = await listOptions(db, domainId, {
    ...(group !== undefined ? { group } : {}),
    ...(option !== undefined ? { option } : {}),
  });
  if (rows.length > 0) return toConfig(rows, option);
  throw configNotFound(
    domainId,
    option !== undefined
      ? `option ${option} in group ${group}`
      : group !== undefined
        ? `group ${group}`
        : 'any options',
  );
}

/** Keystone's update_config checks: a group/option PATCH names that group/option alone. */
async function assertValidUpdate(
  db: Db,
  domainId: string,
  config: Config,
  group?: string,
  option?: string,
): Promise<void> {
  assertValidConfig(config);
  assertValidGroupAndOption(group, option);
  if (group === undefined) return;
  const groupOptions = config[group];
  if (
    Object.keys(config).length !== 1 ||
    (option !== undefined && Object.keys(groupOptions ?? {}).length !== 1)
  ) {
    throw invalidConfig(
      option !== undefined
        ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
        : `Trying to update group ${group}, so that, and only that, group must be specified in the config`,
    );
  }
  if (!groupOptions)
    throw invalidConfig(
      `request to update group ${group}, but config provided contains group ${Object.keys(config)[0]} instead`,
    );
  if (option !== undefined && !has(groupOptions, option))
    throw invalidConfig(
      `Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(groupOptions)[0]} instead`,
    );
  const existing = await listOptions(db, domainId, {
    group,
    ...(option !== undefined ? { option } : {}),
    withSensitive: true,
  });
  if (existing.length === 0)
    throw configNotFound(
      domainId,
      option !== undefined ? `option ${option} in group ${group}` : `group ${group}`,
    );
}

/** Keystone's security compliance view: the password rules, default domain only. */
function securityCompliance(identity: Identity, domainId: string, option?: string) {
  if (domainId !== DEFAULT_DOMAIN_ID)
    throw invalidConfig(
      'Reading security compliance information for any domain other than the default domain is not allowed or supported',
    );
  if (option !== undefined && !READABLE_COMPLIANCE_OPTIONS.includes(option))
    throw invalidConfig(
      'Reading security compliance values other than password_regex and password_regex_description is not allowed',
    );
  const s = identity.settings;
  // Keystone's unset options are None; ours are ''.
  const values: Record<string, unknown> = {
    password_regex: s.password_regex === '' ? null : s.password_regex,
    password_regex_description:
      s.password_regex_description === '' ? null : s.password_regex_description,
  };
  if (option !== undefined) return { [option]: values[option] };
  return { [SECURITY_COMPLIANCE]: values };
}

function defaults(group?: string, option?: string): Record<string, unknown> {
  assertValidGroupAndOption(group, option);
  if (group === undefined)
    return Object.fromEntries(
      Object.entries(DOMAIN_CONFIG_DEFAULTS).map(([g, o]) => [g, { ...o }]),
    );
  const whitelisted = DOMAIN_CONFIG_DEFAULTS[group] ?? {};
  if (option === undefined) return { [group]: { ...whitelisted } };
  if (!has(whitelisted, option))
    throw invalidConfig(
      `Reading the default for option ${option} in group ${group} is not supported`,
    );
  return { [option]: whitelisted[option] };
}

type Params = { domain_id: string; group?: string; option?: string };

/**
 * Domain-specific identity driver configuration (/v3/domains/{id}/config…) and
 * Keystone's defaults (/v3/domains/config/…/default). Needs migration 0004. Stored and
 * served only: Stratus has one identity backend and does not load per-domain drivers.
 */
export function registerDomainConfigRoutes(app: ApiServer, identity: Identity): void {
  const db = identity.db as unknown as Db;
  const base = '/v3/domains/:domain_id/config';

  app.put<{ Params: Params }>(base, async (request, reply) => {
    authorize(identity, request, 'identity:create_domain_config');
    const domainId = request.params.domain_id;
    await assertDomain(db, domainId);
    const config = configOf(request);
    assertValidConfig(config);
    const had = (await listOptions(db, domainId, { withSensitive: true })).length > 0;
    // A new configuration replaces the old one entirely (no 409), as in Keystone.
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('domain_config').where('domain_id', '=', domainId).execute();
      const rows = rowsOf(domainId, config);
      if (rows.length > 0) await trx.insertInto('domain_config').values(rows).execute();
    });
    const body = { config: toConfig(await listOptions(db, domainId)) };
    return reply.code(had ? 200 : 201).send(body);
  });

  const show = async (request: FastifyRequest<{ Params: Params }>) => {
    const { domain_id: domainId, group, option } = request.params;
    if (group === SECURITY_COMPLIANCE) {
      authorize(identity, request, 'identity:get_security_compliance_domain_config');
      await assertDomain(db, domainId);
      return { config: securityCompliance(identity, domainId, option) };
    }
    authorize(identity, request, 'identity:get_domain_config');
    assertValidGroupAndOption(group, option);
    await assertDomain(db, domainId);
    return { config: await getConfig(db, domainId, group, option) };
  };

  const update = async (request: FastifyRequest<{ Params: Params }>) => {
    authorize(identity, request, 'identity:update_domain_config');
    const { domain_id: domainId, group, option } = request.params;
    await assertDomain(db, domainId);
    const body = configOf(request);
    // An option PATCH sends `{config: {<option>: value}}`: read it as under its group.
    const config = group !== undefined && option !== undefined ? { [group]: body } : body;
    await assertValidUpdate(db, domainId, config as Config, group, option);
    const rows = rowsOf(domainId, config as Config);
    await db.transaction().execute(async (trx) => {
      for (const r of rows) {
        await trx
          .deleteFrom('domain_config')
          .where('domain_id', '=', domainId)
          .where('group', '=', r.group)
          .where('option', '=', r.option)
          .execute();
        await trx.insertInto('domain_config').values(r).execute();
      }
    });
    return { config: await getConfig(db, domainId) };
  };

  const remove = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    authorize(identity, request, 'identity:delete_domain_config');
    const { domain_id: domainId, group, option } = request.params;
    await assertDomain(db, domainId);
    assertValidGroupAndOption(group, option);
    if (group !== undefined) {
      const current = await listOptions(db, domainId, { group, withSensitive: true });
      if (current.length === 0) throw configNotFound(domainId, `group ${group}`);
      if (option !== undefined && !current.some((r) => r.option === option))
        throw configNotFound(domainId, `option ${option} in group ${group}`);
    }
    let q = db.deleteFrom('domain_config').where('domain_id', '=', domainId);
    if (group !== undefined) q = q.where('group', '=', group);
    if (option !== undefined) q = q.where('option', '=', option);
    await q.execute();
    return reply.code(204).send();
  };

  for (const path of [base, `${base}/:group`, `${base}/:group/:option`]) {
    app.get<{ Params: Params }>(path, show);
    app.patch<{ Params: Params }>(path, update);
    app.delete<{ Params: Params }>(path, remove);
  }

  const showDefault = (request: FastifyRequest<{ Params: Params }>) => {
    authorize(identity, request, 'identity:get_domain_config_default');
    return Promise.resolve({ config: defaults(request.params.group, request.params.option) });
  };
  app.get<{ Params: Params }>('/v3/domains/config/default', showDefault);
  app.get<{ Params: Params }>('/v3/domains/config/:group/default', showDefault);
  app.get<{ Params: Params }>('/v3/domains/config/:group/:option/default', showDefault);
}
