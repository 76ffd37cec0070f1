import { join } from 'node:path';
import type { Logger } from '@stratus/common';
import type { IdentitySettings } from '../config.js';
import { FernetKeyRepository, type TokenFormatter } from '../token/index.js';

/** The Fernet key repository this configuration names (default: fernet-keys/ in the data dir). */
export function fernetRepository(settings: IdentitySettings, dataDir: string): FernetKeyRepository {
  return new FernetKeyRepository(settings.key_repository || join(dataDir, 'fernet-keys'));
}

/** `stratus identity fernet rotate`: one Keystone rotation; returns the new primary key's number. */
export async function rotateFernetKeys(
  settings: IdentitySettings,
  dataDir: string,
): Promise<number> {
  const repo = fernetRepository(settings, dataDir);
  await repo.setup();
  return repo.rotate(settings.max_active_keys);
}

const RELOAD_EVERY_MS = 30_000;

/**
 * Keeps a running API's keys current: it re-reads the repository every 30 s (so a
 * rotation by the CLI or by another node is picked up), and rotates it itself every
 * `rotate_keys_every_s` when that is set — on one node only, as with Keystone, whose
 * repository the others receive by a sync. Returns the function that stops it.
 */
export function maintainKeys(
  formatter: TokenFormatter,
  repo: FernetKeyRepository,
  settings: IdentitySettings,
  logger: Logger,
  reloadEveryMs = RELOAD_EVERY_MS,
): () => void {
  const reload = async (): Promise<void> => {
    const keys = await repo.load();
    if (keys.length > 0) formatter.useKeys(keys);
  };
  const timers = [
    setInterval(
      () =>
        void reload().catch((err: unknown) =>
          logger.error({ err }, 'reloading Fernet keys failed'),
        ),
      reloadEveryMs,
    ),
  ];
  if (settings.rotate_keys_every_s > 0) {
    timers.push(
      setInterval(() => {
        void repo
          .rotate(settings.max_active_keys)
          .then(async (primary) => {
            await reload();
            logger.info({ primary }, 'rotated the Fernet keys');
          })
          .catch((err: unknown) => logger.error({ err }, 'rotating the Fernet keys failed'));
      }, settings.rotate_keys_every_s * 1000),
    );
  }
  for (const t of timers) t.unref();
  return () => timers.forEach(clearInterval);
}
