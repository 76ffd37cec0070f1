import type { Logger } from '@stratus/common';
import type { Enforcer } from '@stratus/policy';
import type { Kysely } from 'kysely';
import type { IdentitySettings } from '../config.js';
import type { IdentitySchema } from '../store/schema.js';
import type { PasswordHasher } from './passwords.js';
import type { RevocationEvent, RevocationList } from './revocations.js';
import type { TokenService } from './tokens.js';

/**
 * Everything an identity API handler works with. Handlers read and write the database
 * directly through `db` (one service, one schema), enforce policy through `enforcer`, and
 * call `revoke()` whenever a change takes rights away (a user disabled, a role
 * unassigned …), so that tokens stop granting them at once.
 */
export interface Identity {
  db: Kysely<IdentitySchema>;
  enforcer: Enforcer;
  tokens: TokenService;
  revocations: RevocationList;
  hasher: PasswordHasher;
  settings: IdentitySettings;
  logger: Logger;
  /** Where keys and other local state live (core.data_dir). */
  dataDir: string;
  /** The region of the catalog this cloud bootstraps. */
  region: string;
  /** Stops background work (key reloads and rotation). */
  close(): void;
}

/** Records a revocation event and forgets cached validations: effective at once here. */
export async function revoke(
  identity: Identity,
  event: Omit<RevocationEvent, 'issuedBefore'>,
): Promise<void> {
  identity.tokens.invalidate();
  await identity.revocations.add({ ...event, issuedBefore: new Date() });
}
