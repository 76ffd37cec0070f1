import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql, type Transaction } from 'kysely';
import { columnTypes } from './columns.js';
import { isForeignKeyViolation, isTransientError, isUniqueViolation } from './errors.js';
import type { Database } from './open.js';
import { describeEachDatabase } from './testing.js';
import { transaction } from './transaction.js';

interface Schema {
  parent: { id: string; name: string };
  child: { id: string; parent_id: string };
}

async function setUp(database: Database<Schema>): Promise<void> {
  const t = columnTypes(database.dialect);
  await database.db.schema
    .createTable('parent')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', t.string(), (c) => c.notNull().unique())
    .execute();
  await database.db.schema
    .createTable('child')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('parent_id', t.id, (c) => c.notNull().references('parent.id'))
    .execute();
}

async function names(database: Database<Schema>): Promise<string[]> {
  const rows = await database.db.selectFrom('parent').select('name').orderBy('name').execute();
  return rows.map((r) => r.name);
}

/**
 * Makes the driver itself report a lost race inside trx, as it would under contention.
 * SQLite: a second connection to the file cannot take the write lock trx holds.
 */
async function raiseTransient(database: Database<Schema>, trx: Transaction<Schema>) {
  switch (database.dialect) {
    case 'sqlite': {
      const other = new BetterSqlite3(database.url.slice('sqlite://'.length), { timeout: 0 });
      try {
        other.exec('BEGIN IMMEDIATE');
      } finally {
        other.close();
      }
      break;
    }
    case 'postgres':
      await sql`DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = 'serialization_failure'; END $$`.execute(
        trx,
      );
      break;
    case 'mysql':
      await sql`SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'simulated deadlock'`.execute(
        trx,
      );
      break;
  }
  assert.fail('no transient error was raised');
}

describeEachDatabase('transaction', (ctx) => {
  it('commits what fn wrote and returns its result', async () => {
    const database = await ctx.open<Schema>();
    await setUp(database);
    const result = await transaction(database, async (trx) => {
      await trx.insertInto('parent').values({ id: 'p1', name: 'one' }).execute();
      await trx.insertInto('child').values({ id: 'c1', parent_id: 'p1' }).execute();
      return 'done';
    });
    assert.equal(result, 'done');
    assert.deepEqual(await names(database), ['one']);
  });

  it('rolls everything back when fn throws, rethrowing its error', async () => {
    const database = await ctx.open<Schema>();
    await setUp(database);
    const boom = new Error('boom');
    let calls = 0;
    await assert.rejects(
      transaction(database, async (trx) => {
        calls++;
        await trx.insertInto('parent').values({ id: 'p1', name: 'one' }).execute();
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.equal(calls, 1, 'an ordinary error is not retried');
    assert.deepEqual(await names(database), []);
  });

  it('runs fn again after a transient failure, keeping only the last attempt', async () => {
    const database = await ctx.open<Schema>();
    await setUp(database);
    let attempts = 0;
    const result = await transaction(database, async (trx) => {
      attempts++;
      await trx
        .insertInto('parent')
        .values({ id: 'p1', name: `attempt ${attempts}` })
        .execute();
      if (attempts === 1) await raiseTransient(database, trx);
      return attempts;
    });
    assert.equal(result, 2);
    assert.deepEqual(await names(database), ['attempt 2']);
  });

  it('gives up after the allowed retries with the driver error', async () => {
    const database = await ctx.open<Schema>();
    await setUp(database);
    let attempts = 0;
    await assert.rejects(
      transaction(
        database,
        async (trx) => {
          attempts++;
          await raiseTransient(database, trx);
        },
        { retries: 2 },
      ),
      (err) => isTransientError(err),
    );
    assert.equal(attempts, 3);
  });

  it('classifies unique and foreign key violations', async () => {
    const database = await ctx.open<Schema>();
    await setUp(database);
    const { db } = database;
    await db.insertInto('parent').values({ id: 'p1', name: 'one' }).execute();
    await db.insertInto('child').values({ id: 'c1', parent_id: 'p1' }).execute();
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('the write should fail'),
        (e: unknown) => e,
      );

    for (const err of [
      await failure(db.insertInto('parent').values({ id: 'p1', name: 'other' }).execute()),
      await failure(db.insertInto('parent').values({ id: 'p2', name: 'one' }).execute()),
    ]) {
      assert.ok(isUniqueViolation(err), String(err));
      assert.ok(!isForeignKeyViolation(err));
      assert.ok(!isTransientError(err));
    }
    for (const err of [
      await failure(db.insertInto('child').values({ id: 'c2', parent_id: 'nope' }).execute()),
      await failure(db.deleteFrom('parent').where('id', '=', 'p1').execute()),
    ]) {
      assert.ok(isForeignKeyViolation(err), String(err));
      assert.ok(!isUniqueViolation(err));
    }
    const syntax = await failure(sql`select nonsense from nowhere`.execute(db));
    assert.ok(!isUniqueViolation(syntax) && !isForeignKeyViolation(syntax));
    assert.ok(!isTransientError(syntax));
  });
});

describe('error classifiers', () => {
  it('know each driver’s codes, also behind a cause', () => {
    const e = (props: object) => Object.assign(new Error('x'), props);
    assert.ok(isUniqueViolation(e({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })));
    assert.ok(isUniqueViolation(e({ errno: 1062, code: 'ER_DUP_ENTRY' })));
    assert.ok(isUniqueViolation(new Error('wrapped', { cause: e({ code: '23505' }) })));
    assert.ok(isForeignKeyViolation(e({ errno: 1451 })));
    assert.ok(!isForeignKeyViolation(e({ code: 'SQLITE_CONSTRAINT_NOTNULL' })));
    for (const props of [
      { code: 'SQLITE_BUSY' },
      { code: 'SQLITE_BUSY_SNAPSHOT' },
      { code: '40001' },
      { code: '40P01' },
      { errno: 1213 },
      { errno: 1205 },
    ]) {
      assert.ok(isTransientError(e(props)), JSON.stringify(props));
    }
    assert.ok(!isTransientError(e({ code: 'SQLITE_LOCKED_SHAREDCACHE', errno: 1062 })));
    assert.ok(!isTransientError('40001'));
    assert.ok(!isUniqueViolation(null));
  });
});
