/**
 * Runs one node:test suite against every dialect (imported as `@stratus/db/testing`):
 *
 *   describeEachDatabase('image repository', (ctx) => {
 *     it('stores images', async () => {
 *       const database = await ctx.open();
 *       ...
 *     });
 *   });
 *
 * SQLite uses files in a temporary directory. PostgreSQL and MariaDB/MySQL use the servers
 * named by STRATUS_TEST_POSTGRES_URL / STRATUS_TEST_MYSQL_URL (defaults: local servers,
 * user and password `stratus`); each open() creates a uniquely named database there.
 * After the suite every database opened through ctx is closed and every temporary
 * database or file removed. A missing server skips that dialect with the reason printed;
 * in CI it fails instead (testkit's requirement).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { testSetting } from '@stratus/config';
import { requirement } from '@stratus/testkit';
import { withMysqlAdmin, quoteMysqlIdent } from './mysql.js';
import { openDatabase, type Database, type OpenDatabaseOptions } from './open.js';
import { quotePostgresIdent, withPostgresAdmin } from './postgres.js';
import { parseDatabaseUrl, redactUrl, type DialectName } from './url.js';

export interface DatabaseTestContext {
  readonly dialect: DialectName;
  /**
   * A fresh, empty database. Options override the defaults (service and database: a
   * unique name); close() is optional, the suite closes it anyway.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests often go untyped
  open<DB = any>(options?: Partial<OpenDatabaseOptions>): Promise<Database<DB>>;
  /** A new name for a service or database, removed after the suite if it became one. */
  uniqueName(): string;
  /** The URL of database `name` on this dialect's test server (`{service}` allowed). */
  url(name: string): string;
}

const DEFAULT_URLS = {
  postgres: 'postgres://stratus:stratus@127.0.0.1:5432/postgres',
  mysql: 'mysql://stratus:stratus@127.0.0.1:3306/',
};

interface Server {
  dialect: DialectName;
  /** Undefined when the dialect needs no server (SQLite). */
  serverUrl?: string;
  /** False, or why this dialect's suites are skipped. */
  skip: string | false;
  /** Set when a skip is not allowed (CI): the suite fails with it. */
  error?: unknown;
}

async function probe(
  dialect: 'postgres' | 'mysql',
  serverUrl: string,
  what: string,
  installHint: string,
): Promise<Server> {
  try {
    const skip = await requirement(
      `${what} at ${redactUrl(serverUrl)}`,
      () => adminQuery(serverUrl, 'select 1'),
      installHint,
    );
    return { dialect, serverUrl, skip };
  } catch (error) {
    return { dialect, serverUrl, skip: false, error };
  }
}

/**
 * Probed once when a test file imports this module: node:test attaches tests defined
 * after an await inside an async describe() to whichever suite created the awaited
 * promise, so the suites themselves must be synchronous.
 */
const SERVERS: Server[] = [
  { dialect: 'sqlite', skip: false },
  ...(await Promise.all([
    probe(
      'postgres',
      testSetting('POSTGRES_URL') ?? DEFAULT_URLS.postgres,
      'PostgreSQL',
      'install postgresql and set STRATUS_TEST_POSTGRES_URL to a role that may CREATE DATABASE',
    ),
    probe(
      'mysql',
      testSetting('MYSQL_URL') ?? DEFAULT_URLS.mysql,
      'MariaDB/MySQL',
      'install mariadb-server and set STRATUS_TEST_MYSQL_URL to a user that may CREATE DATABASE',
    ),
  ])),
];

/** Runs one statement on the server outside any test database; returns its rows. */
async function adminQuery(
  serverUrl: string,
  statement: string,
): Promise<Record<string, unknown>[]> {
  const target = parseDatabaseUrl(serverUrl, 'admin');
  if (target.dialect === 'postgres') {
    return withPostgresAdmin(target.connectionString, async (c) => (await c.query(statement)).rows);
  }
  if (target.dialect === 'mysql') {
    return withMysqlAdmin(target, async (c) => {
      const [rows] = await c.query(statement);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    });
  }
  throw new Error(`${redactUrl(serverUrl)} is not a database server url`);
}

export function describeEachDatabase(
  title: string,
  body: (ctx: DatabaseTestContext) => void,
): void {
  for (const server of SERVERS) {
    describe(`${title} [${server.dialect}]`, { skip: server.skip }, () => {
      if (server.error !== undefined) {
        it(`reaches the ${server.dialect} server`, () => {
          throw server.error;
        });
        return;
      }
      const ctx = createContext(server);
      body(ctx);
      // Registered after the body's hooks, so it runs after them.
      after(() => ctx.cleanup());
    });
  }
}

function createContext(server: Server): DatabaseTestContext & { cleanup(): Promise<void> } {
  // Lower case only: MySQL database names are case-sensitive on Linux but not elsewhere.
  const prefix = `stratus_test_${randomBytes(4).toString('hex')}_`;
  let counter = 0;
  const opened: Database<unknown>[] = [];
  let dir: string | undefined;

  const url = (name: string): string => {
    if (server.serverUrl === undefined) {
      dir ??= mkdtempSync(join(tmpdir(), 'stratus-db-test-'));
      return `sqlite://${dir}/${name}.sqlite`;
    }
    // Replace the database by a marker first: the URL setter would escape `{service}`.
    const u = new URL(server.serverUrl);
    u.pathname = '/__database__';
    return u.toString().replace('/__database__', `/${name}`);
  };

  return {
    dialect: server.dialect,
    url,
    uniqueName: () => `${prefix}${++counter}`,
    async open(options = {}) {
      const name = `${prefix}${++counter}`;
      const database = await openDatabase({ service: name, url: url(name), ...options });
      opened.push(database as Database<unknown>);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return database as Database<any>;
    },
    async cleanup() {
      await Promise.all(opened.map((d) => d.close()));
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      if (server.serverUrl !== undefined) await dropDatabases(server, prefix);
    },
  };
}

/** Drops every database whose name starts with the suite's prefix. */
async function dropDatabases(server: Server, prefix: string): Promise<void> {
  const serverUrl = server.serverUrl!;
  if (server.dialect === 'postgres') {
    const rows = await adminQuery(serverUrl, 'select datname from pg_database');
    for (const { datname } of rows) {
      if (typeof datname !== 'string' || !datname.startsWith(prefix)) continue;
      // FORCE: a test that forgot close() must not keep the database alive.
      await adminQuery(
        serverUrl,
        `DROP DATABASE IF EXISTS ${quotePostgresIdent(datname)} WITH (FORCE)`,
      );
    }
  } else {
    const rows = await adminQuery(serverUrl, 'SHOW DATABASES');
    for (const row of rows) {
      const name = Object.values(row)[0];
      if (typeof name !== 'string' || !name.startsWith(prefix)) continue;
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${quoteMysqlIdent(name)}`);
    }
  }
}
