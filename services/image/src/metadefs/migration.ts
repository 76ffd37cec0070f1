import { randomUUID } from 'node:crypto';
import { columnTypes, type Migration } from '@stratus/db';

/**
 * The resource types Glance's catalog knows from the start (the ones its shipped
 * metadefs associate with); clients pick from GET /v2/metadefs/resource_types.
 * Others are created on the fly by the first association naming them.
 */
export const SEEDED_RESOURCE_TYPES = [
  'OS::Glance::Image',
  'OS::Cinder::Volume',
  'OS::Nova::Flavor',
  'OS::Nova::Aggregate',
  'OS::Nova::Server',
  'OS::Trove::Instance',
] as const;

/**
 * Glance's metadata definitions catalog: namespaces, and inside each its objects,
 * properties, tags and associations with resource types. A namespace's contents go
 * with it (ON DELETE CASCADE, and the API deletes them explicitly too).
 */
export const metadefsMigration: Migration = {
  id: '0002_metadefs',
  async up(db, dialect) {
    const t = columnTypes(dialect);
    await db.schema
      .createTable('metadef_namespace')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('namespace', t.string(80), (c) => c.notNull().unique())
      .addColumn('display_name', t.string(80))
      .addColumn('description', t.text)
      .addColumn('visibility', t.string(32), (c) => c.notNull())
      .addColumn('protected', t.boolean, (c) => c.notNull())
      .addColumn('owner', t.string(255), (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('metadef_namespace_owner_ix')
      .on('metadef_namespace')
      .column('owner')
      .execute();

    const child = (table: string) =>
      db.schema
        .createTable(table)
        .addColumn('id', t.id, (c) => c.primaryKey())
        .addColumn('namespace_id', t.id, (c) =>
          c.notNull().references('metadef_namespace.id').onDelete('cascade'),
        )
        .addColumn('name', t.string(80), (c) => c.notNull());

    await child('metadef_object')
      .addColumn('description', t.text)
      .addColumn('required', t.json, (c) => c.notNull())
      .addColumn('json_schema', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .addUniqueConstraint('metadef_object_name_uq', ['namespace_id', 'name'])
      .execute();
    await child('metadef_property')
      .addColumn('json_schema', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .addUniqueConstraint('metadef_property_name_uq', ['namespace_id', 'name'])
      .execute();
    await child('metadef_tag')
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .addUniqueConstraint('metadef_tag_name_uq', ['namespace_id', 'name'])
      .execute();

    await db.schema
      .createTable('metadef_resource_type')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string(80), (c) => c.notNull().unique())
      .addColumn('protected', t.boolean, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('metadef_namespace_resource_type')
      .addColumn('namespace_id', t.id, (c) =>
        c.notNull().references('metadef_namespace.id').onDelete('cascade'),
      )
      .addColumn('resource_type_id', t.id, (c) =>
        c.notNull().references('metadef_resource_type.id'),
      )
      .addColumn('prefix', t.string(80))
      .addColumn('properties_target', t.string(80))
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('metadef_namespace_resource_type_pk', [
        'namespace_id',
        'resource_type_id',
      ])
      .execute();
    await db.schema
      .createIndex('metadef_ns_resource_type_rt_ix')
      .on('metadef_namespace_resource_type')
      .column('resource_type_id')
      .execute();

    const now = new Date();
    await db
      .insertInto('metadef_resource_type')
      .values(
        SEEDED_RESOURCE_TYPES.map((name) => ({
          id: randomUUID(),
          name,
          protected: true,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  },
};
