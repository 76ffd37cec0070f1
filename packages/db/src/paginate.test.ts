import assert from 'node:assert/strict';
import { it } from 'node:test';
import { columnTypes } from './columns.js';
import type { Database } from './open.js';
import { paginate, type SortKey } from './paginate.js';
import { describeEachDatabase } from './testing.js';

interface Item {
  id: string;
  name: string | null;
  size: number | null;
  created_at: Date | null;
}

const T = (n: number) => new Date(Date.UTC(2026, 0, n, 12, 0, 0, n * 7));
const ITEMS: Item[] = [
  { id: 'r01', name: 'beta', size: 10, created_at: T(1) },
  { id: 'r02', name: null, size: 20, created_at: T(3) },
  { id: 'r03', name: 'Alpha', size: null, created_at: null },
  { id: 'r04', name: 'beta', size: 10, created_at: T(2) },
  { id: 'r05', name: null, size: null, created_at: T(1) },
  { id: 'r06', name: 'alpha', size: 5, created_at: T(3) },
  { id: 'r07', name: 'gamma', size: 20, created_at: null },
  { id: 'r08', name: 'beta', size: null, created_at: T(2) },
  { id: 'r09', name: 'alpha', size: 5, created_at: T(1) },
  { id: 'r10', name: null, size: 10, created_at: T(4) },
];

/** The order every dialect must produce: NULL first ascending, id breaks ties. */
function expectedOrder(sort: SortKey[]): string[] {
  const keys = [...sort, { key: 'id', dir: sort[0]?.dir ?? 'asc' } as const];
  const value = (item: Item, key: string) => {
    const v = item[key as keyof Item];
    return v instanceof Date ? v.getTime() : v;
  };
  return [...ITEMS]
    .sort((a, b) => {
      for (const { key, dir } of keys) {
        const x = value(a, key);
        const y = value(b, key);
        const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
        if (c !== 0) return dir === 'asc' ? c : -c;
      }
      return 0;
    })
    .map((i) => i.id);
}

const SORTS: SortKey[][] = [
  [],
  [{ key: 'name', dir: 'asc' }],
  [{ key: 'name', dir: 'desc' }],
  [
    { key: 'size', dir: 'asc' },
    { key: 'name', dir: 'desc' },
  ],
  [{ key: 'created_at', dir: 'desc' }],
  [
    { key: 'size', dir: 'desc' },
    { key: 'created_at', dir: 'asc' },
    { key: 'name', dir: 'asc' },
  ],
  [
    { key: 'id', dir: 'desc' },
    { key: 'name', dir: 'asc' },
  ],
];

const describeSort = (sort: SortKey[]) => sort.map((s) => `${s.key} ${s.dir}`).join(', ') || 'id';

describeEachDatabase('paginate', (ctx) => {
  let database: Database<{ item: Item }>;

  async function items(): Promise<Database<{ item: Item }>> {
    if (database !== undefined) return database;
    database = await ctx.open<{ item: Item }>();
    const t = columnTypes(ctx.dialect);
    await database.db.schema
      .createTable('item')
      .addColumn('id', t.id, (c) => c.primaryKey())
      .addColumn('name', t.string())
      .addColumn('size', 'integer')
      .addColumn('created_at', t.timestamp)
      .execute();
    await database.db.insertInto('item').values(ITEMS).execute();
    return database;
  }

  it('checks the reference order itself', () => {
    assert.deepEqual(expectedOrder([{ key: 'name', dir: 'asc' }]), [
      ...['r02', 'r05', 'r10', 'r03', 'r06', 'r09', 'r01', 'r04', 'r08', 'r07'],
    ]);
    assert.deepEqual(expectedOrder([{ key: 'name', dir: 'desc' }]), [
      ...['r07', 'r08', 'r04', 'r01', 'r09', 'r06', 'r03', 'r10', 'r05', 'r02'],
    ]);
  });

  for (const sort of SORTS) {
    it(`walks every page by ${describeSort(sort)}, NULLs included`, async () => {
      const { db } = await items();
      const expected = expectedOrder(sort);
      const all = await paginate(db.selectFrom('item').selectAll(), { sort });
      assert.deepEqual(
        all.map((r) => r.id),
        expected,
      );
      for (const limit of [1, 3, 4]) {
        const seen: string[] = [];
        let marker: Item | undefined;
        for (;;) {
          const page = await paginate(db.selectFrom('item').selectAll(), { sort, marker, limit });
          assert.ok(page.length <= limit);
          seen.push(...page.map((r) => r.id));
          if (page.length < limit) break;
          marker = page.at(-1);
        }
        assert.deepEqual(seen, expected, `limit ${limit}`);
      }
      // After the last row: an empty page.
      const last = all.at(-1)!;
      assert.deepEqual(
        await paginate(db.selectFrom('item').selectAll(), { sort, marker: last }),
        [],
      );
    });
  }

  it('starts after a marker in the middle, whose keys are NULL', async () => {
    const { db } = await items();
    const sort: SortKey[] = [
      { key: 'size', dir: 'asc' },
      { key: 'name', dir: 'desc' },
    ];
    // size asc puts r03, r05, r08 (NULL size) first; by name desc: r08 beta, r03 Alpha, r05 NULL.
    const marker = ITEMS.find((i) => i.id === 'r03');
    const page = await paginate(db.selectFrom('item').selectAll(), { sort, marker, limit: 3 });
    assert.deepEqual(
      page.map((r) => r.id),
      ['r05', 'r06', 'r09'],
    );
  });

  it('combines with filters, qualified keys and another id column', async () => {
    const { db } = await items();
    const sort: SortKey[] = [{ key: 'item.created_at', dir: 'desc' }];
    const marker = ITEMS.find((i) => i.id === 'r06'); // T(3), ties with r02
    const page = await paginate(
      db.selectFrom('item').select(['item.id', 'item.name']).where('name', 'is not', null),
      { sort, marker, idKey: 'item.id' },
    );
    // created_at desc, id desc: r06 (T3), r04 r08 (T2), r09 r01 (T1), r07 r03 (NULL).
    assert.deepEqual(
      page.map((r) => r.id),
      ['r08', 'r04', 'r09', 'r01', 'r07', 'r03'],
    );
    assert.deepEqual(await paginate(db.selectFrom('item').selectAll(), { sort, limit: 0 }), []);
  });

  it('refuses a marker without the sort keys', async () => {
    const { db } = await items();
    await assert.rejects(
      paginate(db.selectFrom('item').selectAll(), {
        sort: [{ key: 'size', dir: 'asc' }],
        marker: { id: 'r01' },
      }),
      /marker has no value for sort key size/,
    );
    await assert.rejects(
      paginate(db.selectFrom('item').selectAll(), { sort: [], limit: -1 }),
      /bad page limit/,
    );
  });
});
