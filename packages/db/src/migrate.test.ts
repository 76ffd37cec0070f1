import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { columnTypes } from './columns.js';
import {
  migrate,
  migrateDown,
  MigrationError,
  migrationStatus,
  type Migration,
} from './migrate.js';
import { openDatabase, type Database } from './open.js';
import { describeEachDatabase } from './testing.js';

const execFileAsync = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function tables(database: Database<any>): Promise<string[]> {
  const all = await database.db.introspection.getTables({ withInternalKyselyTables: true });
  return all.map((t) => t.name).sort();
}

/** Migrations that record the order they ran in. */
function recorded(log: string[]): Migration[] {
  return [
    {
      id: '0002_add_tag',
      async up(db) {
        log.push('0002_add_tag');
        await db.schema.alterTable('project').addColumn('tag', 'varchar(20)').execute();
      },
      async down(db) {
        await db.schema.alterTable('project').dropColumn('tag').execute();
      },
    },
    {
      id: '0001_init',
      async up(db, dialect) {
        log.push('0001_init');
        const t = columnTypes(dialect);
        await db.schema
          .createTable('project')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .execute();
      },
    },
    {
      id: '0003_seed',
      async up(db) {
        log.push('0003_seed');
        await db
          .insertInto('project')
          .values({ id: 'p1', created_at: new Date(), tag: 'x' })
          .execute();
      },
    },
  ];
}

/**
 * Runs migrations in a child process; resolves to the ids it applied. The child defines
 * its own copies of `recorded`'s effects: the same ids, a table and a fixed seed row.
 */
async function migrateInChild(service: string, url: string): Promise<string[]> {
  const index = new URL('./index.js', import.meta.url).href;
  const script = `
    import { migrate, openDatabase } from ${JSON.stringify(index)};
    const [service, url] = process.argv.slice(1);
    const database = await openDatabase({ service, url });
    const migrations = [
      { id: '0001_init', up: (db) => db.schema.createTable('project')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey()).execute() },
      { id: '0002_add_tag', up: (db) => db.schema.alterTable('project')
          .addColumn('tag', 'varchar(20)').execute() },
      { id: '0003_seed', up: (db) => db.insertInto('project').values({ id: 'p1' }).execute() },
    ];
    try {
      console.log(JSON.stringify(await migrate(database, migrations)));
    } finally {
      await database.close();
    }
  `;
  const { stdout } = await execFileAsync(process.execPath, [
    '--input-type=module',
    '-e',
    script,
    service,
    url,
  ]);
  return JSON.parse(stdout) as string[];
}

describeEachDatabase('migrate', (ctx) => {
  it('applies pending migrations in id order, once', async () => {
    const database = await ctx.open();
    const log: string[] = [];
    const migrations = recorded(log);
    assert.deepEqual(await migrationStatus(database, migrations), {
      applied: [],
      pending: ['0001_init', '0002_add_tag', '0003_seed'],
    });
    assert.deepEqual(await migrate(database, migrations), [
      '0001_init',
      '0002_add_tag',
      '0003_seed',
    ]);
    assert.deepEqual(log, ['0001_init', '0002_add_tag', '0003_seed']);
    assert.deepEqual(await tables(database), [
      'project',
      'stratus_migration',
      'stratus_migration_lock',
    ]);

    // Idempotent: nothing runs again.
    assert.deepEqual(await migrate(database, migrations), []);
    assert.deepEqual(log, ['0001_init', '0002_add_tag', '0003_seed']);
    assert.deepEqual(await migrationStatus(database, migrations), {
      applied: ['0001_init', '0002_add_tag', '0003_seed'],
      pending: [],
    });
    const rows = await database.db.selectFrom('project').select(['id', 'tag']).execute();
    assert.deepEqual(rows, [{ id: 'p1', tag: 'x' }]);
  });

  it('applies only what is new', async () => {
    const database = await ctx.open();
    const log: string[] = [];
    const migrations = recorded(log);
    assert.deepEqual(await migrate(database, migrations.slice(0, 2)), [
      '0001_init',
      '0002_add_tag',
    ]);
    assert.deepEqual(await migrationStatus(database, migrations), {
      applied: ['0001_init', '0002_add_tag'],
      pending: ['0003_seed'],
    });
    assert.deepEqual(await migrate(database, migrations), ['0003_seed']);
  });

  it('reports a failing migration by id and keeps the earlier ones', async () => {
    const database = await ctx.open();
    const migrations = recorded([]);
    const broken: Migration = {
      id: '0004_broken',
      async up(db) {
        await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
        await db.insertInto('no_such_table').values({ id: 1 }).execute();
      },
    };
    const later: Migration = { id: '0005_later', up: async () => undefined };
    const err = await migrate(database, [...migrations, broken, later]).then(
      () => assert.fail('migrate should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MigrationError);
    assert.equal(err.migrationId, '0004_broken');
    assert.match(err.message, /^migration 0004_broken failed: .*no_such_table/);
    assert.ok(err.cause instanceof Error);
    assert.deepEqual(err.applied, ['0001_init', '0002_add_tag', '0003_seed']);
    assert.deepEqual(await migrationStatus(database, [...migrations, broken, later]), {
      applied: ['0001_init', '0002_add_tag', '0003_seed'],
      pending: ['0004_broken', '0005_later'],
    });
    // Transactional DDL rolls the failed migration back; MySQL commits each statement.
    const expected = ctx.dialect === 'mysql' ? ['half_done', 'project'] : ['project'];
    assert.deepEqual(
      (await tables(database)).filter((t) => !t.startsWith('stratus_')),
      expected,
    );

    // Once fixed, the run continues where it stopped.
    const fixed: Migration = { id: '0004_broken', up: async () => undefined };
    assert.deepEqual(await migrate(database, [...migrations, fixed, later]), [
      '0004_broken',
      '0005_later',
    ]);
  });

  it('applies each migration once when several processes start together', async () => {
    const service = ctx.uniqueName();
    const url = ctx.url('{service}');
    const migrations = recorded([]);
    let runs: string[][];
    if (ctx.dialect === 'sqlite') {
      // Separate processes: SQLite waits for a lock synchronously, so two connections in
      // one process would block the event loop the lock holder needs to finish.
      runs = await Promise.all([1, 2, 3].map(() => migrateInChild(service, url)));
    } else {
      const handles = await Promise.all([1, 2, 3].map(() => openDatabase({ service, url })));
      try {
        runs = await Promise.all(handles.map((h) => migrate(h, migrations)));
      } finally {
        await Promise.all(handles.map((h) => h.close()));
      }
    }
    // 0003_seed inserts a fixed primary key: had it run twice, a run would have failed.
    assert.deepEqual(runs.flat().sort(), ['0001_init', '0002_add_tag', '0003_seed']);
  });

  it('reverts the latest migration with down()', async () => {
    const database = await ctx.open();
    const migrations = recorded([]).slice(0, 2);
    await migrate(database, migrations);
    assert.equal(await migrateDown(database, migrations), '0002_add_tag');
    const project = (await database.db.introspection.getTables()).find((t) => t.name === 'project');
    const columns = project?.columns.map((c) => c.name);
    assert.deepEqual(columns, ['id', 'created_at']);
    await assert.rejects(
      migrateDown(database, migrations),
      /migration 0001_init failed: .*no down/,
    );
    assert.deepEqual((await migrationStatus(database, migrations)).applied, ['0001_init']);
  });

  it('refuses duplicate ids and history it does not know', async () => {
    const database = await ctx.open();
    const noop = async () => undefined;
    await assert.rejects(
      migrate(database, [
        { id: 'a', up: noop },
        { id: 'a', up: noop },
      ]),
      /duplicate migration id a/,
    );
    await migrate(database, [{ id: 'a', up: noop }]);
    await assert.rejects(
      migrate(database, [{ id: 'b', up: noop }]),
      (err: Error) =>
        err instanceof MigrationError && /migrations failed: .*a is missing/.test(err.message),
    );
  });
});
