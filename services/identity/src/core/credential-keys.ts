/**
 * Encryption at rest of credential blobs, as Keystone's `credential/providers/fernet`:
 * a Fernet key repository of its own (never the token keys), the blob encrypted under
 * the primary key, and `key_hash` = sha1 of the primary key, so that a rotation tool can
 * tell which rows still need re-encrypting.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { defineError } from '@stratus/common';
import { FernetKeyRepository, InvalidToken, MultiFernet } from '../token/index.js';
import type { Identity } from './identity.js';

export const CredentialEncryptionError = defineError(
  'CredentialEncryptionError',
  500,
  'An unexpected error prevented the server from accessing encrypted credentials.',
);

export const CredentialKeysNotConfigured = defineError(
  'CredentialKeysNotConfigured',
  500,
  'The credential key repository is not configured: set identity.credential_key_repository.',
);

/**
 * Where the credential keys live: `identity.credential_key_repository`, else
 * `credential-keys/` in the data directory.
 */
export function credentialKeyDirectory(identity: Identity): string {
  return identity.settings.credential_key_repository || join(identity.dataDir, 'credential-keys');
}

/** SHA-1 of a key as Keystone's `primary_key_hash`. */
export function keyHash(key: string): string {
  return createHash('sha1').update(key, 'utf8').digest('hex');
}

export interface CredentialCipher {
  /** Returns the encrypted blob and the hash of the key that encrypted it. */
  encrypt(blob: string): { encryptedBlob: string; keyHash: string };
  decrypt(encryptedBlob: string): string;
}

const setups = new Map<string, Promise<void>>();

/**
 * The cipher over the repository's current keys. The repository is created on first
 * use (as the token keys are); keys are reread on every call, as Keystone rereads them
 * per request, so a rotation done by another process applies without a restart.
 */
export async function credentialCipher(identity: Identity): Promise<CredentialCipher> {
  const directory = credentialKeyDirectory(identity);
  const repository = new FernetKeyRepository(directory);
  let setup = setups.get(directory);
  if (!setup) {
    setup = repository.setup();
    setups.set(directory, setup);
    setup.catch(() => setups.delete(directory));
  }
  await setup;
  let keys = await repository.load();
  if (keys.length === 0) {
    // Removed since it was set up here (or never readable): set it up again.
    await repository.setup();
    keys = await repository.load();
  }
  const primary = keys[0];
  if (primary === undefined) throw new CredentialKeysNotConfigured();
  const fernet = MultiFernet.fromKeys(keys);
  const hash = keyHash(primary);
  return {
    encrypt(blob) {
      return { encryptedBlob: fernet.encrypt(Buffer.from(blob, 'utf8')), keyHash: hash };
    },
    decrypt(encryptedBlob) {
      try {
        return fernet.decrypt(encryptedBlob).data.toString('utf8');
      } catch (err) {
        if (err instanceof InvalidToken) throw new CredentialEncryptionError();
        throw err;
      }
    },
  };
}
