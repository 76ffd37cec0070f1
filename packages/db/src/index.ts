export * from './columns.js';
export * from './errors.js';
export * from './migrate.js';
export * from './open.js';
export * from './paginate.js';
export * from './transaction.js';
export { parseDatabaseUrl, redactUrl, type ConnectionTarget, type DialectName } from './url.js';
