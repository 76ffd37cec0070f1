import pg from 'pg';
import type { Logger } from '@stratus/common';

const INT8_OID = 20;

export function createPostgresPool(
  connectionString: string,
  poolMax: number,
  applicationName: string,
  logger: Logger,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: poolMax,
    application_name: applicationName,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // An idle client whose connection drops emits 'error' on the pool; unhandled, that
  // would crash the process, while the pool simply replaces the client on next use.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle PostgreSQL connection failed'));
  return pool;
}

/**
 * pg returns bigint (count(*), bigint columns) as strings; SQLite and MySQL return
 * numbers. Parse to number, refusing values a double cannot hold exactly.
 */
function typeParser(oid: number, format?: string): unknown {
  if (oid === INT8_OID && format !== 'binary') {
    return (value: string) => {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} exceeds 2^53`);
      return n;
    };
  }
  return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
}

/** True when the server says the database does not exist. */
export function isMissingPostgresDatabase(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '3D000';
}

export function quotePostgresIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs fn with a client connected to the server's maintenance database `postgres`. */
export async function withPostgresAdmin<T>(
  connectionString: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const u = new URL(connectionString);
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createPostgresDatabase(
  connectionString: string,
  database: string,
): Promise<void> {
  await withPostgresAdmin(connectionString, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quotePostgresIdent(database)} ENCODING 'UTF8'`);
    } catch (err) {
      // Another process created it first: 42P04, or 23505 when both raced in the catalog.
      const code = (err as { code?: unknown }).code;
      if (code !== '42P04' && code !== '23505') throw err;
    }
  });
}
