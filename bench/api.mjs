#!/usr/bin/env node
// Throughput of a trivial JSON route on a createApiServer app against a bare node:http
// server answering the same bytes: the ratio is what the shared HTTP layer (request
// ids, hooks, error handling, access log) costs per request. Each server runs in a
// child process so autocannon does not share its event loop.
//   node bench/api.mjs            (after `npx tsc -b packages/api-kit`)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BODY = { status: 'ok', service: 'bench' };
const WARMUP_SECONDS = 1;
const SECONDS = 2;
const ROUNDS = 3;
const CONNECTIONS = 50;
// Pipelining keeps the single-threaded load generator from being the bottleneck.
const PIPELINING = 10;
const START_TIMEOUT_MS = 10_000;

const servers = {
  async baseline() {
    const payload = JSON.stringify(BODY);
    return createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    });
  },
  async apiKit() {
    const { createApiServer } = await import('@stratus/api-kit');
    const app = createApiServer({ service: 'bench', errorFormat: 'nova' });
    app.get('/', async () => BODY);
    await app.ready();
    return app.server;
  },
};

/** Child side: start one server on a loopback port and report the port on stdout. */
async function serve(kind) {
  const server = await servers[kind]();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
}

/** Parent side: start a child server and wait until it answers the expected body. */
async function start(kind) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no port`)), START_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${kind} server exited with ${code}`));
      });
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line).port);
      });
    });
    const url = `http://127.0.0.1:${port}/`;
    // A fast wrong answer is no result: check the body before measuring.
    const body = await (await fetch(url)).json();
    if (JSON.stringify(body) !== JSON.stringify(BODY)) throw new Error(`${kind}: wrong body`);
    await load(kind, url, WARMUP_SECONDS);
    return { url, child };
  } catch (err) {
    child.kill();
    throw err;
  }
}

async function load(kind, url, duration) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    duration,
  });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${kind}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  }
  return result.requests.average;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function run() {
  const kinds = ['baseline', 'apiKit'];
  const started = [];
  try {
    for (const kind of kinds) started.push(await start(kind));
    // Rounds alternate between the servers so that drift in the machine's load (other
    // processes, CPU frequency) hits both alike; the median drops the outliers.
    const samples = kinds.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, kind] of kinds.entries()) {
        samples[i].push(await load(kind, started[i].url, SECONDS));
      }
    }
    const [baseline, apiKit] = samples.map(median);
    return [
      { benchmark: 'api', case: 'node:http baseline', value: baseline, unit: 'req/s', ratio: 1 },
      {
        benchmark: 'api',
        case: 'createApiServer',
        value: apiKit,
        unit: 'req/s',
        ratio: apiKit / baseline,
      },
    ];
  } finally {
    for (const { child } of started) child.kill();
  }
}

const direct = process.argv[1] === fileURLToPath(import.meta.url);
if (direct && process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else if (direct) {
  console.table(await run());
}
