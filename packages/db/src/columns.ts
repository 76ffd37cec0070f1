import { sql, type Expression } from 'kysely';
import { SQLITE_TIMESTAMP_TYPE } from './sqlite.js';
import type { DialectName } from './url.js';

export type ColumnType = Expression<unknown>;

export interface ColumnTypes {
  /** varchar(64): UUIDs with dashes, Keystone's 32-hex ids, names used as keys. */
  id: ColumnType;
  /** varchar(length), default 255. Indexable on MySQL (unlike text). */
  string(length?: number): ColumnType;
  /** Unbounded text (MySQL: LONGTEXT). Not indexable on MySQL, no default there. */
  text: ColumnType;
  /** JSON kept as text: write JSON.stringify(value), read JSON.parse(row.x). */
  json: ColumnType;
  /** Millisecond timestamp; the JS value is a Date on all three dialects. */
  timestamp: ColumnType;
  /** The JS value is a boolean on all three dialects. */
  boolean: ColumnType;
}

/**
 * Column types that behave the same on SQLite, PostgreSQL and MySQL, so a service writes
 * one migration:
 *
 *   const t = columnTypes(dialect);
 *   db.schema.createTable('image')
 *     .addColumn('id', t.id, (c) => c.primaryKey())
 *     .addColumn('name', t.string())
 *     .addColumn('created_at', t.timestamp, (c) => c.notNull())
 *
 * Why each is what it is:
 * - Strings compare and sort by code point everywhere (COLLATE "C" on PostgreSQL,
 *   utf8mb4_bin on MySQL, SQLite's BINARY), so unique constraints, ORDER BY and keyset
 *   pagination agree. MySQL's utf8mb4_bin pads: 'a' and 'a ' are equal there.
 * - SQLite does not enforce varchar lengths; validate lengths before writing.
 * - Timestamps: timestamptz(3) on PostgreSQL, DATETIME(3) holding UTC on MySQL, ISO 8601
 *   text on SQLite (sorts chronologically; see sqlite.ts for the Date conversion). Set
 *   them from JS (`new Date()`), not with database defaults, whose formats differ.
 * - integer, bigint (read as number everywhere, up to 2^53), varchar(n) and text from
 *   Kysely's own type names are portable as they are.
 */
export function columnTypes(dialect: DialectName): ColumnTypes {
  const collate = {
    sqlite: '',
    postgres: ' collate "C"',
    mysql: ' character set utf8mb4 collate utf8mb4_bin',
  }[dialect];
  const string = (length = 255): ColumnType => {
    if (!Number.isInteger(length) || length < 1) throw new Error(`bad varchar length ${length}`);
    return sql.raw(`varchar(${length})${collate}`);
  };
  const text = sql.raw(`${dialect === 'mysql' ? 'longtext' : 'text'}${collate}`);
  return {
    id: string(64),
    string,
    text,
    json: text,
    timestamp: sql.raw(
      { sqlite: SQLITE_TIMESTAMP_TYPE, postgres: 'timestamptz(3)', mysql: 'datetime(3)' }[dialect],
    ),
    boolean: sql.raw('boolean'),
  };
}
