import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeScheduler, busBehaviour, schedulerApi, testBus, waitFor } from './behaviour-suite.js';
import type { BusUnderTest } from './behaviour-suite.js';
import { MessagingTimeout } from './errors.js';
import { rpcClient, rpcServer } from './rpc.js';
import { createTransport } from './transport.js';

const memory: BusUnderTest = {
  skip: false,
  open: ({ exchange, logger }) => createTransport({ transport: 'memory', exchange, logger }),
  // The in-process broker goes away with the last transport of its exchange.
  cleanup: async () => undefined,
};

busBehaviour('memory', memory);

describe('memory transport', () => {
  it('delivers asynchronously, never inside the sender’s call', async (t) => {
    const bus = testBus(t, memory);
    const impl = new FakeScheduler('host1');
    await rpcServer(bus.open(), schedulerApi, impl, { host: 'host1' });
    const sent = rpcClient(bus.open(), schedulerApi).cast('record', { n: 1 });
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(impl.records, [], 'the handler ran within the sender’s turn');
    await sent;
    await waitFor('the cast arrived', () => impl.records.length === 1);
  });

  it('keeps exchanges apart', async (t) => {
    const one = testBus(t, memory);
    const two = testBus(t, memory);
    const impl = new FakeScheduler('host1');
    await rpcServer(one.open(), schedulerApi, impl, { host: 'host1' });
    const client = rpcClient(two.open(), schedulerApi, { timeoutMs: 100 });
    await assert.rejects(client.call('ping', {}), MessagingTimeout);
  });
});
