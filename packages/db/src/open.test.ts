import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { tempDir } from '@stratus/testkit';
import { columnTypes } from './columns.js';
import { openDatabase, type Database } from './open.js';
import { describeEachDatabase } from './testing.js';

async function currentDatabase(database: Database<unknown>): Promise<string> {
  const query =
    database.dialect === 'postgres'
      ? sql<{ name: string }>`select current_database() as name`
      : database.dialect === 'mysql'
        ? sql<{ name: string }>`select database() as name`
        : sql<{ name: string }>`select file as name from pragma_database_list where name = 'main'`;
  const { rows } = await query.execute(database.db);
  return rows[0]!.name;
}

describeEachDatabase('openDatabase', (ctx) => {
  it('replaces {service} in the url and creates the database', async () => {
    const service = ctx.uniqueName();
    const database = await openDatabase({ service, url: ctx.url('{service}') });
    try {
      assert.equal(database.dialect, ctx.dialect);
      assert.doesNotMatch(database.url, /\{service\}/);
      assert.ok(database.url.includes(service), database.url);
      const name = await currentDatabase(database);
      assert.ok(ctx.dialect === 'sqlite' ? name.endsWith(`/${service}.sqlite`) : name === service);
    } finally {
      await database.close();
    }
    // Opening an existing database works the same.
    const again = await openDatabase({ service, url: ctx.url('{service}') });
    await again.close();
  });

  it('lets concurrent starts create the same database', async () => {
    const service = ctx.uniqueName();
    const opened = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ service, url: ctx.url('{service}') })),
    );
    await Promise.all(opened.map((d) => d.close()));
  });

  it('fails naming the url when autoCreate is off and the database is missing', async () => {
    const service = ctx.uniqueName();
    await assert.rejects(
      openDatabase({ service, url: ctx.url('{service}'), autoCreate: false }),
      (err: Error) => {
        assert.match(err.message, /^cannot open database /);
        assert.ok(err.message.includes(service), err.message);
        assert.doesNotMatch(err.message, /stratus:stratus@/);
        return true;
      },
    );
  });

  if (ctx.dialect !== 'sqlite') {
    it('redacts the password and reports bad credentials', async () => {
      const database = await ctx.open();
      assert.match(database.url, /:\*\*\*@/);
      const wrong = ctx.url(ctx.uniqueName()).replace(/:[^:@/]*@/, ':wrong-password@');
      await assert.rejects(openDatabase({ service: 'x', url: wrong }), (err: Error) => {
        assert.match(err.message, /^cannot open database .*:\*\*\*@/);
        assert.doesNotMatch(err.message, /wrong-password/);
        return true;
      });
    });
  }

  if (ctx.dialect === 'sqlite') {
    it('sets WAL, busy_timeout, foreign_keys and synchronous', async () => {
      const database = await ctx.open({ busyTimeoutMs: 1234 });
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(database.db)).rows[0] as object)[0];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('busy_timeout'), 1234);
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('synchronous'), 1); // NORMAL
    });
  }
});

describe('openDatabase with SQLite defaults', () => {
  const dir = tempDir(after);

  it('puts <service>.sqlite into dataDir, creating the directory', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const database = await openDatabase({ service: 'image', dataDir });
    try {
      assert.equal(database.dialect, 'sqlite');
      assert.equal(database.url, `sqlite://${dataDir}/image.sqlite`);
      assert.ok(existsSync(join(dataDir, 'image.sqlite')));
    } finally {
      await database.close();
    }
  });

  it('rejects bad options before touching anything', async () => {
    await assert.rejects(openDatabase({ service: 's', dataDir: dir, poolMax: 0 }), /poolMax/);
    await assert.rejects(
      openDatabase({ service: 's', url: 'ftp://x' }),
      /unsupported database url/,
    );
    await assert.rejects(openDatabase({ service: 's' }), /no dataDir/);
  });

  it('opens an in-memory database, and close() may be called twice', async () => {
    const database = await openDatabase({ service: 's', url: 'sqlite::memory:' });
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
    assert.deepEqual(rows, [{ one: 1 }]);
    await database.close();
    await database.close();
  });
});

describeEachDatabase('column types', (ctx) => {
  it('round-trip timestamps with milliseconds, booleans, json and bigints', async () => {
    const database = await ctx.open();
    const { db } = database;
    const t = columnTypes(ctx.dialect);
    await db.schema
      .createTable('event')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('at', t.timestamp)
      .addColumn('flag', t.boolean)
      .addColumn('doc', t.json)
      .addColumn('n', 'bigint')
      .execute();
    const times = [
      new Date(Date.UTC(2026, 0, 5, 7, 8, 9, 45)),
      new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
      new Date(),
    ];
    const doc = { tags: ['a', 'é', '😀'], nested: { x: 1 } };
    await db
      .insertInto('event')
      .values([
        { id: 'e0', at: times[0], flag: true, doc: JSON.stringify(doc), n: 2 ** 40 },
        { id: 'e1', at: times[1], flag: false, doc: '[]', n: -1 },
        { id: 'e2', at: times[2], flag: true, doc: 'null', n: 0 },
        { id: 'e3', at: null, flag: null, doc: null, n: null },
      ])
      .execute();
    const rows = await db.selectFrom('event').selectAll().orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => r.at),
      [...times, null],
    );
    for (const r of rows.slice(0, 3)) assert.ok(r.at instanceof Date);
    assert.deepEqual(
      rows.map((r) => r.flag),
      [true, false, true, null],
    );
    assert.deepEqual(JSON.parse(rows[0]!.doc), doc);
    assert.deepEqual(
      rows.map((r) => r.n),
      [2 ** 40, -1, 0, null],
    );

    // Timestamps compare at millisecond precision in SQL too.
    const exact = await db.selectFrom('event').select('id').where('at', '=', times[0]).execute();
    assert.deepEqual(exact, [{ id: 'e0' }]);
    const later = await db
      .selectFrom('event')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('at', '>', new Date(times[1]!.getTime() - 1))
      .executeTakeFirstOrThrow();
    assert.equal(later.count, 3); // a number on every dialect
    const byTime = await db.selectFrom('event').select('id').orderBy('at', 'desc').execute();
    assert.deepEqual(
      byTime.map((r) => r.id),
      ['e2', 'e0', 'e1', 'e3'],
    );
    const flagged = await db.selectFrom('event').select('id').where('flag', '=', true).execute();
    assert.deepEqual(flagged.map((r) => r.id).sort(), ['e0', 'e2']);
  });

  it('compare strings by code point, case-sensitively', async () => {
    const { db } = await ctx.open();
    const t = columnTypes(ctx.dialect);
    await db.schema
      .createTable('tag')
      .addColumn('name', t.string(), (c) => c.primaryKey())
      .addColumn('note', t.text)
      .execute();
    const names = ['b', 'a', 'B', 'é', 'Z', '😀', 'ab'];
    await db
      .insertInto('tag')
      .values(names.map((name) => ({ name, note: name.repeat(3) })))
      .execute();
    const rows = await db.selectFrom('tag').selectAll().orderBy('name').execute();
    assert.deepEqual(
      rows.map((r) => r.name),
      ['B', 'Z', 'a', 'ab', 'b', 'é', '😀'],
    );
    assert.equal(rows.at(-1)?.note, '😀😀😀');
    const found = await db.selectFrom('tag').select('name').where('name', '=', 'A').execute();
    assert.deepEqual(found, []);
  });

  it('sort NULL first ascending and last descending', async () => {
    const { db } = await ctx.open();
    await db.schema
      .createTable('v')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('x', 'integer')
      .execute();
    await db
      .insertInto('v')
      .values([
        { id: 1, x: 2 },
        { id: 2, x: null },
        { id: 3, x: 1 },
      ])
      .execute();
    const asc = await db.selectFrom('v').select('x').orderBy('x').execute();
    assert.deepEqual(
      asc.map((r) => r.x),
      [null, 1, 2],
    );
    const desc = await db.selectFrom('v').select('x').orderBy('x', 'desc').execute();
    assert.deepEqual(
      desc.map((r) => r.x),
      [2, 1, null],
    );
  });
});
