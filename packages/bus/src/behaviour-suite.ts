/**
 * The behaviour every transport must show, run by memory.test.ts and amqp.test.ts. Each
 * test gets its own exchange, so its queues and messages never meet another test's;
 * `bus.open()` stands for one more process attached to that bus.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { OverQuota, RemoteError, Timeout, defineError, uuid } from '@stratus/common';
import type { Logger } from '@stratus/common';
import {
  MessagingTimeout,
  RpcVersionCapError,
  TransportClosed,
  UnsupportedRpcMethod,
  UnsupportedVersion,
} from './errors.js';
import { listenNotifications, notifier } from './notifier.js';
import type { Notification } from './transport.js';
import { defineRpcApi, rpcClient, rpcServer } from './rpc.js';
import type { Transport, TransportOptions } from './transport.js';

export interface BusUnderTest {
  /** False, or why the suite cannot run here. */
  skip: string | false;
  open(options: { exchange: string; logger?: Logger }): Transport;
  /** Deletes what the (closed) transports left on the broker. */
  cleanup(exchange: string, transports: readonly Transport[]): Promise<void>;
}

export interface TestBus {
  exchange: string;
  open(options?: Pick<TransportOptions, 'logger'>): Transport;
}

/** A fresh exchange for one test, with every transport closed and cleaned up after it. */
export function testBus(t: TestContext, env: BusUnderTest): TestBus {
  const exchange = `stratus-test-${uuid().slice(0, 8)}`;
  const transports: Transport[] = [];
  t.after(async () => {
    await Promise.all(transports.map((transport) => transport.close()));
    await env.cleanup(exchange, transports);
  });
  return {
    exchange,
    open: (options = {}) => {
      const transport = env.open({ exchange, ...options });
      transports.push(transport);
      return transport;
    },
  };
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

// A scheduler-like API; its definition follows the convention of defineRpcApi.

export interface Spec {
  cpus: number;
}

export interface SchedulerRpc {
  select_destinations(args: { spec: Spec; new_arg?: string }): Promise<{ host: string }[]>;
  ping(args: Record<string, never>): Promise<string>;
  whoami(args: Record<string, never>): Promise<string>;
  record(args: { n: number }): Promise<void>;
  echo(args: { value: { x: number } }): Promise<{ value: { x: number }; at: string }>;
  slow(args: { ms: number }): Promise<string>;
  fail(args: { kind: 'registered' | 'plain' }): Promise<never>;
  rebalance(args: Record<string, never>): Promise<string>;
}

/**
 * API version history:
 *   * 1.0 - Initial version.
 *   * 1.1 - Add fail()
 *   * 1.2 - Add new_arg to select_destinations(), add rebalance()
 */
export const schedulerApi = defineRpcApi<SchedulerRpc>({
  topic: 'compute.scheduler',
  version: '1.2',
  methods: {
    select_destinations: { since: '1.0', args: { new_arg: '1.2' } },
    ping: { since: '1.0' },
    whoami: { since: '1.0' },
    record: { since: '1.0' },
    echo: { since: '1.0' },
    slow: { since: '1.0' },
    fail: { since: '1.1' },
    rebalance: { since: '1.2' },
  },
});

/** The same API as a server not yet upgraded to 1.2 knows it. */
const oldSchedulerApi = defineRpcApi<Omit<SchedulerRpc, 'rebalance'>>({
  topic: 'compute.scheduler',
  version: '1.1',
  methods: {
    select_destinations: { since: '1.0' },
    ping: { since: '1.0' },
    whoami: { since: '1.0' },
    record: { since: '1.0' },
    echo: { since: '1.0' },
    slow: { since: '1.0' },
    fail: { since: '1.1' },
  },
});

/** A client from the future: a 1.3 method, and one the servers never exposed. */
interface NewerSchedulerRpc extends SchedulerRpc {
  future(args: Record<string, never>): Promise<string>;
  internal(args: Record<string, never>): Promise<string>;
}
const newerSchedulerApi = defineRpcApi<NewerSchedulerRpc>({
  ...schedulerApi,
  version: '1.3',
  methods: { ...schedulerApi.methods, future: { since: '1.3' }, internal: { since: '1.0' } },
});

/** After an incompatible change. */
const schedulerApiV2 = defineRpcApi<Pick<SchedulerRpc, 'ping'>>({
  topic: 'compute.scheduler',
  version: '2.0',
  methods: { ping: { since: '2.0' } },
});

const BusTestQuotaExceeded = defineError('BusTestQuotaExceeded', 413, 'Quota exceeded.', {
  parent: OverQuota,
});

export class FakeScheduler implements SchedulerRpc {
  readonly seen: { spec: Spec; new_arg?: string }[] = [];
  readonly records: number[] = [];
  started = 0;
  finished = 0;

  constructor(readonly host: string) {}

  async select_destinations(args: { spec: Spec; new_arg?: string }) {
    this.seen.push(args);
    return [{ host: this.host }];
  }

  async ping() {
    return 'pong';
  }

  async whoami() {
    return this.host;
  }

  async record(args: { n: number }) {
    this.records.push(args.n);
  }

  async echo(args: { value: { x: number } }) {
    args.value.x = 99;
    // A Date does not survive JSON; the caller gets the string, on every transport.
    return { value: args.value, at: new Date(0) as unknown as string };
  }

  async slow(args: { ms: number }) {
    this.started++;
    await sleep(args.ms);
    this.finished++;
    return 'done';
  }

  async fail(args: { kind: 'registered' | 'plain' }): Promise<never> {
    if (args.kind === 'registered') {
      throw new BusTestQuotaExceeded('Quota exceeded for cores: 4 of 2.', { resource: 'cores' });
    }
    throw new TypeError('cannot read properties of undefined');
  }

  async rebalance() {
    return 'rebalanced';
  }

  /** Not part of the API: servers must not let it be called. */
  async internal() {
    return 'leaked';
  }
}

export function busBehaviour(name: string, env: BusUnderTest): void {
  describe(`message bus behaviour on ${name}`, { skip: env.skip, timeout: 60_000 }, () => {
    const serve = async (bus: TestBus, host: string, transport = bus.open()) => {
      const impl = new FakeScheduler(host);
      const server = await rpcServer(transport, schedulerApi, impl, { host });
      return { impl, server, transport };
    };

    it('call returns the result of a server', async (t) => {
      const bus = testBus(t, env);
      const { impl } = await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi);
      const hosts = await client.call('select_destinations', { spec: { cpus: 2 } });
      assert.deepEqual(hosts, [{ host: 'host1' }]);
      assert.deepEqual(impl.seen, [{ spec: { cpus: 2 } }]);
    });

    it('passes arguments and results through JSON', async (t) => {
      const bus = testBus(t, env);
      await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi);
      const value = { x: 1 };
      const reply = await client.call('echo', { value });
      assert.deepEqual(reply, { value: { x: 99 }, at: '1970-01-01T00:00:00.000Z' });
      assert.deepEqual(value, { x: 1 }, 'the server got a copy');
    });

    it('cast delivers to a server', async (t) => {
      const bus = testBus(t, env);
      const { impl } = await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi);
      assert.equal(await client.cast('record', { n: 1 }), undefined);
      await waitFor('the server got the cast', () => impl.records.length === 1);
      assert.deepEqual(impl.records, [1]);
    });

    it('a cast sent before any server started waits for one', async (t) => {
      const bus = testBus(t, env);
      const client = rpcClient(bus.open(), schedulerApi);
      await client.cast('record', { n: 1 });
      await client.prepare({ server: 'host2' }).cast('record', { n: 2 });
      const { impl } = await serve(bus, 'host2');
      await waitFor('both casts arrived', () => impl.records.length === 2);
      assert.deepEqual([...impl.records].sort(), [1, 2]);
    });

    it('fanout reaches every server of the topic once', async (t) => {
      const bus = testBus(t, env);
      const servers = await Promise.all(['host1', 'host2', 'host3'].map((h) => serve(bus, h)));
      const client = rpcClient(bus.open(), schedulerApi);
      await client.fanout('record', { n: 7 });
      await waitFor('every server got it', () => servers.every((s) => s.impl.records.length > 0));
      await sleep(100);
      for (const { impl } of servers) assert.deepEqual(impl.records, [7], impl.host);
    });

    it('servers of a topic compete: each message goes to one of them', async (t) => {
      const bus = testBus(t, env);
      const servers = await Promise.all(['host1', 'host2'].map((h) => serve(bus, h)));
      const client = rpcClient(bus.open(), schedulerApi);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => client.call('whoami', {})),
      );
      const count = (host: string) => answers.filter((a) => a === host).length;
      assert.equal(count('host1') + count('host2'), 20);
      assert.ok(count('host1') > 0 && count('host2') > 0, `both served: ${answers.join(' ')}`);

      await Promise.all(Array.from({ length: 10 }, (_, n) => client.cast('record', { n })));
      const handled = () => servers.flatMap((s) => s.impl.records);
      await waitFor('all casts handled', () => handled().length === 10);
      await sleep(100);
      assert.deepEqual(
        handled().sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
    });

    it('topic.host reaches only that host', async (t) => {
      const bus = testBus(t, env);
      const [, two] = await Promise.all(['host1', 'host2'].map((h) => serve(bus, h)));
      const client = rpcClient(bus.open(), schedulerApi).prepare({ server: 'host2' });
      const answers = await Promise.all(Array.from({ length: 6 }, () => client.call('whoami', {})));
      assert.deepEqual(answers, Array(6).fill('host2'));
      await client.cast('record', { n: 5 });
      await waitFor('host2 got the cast', () => two?.impl.records.length === 1);
    });

    it('call without a reply rejects with MessagingTimeout naming topic, method and timeout', async (t) => {
      const bus = testBus(t, env);
      const client = rpcClient(bus.open(), schedulerApi, { timeoutMs: 200 });
      const start = Date.now();
      await assert.rejects(client.call('ping', {}), (err: Error) => {
        assert.ok(err instanceof MessagingTimeout);
        assert.ok(err instanceof Timeout);
        assert.match(err.message, /ping/);
        assert.match(err.message, /compute\.scheduler/);
        assert.match(err.message, /200 ms/);
        return true;
      });
      assert.ok(Date.now() - start >= 190);
    });

    it('a reply after the timeout is dropped and the client keeps working', async (t) => {
      const bus = testBus(t, env);
      const { impl } = await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi, { timeoutMs: 100 });
      await assert.rejects(client.call('slow', { ms: 300 }), MessagingTimeout);
      await waitFor('the slow call finished', () => impl.finished === 1);
      await sleep(50);
      assert.equal(await client.prepare({ timeoutMs: 5000 }).call('ping', {}), 'pong');
    });

    it('a registered error reaches the caller as the same class', async (t) => {
      const bus = testBus(t, env);
      await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi);
      await assert.rejects(client.call('fail', { kind: 'registered' }), (err: Error) => {
        assert.ok(err instanceof BusTestQuotaExceeded);
        assert.ok(err instanceof OverQuota);
        assert.equal(err.message, 'Quota exceeded for cores: 4 of 2.');
        assert.deepEqual(err.details, { resource: 'cores' });
        assert.equal(err.status, 413);
        return true;
      });
    });

    it('any other error reaches the caller as a RemoteError', async (t) => {
      const bus = testBus(t, env);
      await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi);
      await assert.rejects(client.call('fail', { kind: 'plain' }), (err: Error) => {
        assert.ok(err instanceof RemoteError);
        assert.equal(err.message, 'TypeError: cannot read properties of undefined');
        return true;
      });
    });

    it('a method the server does not expose is UnsupportedRpcMethod', async (t) => {
      const bus = testBus(t, env);
      await serve(bus, 'host1');
      const client = rpcClient(bus.open(), newerSchedulerApi);
      // FakeScheduler has internal(), but it is not part of the API it serves.
      await assert.rejects(client.call('internal', {}), (err: Error) => {
        assert.ok(err instanceof UnsupportedRpcMethod);
        assert.match(err.message, /compute\.scheduler has no RPC method internal/);
        return true;
      });
    });

    it('a capped client drops newer arguments and refuses newer methods', async (t) => {
      const bus = testBus(t, env);
      const { impl } = await serve(bus, 'host1');
      const transport = bus.open();
      const latest = rpcClient(transport, schedulerApi);
      const capped = rpcClient(transport, schedulerApi, { versionCap: '1.1' });

      await latest.call('select_destinations', { spec: { cpus: 1 }, new_arg: 'x' });
      await capped.call('select_destinations', { spec: { cpus: 2 }, new_arg: 'x' });
      assert.deepEqual(impl.seen, [{ spec: { cpus: 1 }, new_arg: 'x' }, { spec: { cpus: 2 } }]);

      assert.equal(capped.canSendVersion('1.1'), true);
      assert.equal(capped.canSendVersion('1.2'), false);
      await assert.rejects(capped.call('rebalance', {}), (err: Error) => {
        assert.ok(err instanceof RpcVersionCapError);
        assert.equal(
          err.message,
          'compute.scheduler.rebalance needs RPC API version 1.2, above the version cap 1.1.',
        );
        return true;
      });
      await assert.rejects(capped.cast('rebalance', {}), RpcVersionCapError);
      assert.equal(await latest.call('rebalance', {}), 'rebalanced');
    });

    it('rolling upgrade: a server at 1.1 refuses 1.2 messages, a client capped at 1.1 works', async (t) => {
      const bus = testBus(t, env);
      const impl = new FakeScheduler('old');
      await rpcServer(bus.open(), oldSchedulerApi, impl, { host: 'old' });
      const transport = bus.open();
      const latest = rpcClient(transport, schedulerApi);
      const capped = latest.prepare({ versionCap: '1.1' });

      // Sent as 1.0: the method is 1.0 and carries no newer argument.
      assert.deepEqual(await latest.call('select_destinations', { spec: { cpus: 1 } }), [
        { host: 'old' },
      ]);
      await assert.rejects(
        latest.call('select_destinations', { spec: { cpus: 1 }, new_arg: 'x' }),
        (err: Error) => {
          assert.ok(err instanceof UnsupportedVersion);
          assert.match(err.message, /speaks RPC API 1\.1 and cannot handle version 1\.2/);
          return true;
        },
      );
      await capped.call('select_destinations', { spec: { cpus: 2 }, new_arg: 'x' });
      assert.deepEqual(impl.seen, [{ spec: { cpus: 1 } }, { spec: { cpus: 2 } }]);
    });

    it('a server refuses a newer minor and another major', async (t) => {
      const bus = testBus(t, env);
      await serve(bus, 'host1');
      const transport = bus.open();
      await assert.rejects(
        rpcClient(transport, newerSchedulerApi).call('future', {}),
        (err: Error) => {
          assert.ok(err instanceof UnsupportedVersion);
          assert.match(err.message, /speaks RPC API 1\.2 and cannot handle version 1\.3/);
          return true;
        },
      );
      await assert.rejects(rpcClient(transport, schedulerApiV2).call('ping', {}), (err: Error) => {
        assert.ok(err instanceof UnsupportedVersion);
        assert.match(err.message, /cannot handle version 2\.0/);
        return true;
      });
    });

    it('notifications: listeners of a pool share them, every pool gets all', async (t) => {
      const bus = testBus(t, env);
      const got: Record<string, Notification[]> = { a1: [], a2: [], b: [], plain: [], other: [] };
      const listen = (who: string, pool: string | undefined, topics = ['notifications']) =>
        listenNotifications(bus.open(), {
          topics,
          pool,
          handler: (n) => void got[who]?.push(n),
        });
      await listen('a1', 'a');
      await listen('a2', 'a');
      await listen('b', 'b');
      await listen('plain', undefined);
      await listen('other', undefined, ['versioned_notifications']);

      const notify = notifier(bus.open(), { publisherId: 'compute.host1' });
      for (let i = 0; i < 4; i++) await notify.info('compute.instance.create.end', { i });
      for (let i = 4; i < 7; i++) await notify.warn('compute.instance.delete.start', { i });
      for (let i = 7; i < 10; i++) await notify.error('compute.instance.create.error', { i });

      const n = (who: string) => got[who]?.length ?? 0;
      await waitFor('every pool got all', () => n('a1') + n('a2') === 10 && n('b') === 10);
      await waitFor('the default pool got all', () => n('plain') === 10);
      await sleep(100);
      assert.equal(n('a1') + n('a2'), 10);
      assert.ok(n('a1') > 0 && n('a2') > 0, `pool a shared them: ${n('a1')} + ${n('a2')}`);
      assert.equal(n('other'), 0);
      const ids = (who: string) => (got[who] ?? []).map((x) => x.message_id).sort();
      assert.deepEqual([...ids('a1'), ...ids('a2')].sort(), ids('b'));

      const first = got['b']?.find((x) => x.event_type === 'compute.instance.create.end');
      assert.ok(first);
      assert.deepEqual(Object.keys(first).sort(), [
        'event_type',
        'message_id',
        'payload',
        'priority',
        'publisher_id',
        'timestamp',
      ]);
      assert.equal(first.publisher_id, 'compute.host1');
      assert.equal(first.priority, 'INFO');
      assert.match(first.message_id, /^[0-9a-f-]{36}$/);
      assert.match(first.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      const priorities = new Set(got['b']?.map((x) => `${x.priority} ${x.event_type}`));
      assert.deepEqual([...priorities].sort(), [
        'ERROR compute.instance.create.error',
        'INFO compute.instance.create.end',
        'WARN compute.instance.delete.start',
      ]);
    });

    it('a stopped server leaves its messages to the next one', async (t) => {
      const bus = testBus(t, env);
      const first = await serve(bus, 'host1');
      await first.server.stop();
      const client = rpcClient(bus.open(), schedulerApi);
      await client.cast('record', { n: 3 });
      const second = await serve(bus, 'host2');
      await waitFor('the next server got it', () => second.impl.records.length === 1);
      assert.deepEqual(first.impl.records, []);
    });

    it('close waits for handlers in flight, then refuses to send', async (t) => {
      const bus = testBus(t, env);
      const { impl, transport } = await serve(bus, 'host1');
      const client = rpcClient(bus.open(), schedulerApi);
      await client.cast('slow', { ms: 200 });
      await waitFor('the handler started', () => impl.started === 1);
      await transport.close();
      assert.equal(impl.finished, 1, 'close returned before the handler finished');
      await assert.rejects(rpcClient(transport, schedulerApi).cast('ping', {}), TransportClosed);
    });

    it('close abandons pending calls with TransportClosed', async (t) => {
      const bus = testBus(t, env);
      await serve(bus, 'host1');
      const transport = bus.open();
      const client = rpcClient(transport, schedulerApi, { timeoutMs: 30_000 });
      const abandoned = assert.rejects(client.call('slow', { ms: 300 }), TransportClosed);
      await sleep(50);
      const start = Date.now();
      await transport.close();
      await abandoned;
      assert.ok(Date.now() - start < 250, 'close did not wait for the reply');
    });
  });
}
