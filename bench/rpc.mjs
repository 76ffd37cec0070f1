#!/usr/bin/env node
// RPC throughput of @stratus/bus on the in-process bus and on RabbitMQ: call round trips
// per second, one at a time and with 16 in flight, and casts per second counted until
// the server has handled them. Server and client are two transports of one process.
// Each case runs for a fixed time; RabbitMQ cases are left out when no broker answers.
//   node bench/rpc.mjs            (after `npx tsc -b packages/bus`)
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { amqpExchanges, createTransport, defineRpcApi, rpcClient, rpcServer } from '@stratus/bus';
import { testSetting } from '@stratus/config';

const CASE_MS = 2000;
const WARMUP_CALLS = 200;
const IN_FLIGHT = 16;
const AMQP_URL = testSetting('AMQP_URL') ?? 'amqp://guest:guest@127.0.0.1:5672/';

const api = defineRpcApi({
  topic: 'bench.rpc',
  version: '1.0',
  methods: { echo: { since: '1.0' }, record: { since: '1.0' } },
});

/** Runs `op` in `width` loops until the time is up; returns operations per second. */
async function rate(width, op) {
  let done = 0;
  const start = performance.now();
  const end = start + CASE_MS;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (performance.now() < end) {
        await op(done);
        done++;
      }
    }),
  );
  return { done, seconds: (performance.now() - start) / 1000 };
}

async function measure(kind, options) {
  const exchange = `stratus-bench-${randomUUID().slice(0, 8)}`;
  const server = createTransport({ ...options, exchange });
  const client = createTransport({ ...options, exchange });
  let handled = 0;
  try {
    const impl = {
      echo: async (args) => args,
      record: async () => void handled++,
    };
    await rpcServer(server, api, impl, { host: 'bench' });
    const rpc = rpcClient(client, api, { timeoutMs: 10_000 });
    for (let i = 0; i < WARMUP_CALLS; i++) await rpc.call('echo', { i });

    const row = (name, value, unit) => ({ benchmark: 'rpc', case: `${kind} ${name}`, value, unit });
    const sequential = await rate(1, (i) => rpc.call('echo', { i }));
    const parallel = await rate(IN_FLIGHT, (i) => rpc.call('echo', { i }));
    handled = 0;
    const casts = await rate(IN_FLIGHT, (i) => rpc.cast('record', { i }));
    // A cast counts once the server handled it, not when the bus took it.
    const start = performance.now() - casts.seconds * 1000;
    while (handled < casts.done) await new Promise((resolve) => setTimeout(resolve, 1));
    const castSeconds = (performance.now() - start) / 1000;
    return [
      row('call, sequential', sequential.done / sequential.seconds, 'calls/s'),
      row(`call, ${IN_FLIGHT} in flight`, parallel.done / parallel.seconds, 'calls/s'),
      row(`cast, ${IN_FLIGHT} in flight`, casts.done / castSeconds, 'casts/s'),
    ];
  } finally {
    await Promise.all([server.close(), client.close()]);
    if (kind === 'amqp') await deleteDeclared(exchange, [server, client]);
  }
}

/** The benchmark's queues and exchanges are its own: remove them from the broker. */
async function deleteDeclared(exchange, transports) {
  const connection = await amqplib.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const t of transports) for (const q of t.durableQueues) await channel.deleteQueue(q);
    for (const name of Object.values(amqpExchanges(exchange))) await channel.deleteExchange(name);
  } finally {
    await connection.close();
  }
}

async function brokerAnswers() {
  try {
    await (await amqplib.connect(AMQP_URL, { timeout: 3000 })).close();
    return true;
  } catch (err) {
    process.stderr.write(`bench rpc: no RabbitMQ at ${AMQP_URL} (${err.message}); amqp skipped\n`);
    return false;
  }
}

export default async function run() {
  const rows = await measure('memory', { transport: 'memory' });
  if (await brokerAnswers())
    rows.push(...(await measure('amqp', { transport: 'amqp', url: AMQP_URL })));
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await run());
}
