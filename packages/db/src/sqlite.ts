import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import { parseTimestamp } from '@stratus/common';

/** Declared SQLite column type of `columnTypes(...).timestamp`; see columns.ts. */
export const SQLITE_TIMESTAMP_TYPE = 'timestamp_text';

export interface SqliteOptions {
  busyTimeoutMs: number;
  autoCreate: boolean;
}

/** Opens the file with the settings every Stratus SQLite database runs with. */
export function openSqliteFile(path: string, options: SqliteOptions): BetterSqlite3.Database {
  const memory = path === ':memory:';
  if (!memory && options.autoCreate) mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path, { fileMustExist: !memory && !options.autoCreate });
  try {
    // WAL lets readers run while one writer commits; NORMAL sync is durable in WAL mode
    // except for the last transactions on power loss, which is the usual trade-off.
    raw.pragma('journal_mode = WAL');
    raw.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    raw.pragma('foreign_keys = ON');
    raw.pragma('synchronous = NORMAL');
  } catch (err) {
    raw.close();
    throw err;
  }
  return raw;
}

/**
 * better-sqlite3 binds neither Date nor boolean and returns what SQLite stored, so the
 * other dialects' JS types are restored here: Date and boolean parameters become ISO
 * strings (which sort chronologically) and 1/0, and columns declared `timestamp_text`
 * or `boolean` come back as Date and boolean. Computed columns (max(created_at)) carry
 * no declared type and stay as stored.
 */
export function adaptSqlite(raw: BetterSqlite3.Database): SqliteDatabase {
  return {
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      const stmt = raw.prepare(sql);
      const decode = stmt.reader ? rowDecoder(stmt.columns()) : (row: unknown) => row;
      return {
        reader: stmt.reader,
        all: (params) => stmt.all(encode(params)).map(decode),
        run: (params) => stmt.run(encode(params)),
        *iterate(params) {
          for (const row of stmt.iterate(encode(params))) yield decode(row);
        },
      };
    },
  };
}

function encode(params: ReadonlyArray<unknown>): unknown[] {
  return params.map((p) =>
    p instanceof Date ? p.toISOString() : typeof p === 'boolean' ? (p ? 1 : 0) : p,
  );
}

function rowDecoder(columns: BetterSqlite3.ColumnDefinition[]): (row: unknown) => unknown {
  const decoders: Array<[string, (v: unknown) => unknown]> = [];
  for (const c of columns) {
    const type = c.type?.toLowerCase();
    if (type === SQLITE_TIMESTAMP_TYPE) decoders.push([c.name, toDate]);
    else if (type === 'boolean') decoders.push([c.name, (v) => (v === null ? null : v !== 0)]);
  }
  if (decoders.length === 0) return (row) => row;
  return (row) => {
    const r = row as Record<string, unknown>;
    for (const [name, fn] of decoders) r[name] = fn(r[name]);
    return r;
  };
}

function toDate(v: unknown): unknown {
  if (typeof v === 'number') return new Date(v);
  // parseTimestamp reads zone-less text (CURRENT_TIMESTAMP's form) as UTC, unlike Date.
  if (typeof v === 'string') return parseTimestamp(v) ?? v;
  return v;
}

/**
 * Two changes to Kysely's SQLite dialect:
 * - Transactions start with BEGIN IMMEDIATE: a deferred transaction that reads first and
 *   writes later fails at once with SQLITE_BUSY when another process wrote in between,
 *   whereas IMMEDIATE takes the write lock up front and waits out busy_timeout.
 * - The migrator runs each migration in a transaction, as on PostgreSQL: SQLite's DDL is
 *   transactional, and the embedded default is where nobody repairs a half-applied
 *   migration by hand. The price: `PRAGMA foreign_keys = OFF` is a no-op inside a
 *   transaction, so a migration rebuilding a table uses `PRAGMA defer_foreign_keys = ON`
 *   and must mind ON DELETE CASCADE on the dropped table.
 */
export class StratusSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
