import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type SelectQueryBuilder,
  type SqlBool,
} from 'kysely';

export interface SortKey {
  /** Column, optionally qualified (`image.name`); never raw user input. */
  key: string;
  dir: 'asc' | 'desc';
}

export interface PageOptions {
  sort: SortKey[];
  /** The marker row (loaded by id), with every sort key; the page starts after it. */
  marker?: object;
  limit?: number;
  /** The unique column that breaks ties (default `id`). */
  idKey?: string;
}

/**
 * One page of an OpenStack-style list: rows ordered by the sort keys, then the id as a
 * tie-breaker (in the first key's direction, as oslo.db does), starting after the
 * marker row. Keyset pagination, so pages stay correct while rows are inserted.
 *
 * NULL sorts first ascending and last descending on every dialect (openDatabase makes
 * PostgreSQL do so). The marker condition follows the same rule, written with explicit
 * IS NULL tests because `x > NULL` matches nothing: for keys k1..kn and marker values
 * m1..mn a row comes after the marker when, for some i, it equals the marker on k1..k(i-1)
 * and comes after it on ki.
 */
export async function paginate<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  options: PageOptions,
): Promise<O[]> {
  const idKey = options.idKey ?? 'id';
  const keys: SortKey[] = [];
  for (const s of [...options.sort, { key: idKey, dir: options.sort[0]?.dir ?? 'asc' }]) {
    if (!keys.some((k) => k.key === s.key)) keys.push(s);
  }
  let q = query;
  const { marker, limit } = options;
  if (marker !== undefined) {
    const values = keys.map((k) => markerValue(marker as Record<string, unknown>, k.key));
    if (values[keys.findIndex((k) => k.key === idKey)] === null) {
      throw new Error(`marker has a null ${idKey}`);
    }
    q = q.where((eb) => afterMarker(eb, keys, values));
  }
  for (const k of keys) q = q.orderBy(sql.ref(k.key), k.dir);
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`bad page limit ${limit}`);
    q = q.limit(limit);
  }
  return q.execute();
}

function markerValue(marker: Record<string, unknown>, key: string): unknown {
  // A qualified key (`image.name`) is found under its column name in the marker row.
  const column = key.slice(key.lastIndexOf('.') + 1);
  const value = key in marker ? marker[key] : marker[column];
  if (value === undefined) throw new Error(`marker has no value for sort key ${key}`);
  return value;
}

function afterMarker<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  keys: SortKey[],
  values: unknown[],
): Expression<SqlBool> {
  const disjuncts: Expression<SqlBool>[] = [];
  keys.forEach((k, i) => {
    const after = comesAfter(eb, k, values[i]);
    if (after === undefined) return;
    const equal = keys.slice(0, i).map((e, j) => {
      const v = values[j];
      return v === null ? eb(sql.ref(e.key), 'is', null) : eb(sql.ref(e.key), '=', v);
    });
    disjuncts.push(eb.and([...equal, after]));
  });
  return eb.or(disjuncts);
}

/** Rows whose key sorts strictly after v; undefined when none can (desc after NULL). */
function comesAfter<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  k: SortKey,
  v: unknown,
): Expression<SqlBool> | undefined {
  const ref = sql.ref(k.key);
  if (k.dir === 'asc') return v === null ? eb(ref, 'is not', null) : eb(ref, '>', v);
  return v === null ? undefined : eb.or([eb(ref, '<', v), eb(ref, 'is', null)]);
}
