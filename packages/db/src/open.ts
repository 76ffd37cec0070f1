import {
  CompiledQuery,
  Kysely,
  MysqlDialect,
  PostgresDialect,
  sql,
  type KyselyConfig,
  type LogEvent,
} from 'kysely';
import { silentLogger, type Logger } from '@stratus/common';
import { NullsLikeOthersPlugin } from './nulls.js';
import { adaptSqlite, openSqliteFile, StratusSqliteDialect } from './sqlite.js';
import { parseDatabaseUrl, type ConnectionTarget, type DialectName } from './url.js';

/** The settings of a service's `[database]` config section. */
export interface DatabaseConfig {
  /** Empty: SQLite in dataDir. May contain `{service}`. See parseDatabaseUrl. */
  url?: string;
  /** Connections per process on PostgreSQL/MySQL (SQLite has exactly one). */
  poolMax?: number;
  /** How long SQLite waits for another process's write lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Create the PostgreSQL/MySQL database (or SQLite file and directory) when missing. */
  autoCreate?: boolean;
}

export const DATABASE_DEFAULTS = {
  url: '',
  poolMax: 10,
  busyTimeoutMs: 5000,
  autoCreate: true,
} as const satisfies Required<DatabaseConfig>;

export interface OpenDatabaseOptions extends DatabaseConfig {
  /** The service owning the database: names the SQLite file and fills `{service}`. */
  service: string;
  /** Where the default SQLite file goes (created if missing). */
  dataDir?: string;
  logger?: Logger;
}

export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly dialect: DialectName;
  /** The effective URL, password redacted: safe to log. */
  readonly url: string;
  readonly logger: Logger;
  /** Closes every connection; calling it again is harmless. */
  close(): Promise<void>;
}

/**
 * Opens (and on servers, connects to, creating if allowed) one service's database.
 * Fails with the redacted URL in the message when the database cannot be reached.
 */
export async function openDatabase<DB>(options: OpenDatabaseOptions): Promise<Database<DB>> {
  const poolMax = options.poolMax ?? DATABASE_DEFAULTS.poolMax;
  const busyTimeoutMs = options.busyTimeoutMs ?? DATABASE_DEFAULTS.busyTimeoutMs;
  const autoCreate = options.autoCreate ?? DATABASE_DEFAULTS.autoCreate;
  if (!Number.isInteger(poolMax) || poolMax < 1) {
    throw new Error(`database poolMax must be a positive integer, not ${poolMax}`);
  }
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new Error(`database busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}`);
  }
  const target = parseDatabaseUrl(options.url, options.service, options.dataDir);
  const logger = (options.logger ?? silentLogger).child({ database: target.url });
  if (target.dialect === 'mysql' && target.ignoredParams.length > 0) {
    logger.warn({ params: target.ignoredParams }, 'ignoring database url parameters');
  }

  let db: Kysely<DB> | undefined;
  try {
    const config: KyselyConfig = {
      dialect: await createDialect(
        target,
        { poolMax, busyTimeoutMs, autoCreate },
        options.service,
        logger,
      ),
      plugins: target.dialect === 'postgres' ? [new NullsLikeOthersPlugin()] : [],
      log: (event) => logQuery(logger, event),
    };
    db = new Kysely<DB>(config);
    if (target.dialect !== 'sqlite') await connect(db, target, autoCreate, logger);
  } catch (err) {
    await db?.destroy().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot open database ${target.url}: ${reason}`, { cause: err });
  }

  const kysely = db;
  let closing: Promise<void> | undefined;
  return {
    db: kysely,
    dialect: target.dialect,
    url: target.url,
    logger,
    close: () => (closing ??= kysely.destroy()),
  };
}

// The server drivers (pg, mysql2) are loaded only for their dialect: the all-in-one
// runs on SQLite and should not pay their start-up time and memory.
async function createDialect(
  target: ConnectionTarget,
  settings: Required<Omit<DatabaseConfig, 'url'>>,
  service: string,
  logger: Logger,
) {
  switch (target.dialect) {
    case 'sqlite':
      return new StratusSqliteDialect(adaptSqlite(openSqliteFile(target.path, settings)));
    case 'postgres': {
      const { createPostgresPool } = await import('./postgres.js');
      return new PostgresDialect({
        pool: createPostgresPool(
          target.connectionString,
          settings.poolMax,
          `stratus-${service}`,
          logger,
        ),
      });
    }
    case 'mysql': {
      const { createMysqlPool, MYSQL_SESSION_SQL } = await import('./mysql.js');
      return new MysqlDialect({
        pool: createMysqlPool(target, settings.poolMax),
        onCreateConnection: async (conn) => {
          for (const s of MYSQL_SESSION_SQL) await conn.executeQuery(CompiledQuery.raw(s));
        },
      });
    }
  }
}

/** Connects once so a bad URL fails at start, creating a missing database if allowed. */
async function connect<DB>(
  db: Kysely<DB>,
  target: Exclude<ConnectionTarget, { dialect: 'sqlite' }>,
  autoCreate: boolean,
  logger: Logger,
): Promise<void> {
  const server =
    target.dialect === 'postgres'
      ? await import('./postgres.js').then((m) => ({
          isMissing: m.isMissingPostgresDatabase,
          create: () => m.createPostgresDatabase(target.connectionString, target.database),
        }))
      : await import('./mysql.js').then((m) => ({
          isMissing: m.isMissingMysqlDatabase,
          create: () => m.createMysqlDatabase(target),
        }));
  try {
    await sql`select 1`.execute(db);
    return;
  } catch (err) {
    if (!server.isMissing(err) || !autoCreate) throw err;
  }
  logger.info({ name: target.database }, 'creating database');
  await server.create();
  await sql`select 1`.execute(db);
}

function logQuery(logger: Logger, event: LogEvent): void {
  const fields = { sql: event.query.sql, ms: Math.round(event.queryDurationMillis) };
  // Constraint violations are routine (the API answers 409), so failures are debug.
  if (event.level === 'error') {
    const err = event.error instanceof Error ? event.error.message : String(event.error);
    logger.debug({ ...fields, err }, 'query failed');
  } else {
    logger.trace(fields, 'query');
  }
}

/** A round trip to the database, for health checks: resolves when it answers. */
export async function pingDatabase<DB>(database: Database<DB>): Promise<void> {
  await sql`select 1`.execute(database.db);
}
