import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequest } from '@stratus/common';
import { paginationLinks, parseListQuery, type ListQueryOptions } from './list.js';
import { createApiServer } from './server.js';

const options: ListQueryOptions = {
  sortKeys: ['name', 'created_at', 'status'],
  defaultSort: [{ key: 'created_at', dir: 'desc' }],
  maxLimit: 1000,
  filters: ['status', 'name'],
};

describe('parseListQuery', () => {
  it('defaults to the max limit, no marker, the default sort and no filters', () => {
    assert.deepEqual(parseListQuery({}, options), {
      limit: 1000,
      marker: undefined,
      sort: [{ key: 'created_at', dir: 'desc' }],
      filters: {},
    });
    assert.equal(parseListQuery(undefined, options).limit, 1000);
  });

  it('takes a non-negative integer limit, capped at the maximum', () => {
    assert.equal(parseListQuery({ limit: '10' }, options).limit, 10);
    assert.equal(parseListQuery({ limit: '0' }, options).limit, 0);
    assert.equal(parseListQuery({ limit: '5000' }, options).limit, 1000);
    for (const bad of ['-1', '1.5', 'ten', '', '1e3']) {
      assert.throws(
        () => parseListQuery({ limit: bad }, options),
        (err: unknown) => err instanceof BadRequest && /limit/.test(err.message),
        bad,
      );
    }
  });

  it('passes the marker through', () => {
    assert.equal(parseListQuery({ marker: 'abc' }, options).marker, 'abc');
  });

  it('pairs repeated sort_key and sort_dir, defaulting missing directions', () => {
    const q = parseListQuery(
      { sort_key: ['name', 'status', 'created_at'], sort_dir: ['desc', 'asc'] },
      options,
    );
    assert.deepEqual(q.sort, [
      { key: 'name', dir: 'desc' },
      { key: 'status', dir: 'asc' },
      { key: 'created_at', dir: 'asc' },
    ]);
    const descByDefault = parseListQuery({ sort_key: 'name' }, { ...options, defaultDir: 'desc' });
    assert.deepEqual(descByDefault.sort, [{ key: 'name', dir: 'desc' }]);
  });

  it("reads Glance's sort=key:dir,key", () => {
    const q = parseListQuery({ sort: 'name:asc,created_at:desc, status' }, options);
    assert.deepEqual(q.sort, [
      { key: 'name', dir: 'asc' },
      { key: 'created_at', dir: 'desc' },
      { key: 'status', dir: 'asc' },
    ]);
  });

  it('rejects an unknown sort key or direction, naming it', () => {
    const cases: [Record<string, string | string[]>, RegExp][] = [
      [{ sort_key: 'password' }, /sort key: 'password'/],
      [{ sort_key: 'name', sort_dir: 'up' }, /sort direction: 'up'/],
      [{ sort: 'name:sideways' }, /sort direction: 'sideways'/],
      [{ sort: 'secret:asc' }, /sort key: 'secret'/],
      [{ sort_key: 'name', sort_dir: ['asc', 'desc'] }, /more sort_dir/],
      [{ sort: 'name', sort_key: 'name' }, /cannot be combined/],
    ];
    for (const [query, message] of cases) {
      assert.throws(
        () => parseListQuery(query, options),
        (err: unknown) => err instanceof BadRequest && message.test(err.message),
        JSON.stringify(query),
      );
    }
  });

  it('keeps only the declared filters, single or repeated', () => {
    const q = parseListQuery(
      { status: 'ACTIVE', name: ['a', 'b'], project_id: 'x', limit: '2' },
      options,
    );
    assert.deepEqual(q.filters, { status: 'ACTIVE', name: ['a', 'b'] });
  });
});

describe('paginationLinks', () => {
  async function listApp() {
    const app = createApiServer({ service: 'compute', errorFormat: 'nova' });
    const all = Array.from({ length: 5 }, (_, i) => ({ uuid: `id-${i}`, name: `vm${i}` }));
    app.get('/v2.1/servers', async (request) => {
      const q = parseListQuery(request.query, options);
      const start = q.marker ? all.findIndex((s) => s.uuid === q.marker) + 1 : 0;
      const items = all.slice(start, start + q.limit);
      return {
        servers: items,
        servers_links: paginationLinks(request, { items, limit: q.limit, idKey: 'uuid' }),
      };
    });
    return app;
  }

  it('links a full page to the next, keeping the other parameters', async () => {
    const app = await listApp();
    const res = await app.inject({
      url: '/v2.1/servers?limit=2&status=ACTIVE&sort_key=name&sort_key=status&marker=id-0',
      headers: { host: 'nova.local:8774' },
    });
    const body = res.json();
    assert.deepEqual(
      body.servers.map((s: { uuid: string }) => s.uuid),
      ['id-1', 'id-2'],
    );
    assert.deepEqual(body.servers_links, [
      {
        rel: 'next',
        href: 'http://nova.local:8774/v2.1/servers?limit=2&status=ACTIVE&sort_key=name&sort_key=status&marker=id-2',
      },
    ]);
  });

  it('follows the links to the end, where a short page has no link', async () => {
    const app = await listApp();
    let url: string | undefined = '/v2.1/servers?limit=2';
    const seen: string[] = [];
    for (let pages = 0; url && pages < 10; pages++) {
      const body: { servers: { uuid: string }[]; servers_links: { href: string }[] } = (
        await app.inject({ url, headers: { host: 'h' } })
      ).json();
      seen.push(...body.servers.map((s) => s.uuid));
      const next: string | undefined = body.servers_links[0]?.href;
      url = next?.replace('http://h', '');
    }
    assert.deepEqual(seen, ['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
  });

  it('gives no link for an empty or zero-limit page', async () => {
    const app = await listApp();
    const zero = (await app.inject({ url: '/v2.1/servers?limit=0' })).json();
    assert.deepEqual(zero.servers_links, []);
    const past = (await app.inject({ url: '/v2.1/servers?marker=id-4' })).json();
    assert.deepEqual(past.servers_links, []);
  });
});
