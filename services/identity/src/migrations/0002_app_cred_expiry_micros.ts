import type { Migration } from '@stratus/db';

/**
 * Timestamps keep milliseconds on every dialect, but clients (Tempest among them) read back
 * an application credential's `expires_at` to the microsecond they sent: the fraction is
 * kept beside it.
 */
export const appCredExpiryMicros: Migration = {
  id: '0002_app_cred_expiry_micros',
  async up(db) {
    await db.schema
      .alterTable('application_credential')
      .addColumn('expires_at_micros', 'integer')
      .execute();
  },
};
