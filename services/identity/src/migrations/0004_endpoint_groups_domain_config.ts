import { columnTypes, type Migration } from '@stratus/db';

/**
 * OS-EP-FILTER endpoint groups (with their project associations) and domain-specific
 * identity driver configuration (Keystone's `whitelisted_config` and `sensitive_config`
 * tables, folded into one with a `sensitive` flag). Both hang off `project` rows —
 * projects, and domains, which are projects with `is_domain` — and go with them.
 */
export const endpointGroupsAndDomainConfig: Migration = {
  id: '0004_endpoint_groups_domain_config',
  async up(db, dialect) {
    const t = columnTypes(dialect);

    await db.schema
      .createTable('endpoint_group')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string(255), (c) => c.notNull())
      .addColumn('description', t.text)
      // JSON: `{ service_id?, interface?, region_id? }`, matched by equality.
      .addColumn('filters', t.json, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('project_endpoint_group')
      .addColumn('endpoint_group_id', t.id, (c) =>
        c.notNull().references('endpoint_group.id').onDelete('cascade'),
      )
      .addColumn('project_id', t.id, (c) =>
        c.notNull().references('project.id').onDelete('cascade'),
      )
      .addPrimaryKeyConstraint('project_endpoint_group_pk', ['endpoint_group_id', 'project_id'])
      .execute();
    await db.schema
      .createIndex('project_endpoint_group_project_ix')
      .on('project_endpoint_group')
      .column('project_id')
      .execute();

    // One row per option; `value` is JSON (strings, numbers, booleans, lists, null).
    // Sensitive options (ldap.password) are stored but never shown.
    await db.schema
      .createTable('domain_config')
      .addColumn('domain_id', t.id, (c) => c.notNull().references('project.id').onDelete('cascade'))
      .addColumn('group', t.string(255), (c) => c.notNull())
      .addColumn('option', t.string(255), (c) => c.notNull())
      .addColumn('value', t.json, (c) => c.notNull())
      .addColumn('sensitive', t.boolean, (c) => c.notNull())
      .addPrimaryKeyConstraint('domain_config_pk', ['domain_id', 'group', 'option'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('domain_config').execute();
    await db.schema.dropTable('project_endpoint_group').execute();
    await db.schema.dropTable('endpoint_group').execute();
  },
};
