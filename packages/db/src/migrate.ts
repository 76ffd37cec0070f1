import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import type { Database } from './open.js';
import type { DialectName } from './url.js';

export interface Migration {
  /** Orders migrations (compared as plain strings): use a zero-padded prefix, `0001_init`. */
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the schema as it is then, not the service's current types
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  down?(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/** A migration run failed. `migrationId` names the failing migration when one did. */
export class MigrationError extends Error {
  constructor(
    readonly migrationId: string | undefined,
    /** Migrations this run applied before the failure; they stay applied. */
    readonly applied: string[],
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      migrationId === undefined
        ? `migrations failed: ${reason}`
        : `migration ${migrationId} failed: ${reason}`,
      { cause },
    );
    this.name = 'MigrationError';
  }
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function migrator<DB>(database: Database<DB>, migrations: readonly Migration[]): Migrator {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (m.id === '' || m.id.length > 255) throw new Error(`bad migration id "${m.id}"`);
    if (seen.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    seen.add(m.id);
  }
  const { dialect } = database;
  const provided = Object.fromEntries(
    migrations.map((m) => [
      m.id,
      {
        up: (db: Kysely<unknown>) => m.up(db, dialect),
        down: m.down && ((db: Kysely<unknown>) => m.down!(db, dialect)),
      },
    ]),
  );
  return new Migrator({
    db: database.db,
    provider: { getMigrations: async () => provided },
    migrationTableName: 'stratus_migration',
    migrationLockTableName: 'stratus_migration_lock',
    // Kysely sorts ids by code unit but breaks timestamp ties with localeCompare; the two
    // disagree on ids like `a_b`/`a-b`, which would look like out-of-order history.
    nameComparator: byCodeUnit,
  });
}

function check(result: MigrationResultSet, applied: string[]): string[] {
  const failed = result.results?.find((r) => r.status === 'Error');
  if (result.error !== undefined || failed !== undefined) {
    throw new MigrationError(failed?.migrationName, applied, result.error);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Applies pending migrations in id order and returns the ids applied (none when up to
 * date). Each migration runs in its own step, inside a transaction where the dialect
 * has transactional DDL (SQLite, PostgreSQL), so a failure leaves the earlier ones
 * applied and rolls back the failing one. MySQL commits each DDL statement on its own:
 * a migration failing there halfway keeps its first statements. Concurrent runs
 * (several processes starting) are serialized by Kysely's migration lock.
 */
export async function migrate<DB>(
  database: Database<DB>,
  migrations: readonly Migration[],
): Promise<string[]> {
  const m = migrator(database, migrations);
  const applied: string[] = [];
  for (;;) {
    const step = check(await m.migrateUp(), applied);
    if (step.length === 0) return applied;
    for (const id of step) database.logger.info({ migration: id }, 'applied migration');
    applied.push(...step);
  }
}

/** Reverts the most recently applied migration with its `down`; returns its id. */
export async function migrateDown<DB>(
  database: Database<DB>,
  migrations: readonly Migration[],
): Promise<string | undefined> {
  const result = await migrator(database, migrations).migrateDown();
  // Kysely skips a migration without `down` silently and calls that success.
  const skipped = result.results?.find((r) => r.status === 'NotExecuted');
  if (skipped !== undefined) {
    throw new MigrationError(skipped.migrationName, [], new Error('it has no down()'));
  }
  const [reverted] = check(result, []);
  return reverted;
}

export async function migrationStatus<DB>(
  database: Database<DB>,
  migrations: readonly Migration[],
): Promise<MigrationStatus> {
  const infos = await migrator(database, migrations).getMigrations();
  return {
    applied: infos.filter((i) => i.executedAt !== undefined).map((i) => i.name),
    pending: infos.filter((i) => i.executedAt === undefined).map((i) => i.name),
  };
}
