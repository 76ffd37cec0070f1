#!/usr/bin/env node
// Identity throughput and latency against a real `stratus up` (a child process on a
// temporary data directory), measured with autocannon at concurrency 1, 4 and 16:
// token issue by password (bcrypt at Keystone's default cost 12 dominates, by design),
// token issue by rescoping an existing token (no password hash), token validation, and
// user list. Keystone from Debian measured on this machine for reference: password
// issue 7-8 req/s, validation ~115 req/s, user list ~150 req/s.
//   node bench/identity.mjs     (after `npm run build`)
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { cloudReady, spawnCloud, stopCloud } from './lib/cloud.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = [1, 4, 16];
const PORT_OFFSET = 47000;
const base = `http://127.0.0.1:${5000 + PORT_OFFSET}`;

async function issue(body) {
  const res = await fetch(`${base}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`token issue: ${res.status} ${await res.text()}`);
  return res.headers.get('x-subject-token');
}

async function measure(name, concurrency, { path, ...request }) {
  const result = await autocannon({
    url: `${base}${path}`,
    connections: concurrency,
    duration: SECONDS,
    ...request,
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests`);
  return [
    {
      benchmark: 'identity',
      case: `${name} c=${concurrency}`,
      value: result.requests.average,
      unit: 'req/s',
    },
    {
      benchmark: 'identity',
      case: `${name} c=${concurrency} p50`,
      value: result.latency.p50,
      unit: 'ms',
    },
    {
      benchmark: 'identity',
      case: `${name} c=${concurrency} p99`,
      value: result.latency.p99,
      unit: 'ms',
    },
  ];
}

export default async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-identity-'));
  const cloud = spawnCloud(dir, PORT_OFFSET);
  await cloudReady(cloud);
  try {
    const clouds = YAML.parse(readFileSync(join(dir, 'clouds.yaml'), 'utf8')).clouds.stratus.auth;
    const user = { name: clouds.username, domain: { name: 'Default' }, password: clouds.password };
    const project = { project: { name: clouds.project_name, domain: { name: 'Default' } } };
    const passwordBody = JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user } }, scope: project },
    });
    const adminToken = await issue(JSON.parse(passwordBody));
    const unscoped = await issue({
      auth: { identity: { methods: ['password'], password: { user } } },
    });
    const rescopeBody = JSON.stringify({
      auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: project },
    });
    const json = { 'content-type': 'application/json' };
    const rows = [];
    for (const c of CONCURRENCY) {
      rows.push(
        ...(await measure('token issue (password)', c, {
          method: 'POST',
          path: '/v3/auth/tokens',
          headers: json,
          body: passwordBody,
        })),
      );
      rows.push(
        ...(await measure('token issue (rescope)', c, {
          method: 'POST',
          path: '/v3/auth/tokens',
          headers: json,
          body: rescopeBody,
        })),
      );
      rows.push(
        ...(await measure('token validation', c, {
          method: 'GET',
          path: '/v3/auth/tokens',
          headers: { 'x-auth-token': adminToken, 'x-subject-token': adminToken },
        })),
      );
      rows.push(
        ...(await measure('user list', c, {
          method: 'GET',
          path: '/v3/users',
          headers: { 'x-auth-token': adminToken },
        })),
      );
    }
    return rows;
  } finally {
    await stopCloud(cloud);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await run());
}
