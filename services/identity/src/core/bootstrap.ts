import { hexId } from '@stratus/common';
import type { Kysely } from 'kysely';
import type { IdentitySchema } from '../store/schema.js';
import type { PasswordHasher } from './passwords.js';

export const DEFAULT_DOMAIN_ID = 'default';

export interface CatalogEntry {
  type: string;
  name: string;
  /** Base URLs by interface. */
  urls: { public: string; internal: string; admin: string };
}

export interface BootstrapOptions {
  adminPassword: string;
  region: string;
  catalog: readonly CatalogEntry[];
  /** Service users to create in the `service` project, with the `service` and `admin` roles. */
  serviceUsers?: readonly { name: string; password: string }[];
}

/**
 * Keystone's bootstrap, idempotent: the `Default` domain (id `default`, which clients and
 * Tempest rely on), the `admin` project and user, the roles admin ⊃ member ⊃ reader plus
 * manager and service, admin on the admin project and on the system, the `service`
 * project, the region and the catalog. A second run adds what is missing and updates
 * catalog URLs (e.g. after a port change); it never resets the admin's password.
 */
export async function bootstrap(
  db: Kysely<IdentitySchema>,
  hasher: PasswordHasher,
  options: BootstrapOptions,
): Promise<void> {
  const now = new Date();
  await db.transaction().execute(async (trx) => {
    const project = async (
      id: string | undefined,
      name: string,
      domainId: string | null,
    ): Promise<string> => {
      const existing = await trx
        .selectFrom('project')
        .select('id')
        .where('name', '=', name)
        .where('name_scope', '=', domainId ?? '')
        .executeTakeFirst();
      if (existing) return existing.id;
      const newId = id ?? hexId();
      await trx
        .insertInto('project')
        .values({
          id: newId,
          name,
          domain_id: domainId,
          parent_id: domainId,
          name_scope: domainId ?? '',
          is_domain: domainId === null,
          enabled: true,
          description: domainId === null ? 'The default domain' : `Bootstrap project ${name}`,
          extra: '{}',
          created_at: now,
        })
        .execute();
      return newId;
    };
    const domainId = await project(DEFAULT_DOMAIN_ID, 'Default', null);
    const adminProject = await project(undefined, 'admin', domainId);
    const serviceProject = await project(undefined, 'service', domainId);

    const role = async (name: string): Promise<string> => {
      const existing = await trx
        .selectFrom('role')
        .select('id')
        .where('name', '=', name)
        .where('domain_id', '=', '')
        .executeTakeFirst();
      if (existing) return existing.id;
      const id = hexId();
      await trx
        .insertInto('role')
        .values({ id, name, domain_id: '', description: null, options: '{}', extra: '{}' })
        .execute();
      return id;
    };
    const roles = {
      admin: await role('admin'),
      manager: await role('manager'),
      member: await role('member'),
      reader: await role('reader'),
      service: await role('service'),
    };
    const imply = async (prior: string, implied: string): Promise<void> => {
      const exists = await trx
        .selectFrom('implied_role')
        .select('prior_role_id')
        .where('prior_role_id', '=', prior)
        .where('implied_role_id', '=', implied)
        .executeTakeFirst();
      if (!exists)
        await trx
          .insertInto('implied_role')
          .values({ prior_role_id: prior, implied_role_id: implied })
          .execute();
    };
    await imply(roles.admin, roles.manager);
    await imply(roles.manager, roles.member);
    await imply(roles.member, roles.reader);

    const user = async (name: string, password: string): Promise<string> => {
      const existing = await trx
        .selectFrom('identity_user')
        .select('id')
        .where('name', '=', name)
        .where('domain_id', '=', domainId)
        .executeTakeFirst();
      if (existing) return existing.id;
      if (password === '') {
        throw new Error(
          `cannot create the ${name} user: no password is configured (identity.admin_password)`,
        );
      }
      const id = hexId();
      await trx
        .insertInto('identity_user')
        .values({
          id,
          domain_id: domainId,
          name,
          enabled: true,
          default_project_id: null,
          description: null,
          email: null,
          extra: '{}',
          options: '{}',
          created_at: now,
          last_active_at: null,
          failed_auth_at: null,
        })
        .execute();
      await trx
        .insertInto('password')
        .values({
          user_id: id,
          hash: await hasher.hash(password),
          created_at: now,
          expires_at: null,
          replaced_at: null,
          self_service: false,
        })
        .execute();
      return id;
    };
    const assign = async (
      type: 'UserProject' | 'UserSystem',
      actor: string,
      target: string,
      roleId: string,
    ): Promise<void> => {
      const exists = await trx
        .selectFrom('assignment')
        .select('role_id')
        .where('type', '=', type)
        .where('actor_id', '=', actor)
        .where('target_id', '=', target)
        .where('role_id', '=', roleId)
        .where('inherited', '=', false)
        .executeTakeFirst();
      if (!exists)
        await trx
          .insertInto('assignment')
          .values({ type, actor_id: actor, target_id: target, role_id: roleId, inherited: false })
          .execute();
    };
    const admin = await user('admin', options.adminPassword);
    await assign('UserProject', admin, adminProject, roles.admin);
    await assign('UserSystem', admin, 'system', roles.admin);
    for (const s of options.serviceUsers ?? []) {
      const id = await user(s.name, s.password);
      await assign('UserProject', id, serviceProject, roles.service);
      await assign('UserProject', id, serviceProject, roles.admin);
    }

    const region = await trx
      .selectFrom('region')
      .select('id')
      .where('id', '=', options.region)
      .executeTakeFirst();
    if (!region)
      await trx
        .insertInto('region')
        .values({ id: options.region, description: '', parent_region_id: null, extra: '{}' })
        .execute();

    for (const entry of options.catalog) {
      let service = await trx
        .selectFrom('service')
        .select('id')
        .where('type', '=', entry.type)
        .executeTakeFirst();
      if (!service) {
        service = { id: hexId() };
        await trx
          .insertInto('service')
          .values({
            id: service.id,
            type: entry.type,
            enabled: true,
            extra: JSON.stringify({ name: entry.name }),
          })
          .execute();
      }
      for (const iface of ['public', 'internal', 'admin'] as const) {
        const url = entry.urls[iface];
        const endpoint = await trx
          .selectFrom('endpoint')
          .select(['id', 'url'])
          .where('service_id', '=', service.id)
          .where('interface', '=', iface)
          .where('region_id', '=', options.region)
          .executeTakeFirst();
        if (!endpoint) {
          await trx
            .insertInto('endpoint')
            .values({
              id: hexId(),
              service_id: service.id,
              interface: iface,
              region_id: options.region,
              url,
              enabled: true,
              extra: '{}',
            })
            .execute();
        } else if (endpoint.url !== url) {
          await trx.updateTable('endpoint').set({ url }).where('id', '=', endpoint.id).execute();
        }
      }
    }
  });
}
