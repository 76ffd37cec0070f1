import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import type { Logger } from '@stratus/common';
import { testSetting } from '@stratus/config';
import { isRoot, requirement } from '@stratus/testkit';
import { amqpExchanges } from './amqp-driver.js';
import { FakeScheduler, busBehaviour, schedulerApi, testBus, waitFor } from './behaviour-suite.js';
import type { BusUnderTest } from './behaviour-suite.js';
import { MessagingTimeout, TransportClosed } from './errors.js';
import { rpcClient, rpcServer } from './rpc.js';
import { createTransport } from './transport.js';
import type { Transport } from './transport.js';

const url = testSetting('AMQP_URL') ?? 'amqp://guest:guest@127.0.0.1:5672/';
const rabbitmqctl = testSetting('RABBITMQCTL') ?? 'rabbitmqctl';
const run = promisify(execFile);

const skip = await requirement(
  `RabbitMQ at ${url}`,
  async () => (await amqplib.connect(url, { timeout: 3000 })).close(),
  'apt-get install rabbitmq-server, or point STRATUS_TEST_AMQP_URL at a broker',
);

/** Deletes the durable queues and the exchanges a test run declared. */
async function deleteDeclared(exchange: string, transports: readonly Transport[]): Promise<void> {
  const connection = await amqplib.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const transport of transports) {
      for (const queue of transport.durableQueues) await channel.deleteQueue(queue);
    }
    for (const name of Object.values(amqpExchanges(exchange))) await channel.deleteExchange(name);
  } finally {
    await connection.close();
  }
}

const rabbit: BusUnderTest = {
  skip,
  open: ({ exchange, logger }) =>
    createTransport({ transport: 'amqp', url, exchange, logger, reconnectSeconds: 1 }),
  cleanup: deleteDeclared,
};

busBehaviour('amqp', rabbit);

describe('amqp transport after a channel error', { skip, timeout: 60_000 }, () => {
  it('recovers when its exchange is deleted under it', async (t) => {
    const bus = testBus(t, rabbit);
    const impl = new FakeScheduler('host1');
    await rpcServer(bus.open(), schedulerApi, impl, { host: 'host1' });
    const { logger, messages } = recordingLogger();
    const client = rpcClient(bus.open({ logger }), schedulerApi, { timeoutMs: 10_000 });
    assert.equal(await client.call('ping', {}), 'pong');

    // Publishing to a missing exchange makes the broker close the channel (404).
    const connection = await amqplib.connect(url);
    await (await connection.createChannel()).deleteExchange(bus.exchange);
    await connection.close();

    await client.cast('record', { n: 1 });
    assert.ok(messages.includes('message bus channel failed; reconnecting'), messages.join('; '));
    await waitFor('the cast arrived', () => impl.records.includes(1));
    assert.equal(await client.call('ping', {}), 'pong');
  });
});

/** A logger that keeps its messages, to wait for the transport to notice something. */
function recordingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const log = (a: unknown, b?: string) => void messages.push(typeof a === 'string' ? a : `${b}`);
  const logger: Logger = {
    trace: log,
    debug: log,
    info: log,
    warn: log,
    error: log,
    fatal: log,
    child: () => logger,
  };
  return { logger, messages };
}

const restartSkip =
  skip ||
  (await requirement(
    'rabbitmqctl as root, to stop and start the broker',
    async () => {
      if (!isRoot()) return 'not root';
      await run(rabbitmqctl, ['status'], { timeout: 30_000 });
      return true;
    },
    'run the tests as root on the RabbitMQ host, or set STRATUS_TEST_RABBITMQCTL',
  ));

describe('amqp transport across a broker restart', { skip: restartSkip, timeout: 120_000 }, () => {
  it('a cast made while the broker is down is delivered after reconnect', async (t) => {
    const bus = testBus(t, rabbit);
    const impl = new FakeScheduler('host1');
    await rpcServer(bus.open(), schedulerApi, impl, { host: 'host1' });
    const { logger, messages } = recordingLogger();
    const client = rpcClient(bus.open({ logger }), schedulerApi, { timeoutMs: 10_000 });
    assert.equal(await client.call('ping', {}), 'pong');

    let cast: Promise<string> | undefined;
    try {
      await run(rabbitmqctl, ['stop_app'], { timeout: 60_000 });
      await waitFor('the client saw the broker go', () =>
        messages.includes('disconnected from the message bus'),
      );
      cast = client.cast('record', { n: 42 }).then(
        () => 'confirmed',
        (err: unknown) => `failed: ${String(err)}`,
      );
      const early = await Promise.race([cast, sleep(500, 'pending')]);
      assert.equal(early, 'pending', 'no broker, no confirmation');
      await assert.rejects(
        client.prepare({ timeoutMs: 300 }).call('ping', {}),
        MessagingTimeout,
        'a call while the broker is down times out',
      );
      // Closing while disconnected neither hangs nor pretends a buffered cast was sent.
      const doomed = bus.open();
      const lost = assert.rejects(
        rpcClient(doomed, schedulerApi).cast('record', { n: 13 }),
        TransportClosed,
      );
      await doomed.close();
      await lost;
    } finally {
      await run(rabbitmqctl, ['start_app'], { timeout: 60_000 });
    }
    assert.equal(await cast, 'confirmed');
    await waitFor('the server got the cast', () => impl.records.includes(42), 30_000);
    assert.deepEqual(impl.records, [42]);
    assert.equal(await client.call('ping', {}), 'pong', 'a call after reconnect works');
  });
});
