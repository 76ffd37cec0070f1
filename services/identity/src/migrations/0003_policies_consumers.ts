import { columnTypes, type Migration } from '@stratus/db';

/**
 * The tables of Keystone's policy-blob API (/v3/policies) and of OAuth1 consumers
 * (/v3/OS-OAUTH1/consumers). Unlike Keystone, which keeps a consumer's secret as it is,
 * only a hash of it is stored (the secret is shown once, on create).
 */
export const policiesAndConsumers: Migration = {
  id: '0003_policies_consumers',
  async up(db, dialect) {
    const t = columnTypes(dialect);

    await db.schema
      .createTable('policy')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('type', t.string(255), (c) => c.notNull())
      // The blob is opaque to Keystone: any string, kept as given.
      .addColumn('blob', t.text, (c) => c.notNull())
      .addColumn('extra', t.json, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('policy_type_ix').on('policy').column('type').execute();

    await db.schema
      .createTable('consumer')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('description', t.text)
      .addColumn('secret_hash', t.string(255), (c) => c.notNull())
      .addColumn('extra', t.json, (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('consumer').execute();
    await db.schema.dropTable('policy').execute();
  },
};
