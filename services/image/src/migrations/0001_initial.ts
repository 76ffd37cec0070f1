import { columnTypes, type Migration } from '@stratus/db';

/**
 * Glance's image model: the image row with its well-known attributes, free-form
 * properties and tags beside it, the projects an image is shared with, and the tasks
 * that run imports. Deleted images keep their row (status `deleted`), so an id is never
 * reused, as in Glance.
 */
export const initial: Migration = {
  id: '0001_initial',
  async up(db, dialect) {
    const t = columnTypes(dialect);
    await db.schema
      .createTable('image')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string(255))
      .addColumn('status', t.string(30), (c) => c.notNull())
      .addColumn('visibility', t.string(20), (c) => c.notNull())
      .addColumn('protected', t.boolean, (c) => c.notNull())
      .addColumn('os_hidden', t.boolean, (c) => c.notNull())
      .addColumn('disk_format', t.string(20))
      .addColumn('container_format', t.string(20))
      .addColumn('size', 'bigint')
      .addColumn('virtual_size', 'bigint')
      .addColumn('checksum', t.string(32))
      .addColumn('os_hash_algo', t.string(64))
      .addColumn('os_hash_value', t.string(128))
      .addColumn('min_disk', 'integer', (c) => c.notNull())
      .addColumn('min_ram', 'integer', (c) => c.notNull())
      .addColumn('owner', t.string(255))
      .addColumn('locations', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .addColumn('deleted_at', t.timestamp)
      .addColumn('worker', t.string(255))
      .addColumn('heartbeat_at', t.timestamp)
      .execute();
    await db.schema.createIndex('image_owner_ix').on('image').column('owner').execute();
    await db.schema
      .createIndex('image_visibility_ix')
      .on('image')
      .columns(['visibility', 'status'])
      .execute();
    await db.schema.createIndex('image_created_ix').on('image').column('created_at').execute();

    await db.schema
      .createTable('image_property')
      .addColumn('image_id', t.id, (c) => c.notNull().references('image.id').onDelete('cascade'))
      .addColumn('name', t.string(255), (c) => c.notNull())
      .addColumn('value', t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint('image_property_pk', ['image_id', 'name'])
      .execute();

    await db.schema
      .createTable('image_tag')
      .addColumn('image_id', t.id, (c) => c.notNull().references('image.id').onDelete('cascade'))
      .addColumn('value', t.string(255), (c) => c.notNull())
      .addPrimaryKeyConstraint('image_tag_pk', ['image_id', 'value'])
      .execute();
    await db.schema.createIndex('image_tag_value_ix').on('image_tag').column('value').execute();

    await db.schema
      .createTable('image_member')
      .addColumn('image_id', t.id, (c) => c.notNull().references('image.id').onDelete('cascade'))
      .addColumn('member', t.string(255), (c) => c.notNull())
      .addColumn('status', t.string(20), (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('image_member_pk', ['image_id', 'member'])
      .execute();
    await db.schema.createIndex('image_member_ix').on('image_member').column('member').execute();

    await db.schema
      .createTable('task')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('type', t.string(30), (c) => c.notNull())
      .addColumn('status', t.string(30), (c) => c.notNull())
      .addColumn('owner', t.string(255), (c) => c.notNull())
      .addColumn('input', t.json, (c) => c.notNull())
      .addColumn('result', t.json)
      .addColumn('message', t.text, (c) => c.notNull())
      .addColumn('image_id', t.id)
      .addColumn('request_id', t.string(64))
      .addColumn('user_id', t.string(64))
      .addColumn('expires_at', t.timestamp)
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('task_owner_ix').on('task').column('owner').execute();
  },
};
