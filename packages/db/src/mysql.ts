import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import type { TypeCast } from 'mysql2';
import type { ConnectionTarget } from './url.js';

type MysqlTarget = Extract<ConnectionTarget, { dialect: 'mysql' }>;

/**
 * MySQL's BOOLEAN is TINYINT(1) and comes back as 0/1; return booleans like the other
 * dialects do. Every other type takes mysql2's default conversion.
 */
const typeCast: TypeCast = (field, next) => {
  if (field.type === 'TINY' && field.length === 1) {
    const v = field.string();
    return v === null ? null : v !== '0';
  }
  return next();
};

function connectionOptions(target: MysqlTarget, database: string | undefined) {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    ...(database !== undefined ? { database } : {}),
    ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : {}),
    charset: target.charset,
    // DATETIME has no zone: read and write it as UTC, whatever the server's zone is.
    timezone: 'Z' as const,
    typeCast,
  };
}

export function createMysqlPool(target: MysqlTarget, poolMax: number): mysql.Pool {
  return mysql.createPool({
    ...connectionOptions(target, target.database),
    connectionLimit: poolMax,
  });
}

/** Session settings for each new connection (see openDatabase). */
export const MYSQL_SESSION_SQL = [
  // CURRENT_TIMESTAMP and NOW() in UTC, matching how DATETIME values are written.
  "SET time_zone = '+00:00'",
  // Strict mode: too-long strings and bad dates fail as on PostgreSQL, never truncate.
  "SET SESSION sql_mode = 'TRADITIONAL,ONLY_FULL_GROUP_BY'",
];

export function isMissingMysqlDatabase(err: unknown): boolean {
  return (err as { errno?: unknown } | null)?.errno === 1049; // ER_BAD_DB_ERROR
}

export function quoteMysqlIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** Runs fn on a connection to the server without selecting a database. */
export async function withMysqlAdmin<T>(
  target: MysqlTarget,
  fn: (conn: mysqlPromise.Connection) => Promise<T>,
): Promise<T> {
  // The promise API resolves only once connected, so a failed login leaves nothing open.
  const conn = await mysqlPromise.createConnection({
    ...connectionOptions(target, undefined),
    connectTimeout: 10_000,
  });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

export async function createMysqlDatabase(target: MysqlTarget): Promise<void> {
  await withMysqlAdmin(target, async (conn) => {
    // utf8mb4_bin: full Unicode and binary comparison, like SQLite and PostgreSQL's "C".
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS ${quoteMysqlIdent(target.database)} ` +
        'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    );
  });
}
