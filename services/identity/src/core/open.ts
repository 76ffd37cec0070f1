import type { Logger } from '@stratus/common';
import { Enforcer, readPolicyFile, type RuleDefault } from '@stratus/policy';
import type { Kysely } from 'kysely';
import type { IdentitySettings } from '../config.js';
import { identityPolicies } from '../policies/index.js';
import type { IdentitySchema } from '../store/schema.js';
import { TokenFormatter } from '../token/index.js';
import { fernetRepository, maintainKeys } from './keys.js';
import type { Identity } from './identity.js';
import { PasswordHasher } from './passwords.js';
import { RevocationList } from './revocations.js';
import { TokenService } from './tokens.js';

export interface OpenIdentityOptions {
  db: Kysely<IdentitySchema>;
  settings: IdentitySettings;
  dataDir: string;
  region: string;
  logger: Logger;
  /** Rules besides the base and auth ones; the service passes every group's. */
  policies?: readonly RuleDefault[];
}

/** Sets up the key repository (first start), loads keys, revocations and policy. */
export async function openIdentity(options: OpenIdentityOptions): Promise<Identity> {
  const { settings } = options;
  const keys = fernetRepository(settings, options.dataDir);
  await keys.setup();
  const formatter = await TokenFormatter.fromRepository(keys);
  const stopKeys = maintainKeys(formatter, keys, settings, options.logger);
  const revocations = new RevocationList(options.db);
  await revocations.sync();
  const enforcer = new Enforcer([...identityPolicies, ...(options.policies ?? [])], {
    overrides: settings.policy_file ? readPolicyFile(settings.policy_file) : {},
    logger: options.logger,
  });
  return {
    db: options.db,
    enforcer,
    revocations,
    tokens: new TokenService(formatter, revocations, {
      expirationS: settings.token_expiration_s,
      allowExpiredWindowS: settings.allow_expired_window_s,
      cacheSize: settings.cache_size,
    }),
    hasher: new PasswordHasher({
      algorithm: settings.password_hash_algorithm,
      ...(settings.password_hash_rounds > 0 ? { rounds: settings.password_hash_rounds } : {}),
    }),
    settings,
    logger: options.logger,
    region: options.region,
    dataDir: options.dataDir,
    close: stopKeys,
  };
}
