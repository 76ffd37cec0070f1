import { posix, resolve } from 'node:path';

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

/** Where a database lives, parsed from a URL. `url` is the effective URL with the password redacted. */
export type ConnectionTarget =
  | { dialect: 'sqlite'; url: string; path: string /* absolute, or ':memory:' */ }
  | { dialect: 'postgres'; url: string; database: string; connectionString: string }
  | {
      dialect: 'mysql';
      url: string;
      database: string;
      host: string;
      port: number;
      user: string;
      password: string;
      charset: string;
      socketPath?: string;
      /** Query parameters Stratus does not use (OpenStack configs carry pymysql options). */
      ignoredParams: string[];
    };

// Service names end up in file names and database names, so keep them to a safe alphabet.
const SERVICE_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Parses a database URL for one service:
 * - empty/undefined: SQLite file `<dataDir>/<service>.sqlite`
 * - `sqlite:///abs/path` (SQLAlchemy's four-slash form works too), `sqlite::memory:`
 * - `postgres://` or `postgresql://` user:pass@host[:port]/database[?pg options]
 * - `mysql://` or `mysql+pymysql://` user:pass@host[:port]/database[?charset=…&unix_socket=…]
 * `{service}` anywhere in the URL becomes the service name, so one setting serves every
 * service (one server, one database per service). A server URL without a database uses
 * the service name as the database.
 */
export function parseDatabaseUrl(
  url: string | undefined,
  service: string,
  dataDir?: string,
): ConnectionTarget {
  if (!SERVICE_RE.test(service)) {
    throw new Error(`invalid service name "${service}" for a database (use [a-z0-9_-])`);
  }
  const raw = (url ?? '').trim().replaceAll('{service}', service);
  if (raw === '') {
    if (!dataDir) throw new Error('no database url and no dataDir to put a SQLite file in');
    const path = resolve(dataDir, `${service}.sqlite`);
    return { dialect: 'sqlite', path, url: `sqlite://${path}` };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite':
      return parseSqlite(raw);
    case 'postgres':
    case 'postgresql':
      return parsePostgres(raw, service);
    case 'mysql':
    case 'mysql+pymysql':
      return parseMysql(raw, service);
    default:
      throw new Error(
        `unsupported database url ${redactUrl(raw)}: expected sqlite:///path, sqlite::memory:, ` +
          'postgres://, postgresql://, mysql:// or mysql+pymysql://',
      );
  }
}

function parseSqlite(raw: string): ConnectionTarget {
  if (raw === 'sqlite::memory:') return { dialect: 'sqlite', path: ':memory:', url: raw };
  const rest = raw.startsWith('sqlite://') ? raw.slice('sqlite://'.length) : '';
  if (!rest.startsWith('/')) {
    throw new Error(
      `invalid SQLite url ${raw}: expected sqlite:///absolute/path.sqlite or sqlite::memory:`,
    );
  }
  const path = posix.normalize(decodeURIComponent(rest));
  return { dialect: 'sqlite', path, url: `sqlite://${path}` };
}

function parseServerUrl(raw: string, service: string): { u: URL; database: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`invalid database url ${redactUrl(raw)}`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || service;
  if (database.includes('/')) {
    throw new Error(`invalid database url ${redactUrl(raw)}: "${database}" is not a database name`);
  }
  return { u, database };
}

function parsePostgres(raw: string, service: string): ConnectionTarget {
  const { u, database } = parseServerUrl(raw, service);
  // A socket directory may come as ?host=/run/postgresql instead of a host name.
  if (u.hostname === '' && !u.searchParams.has('host')) {
    throw new Error(`invalid database url ${redactUrl(raw)}: no host`);
  }
  u.pathname = `/${encodeURIComponent(database)}`;
  const connectionString = u.toString();
  return { dialect: 'postgres', database, connectionString, url: redactUrl(connectionString) };
}

function parseMysql(raw: string, service: string): ConnectionTarget {
  const { u, database } = parseServerUrl(raw, service);
  const socketPath = u.searchParams.get('unix_socket') ?? undefined;
  if (u.hostname === '' && socketPath === undefined) {
    throw new Error(`invalid database url ${redactUrl(raw)}: no host`);
  }
  const port = u.port === '' ? 3306 : Number(u.port);
  const known = new Set(['charset', 'unix_socket']);
  u.pathname = `/${encodeURIComponent(database)}`;
  return {
    dialect: 'mysql',
    database,
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    // utf8mb4: MySQL's "utf8" cannot store characters outside the BMP.
    charset: u.searchParams.get('charset') ?? 'utf8mb4',
    ...(socketPath !== undefined ? { socketPath } : {}),
    ignoredParams: [...u.searchParams.keys()].filter((k) => !known.has(k)),
    url: redactUrl(u.toString()),
  };
}

/** The URL with its password (user info or `password=` parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    // Not parseable: still never print what looks like a password.
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
