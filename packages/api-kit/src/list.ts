/**
 * The list conventions shared by the OpenStack APIs: `limit` + `marker` paging,
 * `sort_key`/`sort_dir` pairs (Nova, Neutron, Cinder) or `sort=key:dir,...` (Glance),
 * filters, and the `next` link that carries the marker of the last item.
 */
import { BadRequest } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Link } from './versions.js';

export type SortDir = 'asc' | 'desc';

export interface SortSpec {
  key: string;
  dir: SortDir;
}

export interface ListQueryOptions {
  /** Keys a client may sort by. */
  sortKeys: readonly string[];
  /** The order when the client names none. */
  defaultSort: readonly SortSpec[];
  /** The page size when no limit is given, and the most a limit may ask for. */
  maxLimit: number;
  /** Query parameters that filter the list; others are ignored. */
  filters?: readonly string[];
  /** Direction of a sort key given without one (default `asc`). */
  defaultDir?: SortDir;
}

export interface ListQuery {
  limit: number;
  marker: string | undefined;
  sort: SortSpec[];
  filters: Record<string, string | string[]>;
}

type Query = Record<string, string | string[] | undefined>;

function all(query: Query, name: string): string[] {
  const value = query[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function last(query: Query, name: string): string | undefined {
  return all(query, name).at(-1);
}

export function parseListQuery(query: unknown, options: ListQueryOptions): ListQuery {
  const q = (query ?? {}) as Query;
  return {
    limit: parseLimit(last(q, 'limit'), options.maxLimit),
    marker: last(q, 'marker'),
    sort: parseSort(q, options),
    filters: Object.fromEntries(
      (options.filters ?? []).flatMap((name) => {
        const values = all(q, name);
        if (values.length === 0) return [];
        return [[name, values.length === 1 ? (values[0] as string) : values]];
      }),
    ),
  };
}

function parseLimit(raw: string | undefined, maxLimit: number): number {
  if (raw === undefined) return maxLimit;
  if (!/^\d+$/.test(raw)) {
    throw new BadRequest(`Invalid value for limit: '${raw}'. It must be a non-negative integer.`);
  }
  return Math.min(Number(raw), maxLimit);
}

function parseSort(q: Query, options: ListQueryOptions): SortSpec[] {
  const keys = all(q, 'sort_key');
  const dirs = all(q, 'sort_dir');
  const glance = all(q, 'sort');
  if (glance.length > 0 && (keys.length > 0 || dirs.length > 0)) {
    throw new BadRequest("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.");
  }
  if (dirs.length > keys.length) {
    throw new BadRequest('There are more sort_dir values than sort_key values.');
  }
  const pairs: [string, string | undefined][] =
    glance.length > 0
      ? glance
          .flatMap((s) => s.split(','))
          .map((s) => {
            const [key = '', dir] = s.trim().split(':');
            return [key, dir];
          })
      : keys.map((key, i) => [key, dirs[i]]);
  if (pairs.length === 0) return [...options.defaultSort];
  return pairs.map(([key, dir]) => {
    if (!options.sortKeys.includes(key)) {
      throw new BadRequest(
        `Invalid sort key: '${key}'. Valid keys are: ${options.sortKeys.join(', ')}.`,
      );
    }
    const d = dir ?? options.defaultDir ?? 'asc';
    if (d !== 'asc' && d !== 'desc') {
      throw new BadRequest(`Invalid sort direction: '${d}'. It must be 'asc' or 'desc'.`);
    }
    return { key, dir: d };
  });
}

export interface PaginationOptions {
  items: readonly Record<string, unknown>[];
  limit: number;
  /** The property of an item that markers name (default `id`). */
  idKey?: string;
  rel?: string;
}

/**
 * The `next` link of a full page: the request's own URL with every other query
 * parameter kept and the marker moved to the last item. A short page is the last one,
 * so it gets no link.
 */
export function paginationLinks(request: FastifyRequest, options: PaginationOptions): Link[] {
  const lastItem = options.items.at(-1);
  if (options.limit <= 0 || options.items.length < options.limit || !lastItem) return [];
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1));
  params.delete('marker');
  params.append('marker', String(lastItem[options.idKey ?? 'id']));
  return [{ rel: options.rel ?? 'next', href: `${request.baseUrl}${path}?${params}` }];
}
