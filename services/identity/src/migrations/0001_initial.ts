import { columnTypes, type Migration } from '@stratus/db';

/**
 * Keystone's data model, reduced to what the v3 API exposes. As in Keystone, domains are
 * projects with `is_domain` set (so a top-level project's parent is its domain), and
 * role assignments of every kind live in one table keyed by actor, target and role.
 */
export const initial: Migration = {
  id: '0001_initial',
  async up(db, dialect) {
    const t = columnTypes(dialect);

    await db.schema
      .createTable('project')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string(64), (c) => c.notNull())
      // NULL for a domain; a project's domain otherwise.
      .addColumn('domain_id', t.id)
      .addColumn('parent_id', t.id)
      // Names are unique per domain for projects and globally for domains: this column
      // holds the domain id, or '' for a domain, making both one portable constraint
      // (a NULL domain_id would never compare equal).
      .addColumn('name_scope', t.id, (c) => c.notNull())
      .addColumn('is_domain', t.boolean, (c) => c.notNull())
      .addColumn('enabled', t.boolean, (c) => c.notNull())
      .addColumn('description', t.text)
      .addColumn('extra', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('project_name_scope_uq')
      .on('project')
      .columns(['name_scope', 'name'])
      .unique()
      .execute();
    await db.schema.createIndex('project_parent_ix').on('project').column('parent_id').execute();
    await db.schema.createIndex('project_domain_ix').on('project').column('domain_id').execute();

    await db.schema
      .createTable('project_tag')
      .addColumn('project_id', t.id, (c) =>
        c.notNull().references('project.id').onDelete('cascade'),
      )
      .addColumn('name', t.string(255), (c) => c.notNull())
      .addPrimaryKeyConstraint('project_tag_pk', ['project_id', 'name'])
      .execute();

    await db.schema
      .createTable('identity_user')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('domain_id', t.id, (c) => c.notNull())
      .addColumn('name', t.string(255), (c) => c.notNull())
      .addColumn('enabled', t.boolean, (c) => c.notNull())
      .addColumn('default_project_id', t.id)
      .addColumn('description', t.text)
      .addColumn('email', t.string(255))
      .addColumn('extra', t.json, (c) => c.notNull())
      .addColumn('options', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('last_active_at', t.timestamp)
      .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('failed_auth_at', t.timestamp)
      .addUniqueConstraint('identity_user_domain_name_uq', ['domain_id', 'name'])
      .execute();

    // Every password a user had, newest last: the current one has no `replaced_at`.
    await db.schema
      .createTable('password')
      .addColumn('id', 'integer', (c) =>
        dialect === 'postgres'
          ? c.primaryKey().generatedByDefaultAsIdentity()
          : c.primaryKey().autoIncrement(),
      )
      .addColumn('user_id', t.id, (c) =>
        c.notNull().references('identity_user.id').onDelete('cascade'),
      )
      .addColumn('hash', t.string(255), (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('expires_at', t.timestamp)
      .addColumn('replaced_at', t.timestamp)
      .addColumn('self_service', t.boolean, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('password_user_ix').on('password').column('user_id').execute();

    await db.schema
      .createTable('identity_group')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('domain_id', t.id, (c) => c.notNull())
      .addColumn('name', t.string(64), (c) => c.notNull())
      .addColumn('description', t.text)
      .addColumn('extra', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addUniqueConstraint('identity_group_domain_name_uq', ['domain_id', 'name'])
      .execute();

    await db.schema
      .createTable('group_membership')
      .addColumn('user_id', t.id, (c) =>
        c.notNull().references('identity_user.id').onDelete('cascade'),
      )
      .addColumn('group_id', t.id, (c) =>
        c.notNull().references('identity_group.id').onDelete('cascade'),
      )
      .addPrimaryKeyConstraint('group_membership_pk', ['user_id', 'group_id'])
      .execute();
    await db.schema
      .createIndex('group_membership_group_ix')
      .on('group_membership')
      .column('group_id')
      .execute();

    await db.schema
      .createTable('role')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string(255), (c) => c.notNull())
      // '' for a global role: a unique key needs a value there.
      .addColumn('domain_id', t.id, (c) => c.notNull())
      .addColumn('description', t.text)
      .addColumn('options', t.json, (c) => c.notNull())
      .addColumn('extra', t.json, (c) => c.notNull())
      .addUniqueConstraint('role_domain_name_uq', ['domain_id', 'name'])
      .execute();

    await db.schema
      .createTable('implied_role')
      .addColumn('prior_role_id', t.id, (c) =>
        c.notNull().references('role.id').onDelete('cascade'),
      )
      .addColumn('implied_role_id', t.id, (c) =>
        c.notNull().references('role.id').onDelete('cascade'),
      )
      .addPrimaryKeyConstraint('implied_role_pk', ['prior_role_id', 'implied_role_id'])
      .execute();

    // type: UserProject, GroupProject, UserDomain, GroupDomain, UserSystem, GroupSystem.
    // target_id is 'system' for system assignments (Keystone's only system target, `all`).
    await db.schema
      .createTable('assignment')
      .addColumn('type', t.string(16), (c) => c.notNull())
      .addColumn('actor_id', t.id, (c) => c.notNull())
      .addColumn('target_id', t.id, (c) => c.notNull())
      .addColumn('role_id', t.id, (c) => c.notNull().references('role.id').onDelete('cascade'))
      .addColumn('inherited', t.boolean, (c) => c.notNull())
      .addPrimaryKeyConstraint('assignment_pk', [
        'type',
        'actor_id',
        'target_id',
        'role_id',
        'inherited',
      ])
      .execute();
    await db.schema
      .createIndex('assignment_actor_ix')
      .on('assignment')
      .column('actor_id')
      .execute();
    await db.schema
      .createIndex('assignment_target_ix')
      .on('assignment')
      .column('target_id')
      .execute();
    await db.schema.createIndex('assignment_role_ix').on('assignment').column('role_id').execute();

    await db.schema
      .createTable('region')
      .addColumn('id', t.string(255), (c) => c.primaryKey())
      .addColumn('description', t.string(255), (c) => c.notNull())
      .addColumn('parent_region_id', t.string(255))
      .addColumn('extra', t.json, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('service')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('type', t.string(255), (c) => c.notNull())
      .addColumn('enabled', t.boolean, (c) => c.notNull())
      .addColumn('extra', t.json, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('endpoint')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('service_id', t.id, (c) =>
        c.notNull().references('service.id').onDelete('cascade'),
      )
      .addColumn('interface', t.string(8), (c) => c.notNull())
      .addColumn('region_id', t.string(255))
      .addColumn('url', t.text, (c) => c.notNull())
      .addColumn('enabled', t.boolean, (c) => c.notNull())
      .addColumn('extra', t.json, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('endpoint_service_ix')
      .on('endpoint')
      .column('service_id')
      .execute();

    // Blobs are encrypted at rest with the credential key repository; key_hash names the key.
    await db.schema
      .createTable('credential')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('user_id', t.id, (c) => c.notNull())
      .addColumn('project_id', t.id)
      .addColumn('type', t.string(255), (c) => c.notNull())
      .addColumn('encrypted_blob', t.text, (c) => c.notNull())
      .addColumn('key_hash', t.string(64), (c) => c.notNull())
      .addColumn('extra', t.json, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('credential_user_ix').on('credential').column('user_id').execute();

    await db.schema
      .createTable('application_credential')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string(255), (c) => c.notNull())
      .addColumn('user_id', t.id, (c) => c.notNull())
      .addColumn('project_id', t.id)
      .addColumn('system', t.string(16))
      .addColumn('secret_hash', t.string(255), (c) => c.notNull())
      .addColumn('description', t.text)
      .addColumn('expires_at', t.timestamp)
      .addColumn('unrestricted', t.boolean, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addUniqueConstraint('application_credential_user_name_uq', ['user_id', 'name'])
      .execute();

    await db.schema
      .createTable('application_credential_role')
      .addColumn('application_credential_id', t.id, (c) =>
        c.notNull().references('application_credential.id').onDelete('cascade'),
      )
      .addColumn('role_id', t.id, (c) => c.notNull())
      .addPrimaryKeyConstraint('application_credential_role_pk', [
        'application_credential_id',
        'role_id',
      ])
      .execute();

    await db.schema
      .createTable('access_rule')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('user_id', t.id, (c) => c.notNull())
      .addColumn('service', t.string(64), (c) => c.notNull())
      .addColumn('path', t.string(128), (c) => c.notNull())
      .addColumn('method', t.string(16), (c) => c.notNull())
      .addUniqueConstraint('access_rule_uq', ['user_id', 'service', 'path', 'method'])
      .execute();

    await db.schema
      .createTable('application_credential_access_rule')
      .addColumn('application_credential_id', t.id, (c) =>
        c.notNull().references('application_credential.id').onDelete('cascade'),
      )
      .addColumn('access_rule_id', t.id, (c) => c.notNull().references('access_rule.id'))
      .addPrimaryKeyConstraint('application_credential_access_rule_pk', [
        'application_credential_id',
        'access_rule_id',
      ])
      .execute();

    await db.schema
      .createTable('registered_limit')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('service_id', t.id, (c) => c.notNull())
      .addColumn('region_id', t.string(255))
      .addColumn('resource_name', t.string(255), (c) => c.notNull())
      .addColumn('default_limit', 'integer', (c) => c.notNull())
      .addColumn('description', t.text)
      .execute();

    await db.schema
      .createTable('project_limit')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('project_id', t.id)
      .addColumn('domain_id', t.id)
      .addColumn('service_id', t.id, (c) => c.notNull())
      .addColumn('region_id', t.string(255))
      .addColumn('resource_name', t.string(255), (c) => c.notNull())
      .addColumn('resource_limit', 'integer', (c) => c.notNull())
      .addColumn('description', t.text)
      .execute();

    // Checked on every token validation: a token matches an event when every non-null
    // field of the event equals the token's, and it was issued before `issued_before`.
    await db.schema
      .createTable('revocation_event')
      .addColumn('id', 'integer', (c) =>
        dialect === 'postgres'
          ? c.primaryKey().generatedByDefaultAsIdentity()
          : c.primaryKey().autoIncrement(),
      )
      .addColumn('domain_id', t.id)
      .addColumn('project_id', t.id)
      .addColumn('user_id', t.id)
      .addColumn('role_id', t.id)
      .addColumn('audit_id', t.string(32))
      .addColumn('audit_chain_id', t.string(32))
      .addColumn('issued_before', t.timestamp, (c) => c.notNull())
      .addColumn('expires_at', t.timestamp)
      .addColumn('revoked_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('revocation_event_revoked_at_ix')
      .on('revocation_event')
      .column('revoked_at')
      .execute();
  },
};
