/**
 * Driver error classification. Each driver reports failures its own way:
 * - better-sqlite3: `code` is the extended result code name ('SQLITE_CONSTRAINT_UNIQUE')
 * - pg: `code` is the SQLSTATE ('23505')
 * - mysql2: `errno` is the server error number (1062)
 * Errors are examined along their `cause` chain, so wrapped driver errors still count.
 */

interface DriverError {
  code?: unknown;
  errno?: unknown;
  cause?: unknown;
}

function some(err: unknown, test: (e: DriverError) => boolean): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 10; depth++) {
    if (test(e as DriverError)) return true;
    e = (e as DriverError).cause;
  }
  return false;
}

const UNIQUE_SQLITE = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
// ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
const UNIQUE_MYSQL = new Set([1062, 1586]);
// ER_ROW_IS_REFERENCED(_2), ER_NO_REFERENCED_ROW(_2): parent delete and child insert
const FOREIGN_KEY_MYSQL = new Set([1216, 1217, 1451, 1452]);
// ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK
const TRANSIENT_MYSQL = new Set([1205, 1213]);

/** A unique or primary key constraint rejected the write. */
export function isUniqueViolation(err: unknown): boolean {
  return some(
    err,
    (e) =>
      e.code === '23505' ||
      (typeof e.code === 'string' && UNIQUE_SQLITE.has(e.code)) ||
      (typeof e.errno === 'number' && UNIQUE_MYSQL.has(e.errno)),
  );
}

/** A foreign key constraint rejected the write (missing parent, or parent still referenced). */
export function isForeignKeyViolation(err: unknown): boolean {
  return some(
    err,
    (e) =>
      e.code === '23503' ||
      e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
      (typeof e.errno === 'number' && FOREIGN_KEY_MYSQL.has(e.errno)),
  );
}

/**
 * The transaction lost a race and may succeed when run again: SQLite busy (another
 * writer held the lock past busy_timeout), PostgreSQL serialization failure or
 * deadlock, MySQL deadlock or lock wait timeout.
 */
export function isTransientError(err: unknown): boolean {
  return some(
    err,
    (e) =>
      e.code === '40001' ||
      e.code === '40P01' ||
      (typeof e.code === 'string' && e.code.startsWith('SQLITE_BUSY')) ||
      (typeof e.errno === 'number' && TRANSIENT_MYSQL.has(e.errno)),
  );
}
