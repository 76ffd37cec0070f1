/**
 * A Fernet key repository laid out as Keystone's `fernet-keys/` directory, so the two can
 * share one (and the same rotation procedure and tooling apply):
 *
 * - `0` is the staged key: already accepted for decryption, promoted at the next rotation.
 *   Staging means a rotated repository can be copied to every node before any node starts
 *   encrypting with the new primary.
 * - the highest number is the primary key, used to encrypt new tokens;
 * - every other number is a secondary key, kept only to decrypt older tokens.
 */
import { chmod, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defineError } from '@stratus/common';
import { Fernet } from './fernet.js';

export const KeysNotFound = defineError(
  'KeysNotFound',
  500,
  'No Fernet keys were found in the key repository; it has to be set up first.',
);

export const DEFAULT_MAX_ACTIVE_KEYS = 3;
const STAGED = 0;
const KEY_NAME = /^\d+$/;

export class FernetKeyRepository {
  constructor(readonly directory: string) {}

  /** Creates the directory and the keys `0` and `1`, unless a staged key already exists. */
  async setup(): Promise<void> {
    const created = await mkdir(this.directory, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; set it outright on a directory we made.
    if (created !== undefined) await chmod(this.directory, 0o700);
    if ((await this.#keyFiles()).has(STAGED)) return;
    await this.#writeStagedKey();
    await this.rotate();
  }

  /**
   * Keystone's rotation: the staged key becomes the primary under the next number, a new
   * staged key is written, and the oldest keys are removed so that `maxActiveKeys` remain
   * (the staged key included). Returns the new primary key's number.
   */
  async rotate(maxActiveKeys = DEFAULT_MAX_ACTIVE_KEYS): Promise<number> {
    // Keystone accepts 1, but then deletes the primary it has just promoted, so that every
    // rotation invalidates every token; a staged and a primary key are the least that works.
    if (!Number.isInteger(maxActiveKeys) || maxActiveKeys < 2) {
      throw new RangeError('maxActiveKeys must be an integer of at least 2');
    }
    const files = await this.#keyFiles();
    if (!files.has(STAGED)) throw new KeysNotFound();
    const primary = Math.max(...files.keys()) + 1;

    await rename(this.#path(STAGED), this.#path(primary));
    files.delete(STAGED);
    files.add(primary);
    await this.#writeStagedKey();

    const active = [...files].sort((a, b) => b - a);
    for (const id of active.slice(maxActiveKeys - 1)) await rm(this.#path(id), { force: true });
    await this.#syncDirectory();
    return primary;
  }

  /** The keys, primary first and staged last; empty when the repository does not exist. */
  async load(): Promise<string[]> {
    const ids = [...(await this.#keyFiles())].sort((a, b) => b - a);
    const keys: string[] = [];
    for (const id of ids) keys.push((await readFile(this.#path(id), 'utf8')).trim());
    return keys;
  }

  /** Numbered, non-empty regular files; anything else (e.g. `0.tmp`) is not a key. */
  async #keyFiles(): Promise<Set<number>> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
      throw err;
    }
    const ids = new Set<number>();
    for (const name of names) {
      if (!KEY_NAME.test(name)) continue;
      const info = await stat(join(this.directory, name));
      // Keystone skips empty files too: a crash can leave one behind.
      if (info.isFile() && info.size > 0) ids.add(Number(name));
    }
    return ids;
  }

  /**
   * Written as `0.tmp` then renamed, so that `0` is never seen half-written; created with
   * mode 0600 because a key file grants the power to mint any token.
   */
  async #writeStagedKey(): Promise<void> {
    const tmp = join(this.directory, `${STAGED}.tmp`);
    await rm(tmp, { force: true }); // a leftover from an interrupted run
    const file = await open(tmp, 'wx', 0o600);
    try {
      await file.chmod(0o600);
      await file.writeFile(Fernet.generateKey());
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.#path(STAGED));
  }

  /** Makes the renames durable: a rotation must not come undone after a power cut. */
  async #syncDirectory(): Promise<void> {
    const dir = await open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  #path(id: number): string {
    return join(this.directory, String(id));
  }
}
