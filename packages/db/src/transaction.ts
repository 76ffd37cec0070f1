import { setTimeout as sleep } from 'node:timers/promises';
import type { Transaction } from 'kysely';
import { isTransientError } from './errors.js';
import type { Database } from './open.js';

export interface TransactionOptions {
  /** How many times to run fn again after a transient failure (default 3). */
  retries?: number;
}

/**
 * Runs fn in one transaction: commits when it resolves, rolls back when it throws. When
 * the database reports a lost race (see isTransientError) the whole transaction runs
 * again after a short randomized backoff, so fn must have no effects outside the
 * database (or only idempotent ones). Other errors are rethrown unchanged.
 */
export async function transaction<DB, T>(
  database: Database<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await database.db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= retries || !isTransientError(err)) throw err;
      // Exponential from 10 ms, jittered so two racing transactions do not collide again.
      const delay = Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random());
      database.logger.debug(
        { attempt: attempt + 1, err: err instanceof Error ? err.message : String(err) },
        'retrying transaction',
      );
      await sleep(delay);
    }
  }
}
