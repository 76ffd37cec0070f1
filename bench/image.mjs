#!/usr/bin/env node
// Image data throughput and memory against a real `stratus up` (a child process on a
// temporary data directory): a file of BENCH_IMAGE_MB MiB of random bytes is uploaded
// with a streaming PUT /v2/images/{id}/file (Content-Length set) and downloaded with a
// streaming GET into a file (fsynced), both compared with copying the same file on the
// same disk (the data directory, which holds images/, is in the same temporary
// directory). The baseline is a streaming read→write copy (createReadStream →
// createWriteStream, 64 KiB chunks, fsync); fs.copyFile (copy_file_range / reflink, no
// user-space copy) is shown beside it, and so is the streaming copy hashing every chunk
// with md5 and sha512 on its way, which is what an upload must do too (Glance's checksum
// and os_hash_value): the most an upload can reach on this machine with the hashes on
// one thread. The source is read once beforehand, to have it in the page cache.
//
// The copies, the upload and the download run BENCH_ROUNDS times, interleaved, and the
// median is reported: on a virtual machine, writing into page-cache memory or disk
// blocks not used lately can be several times slower than rewriting ones just freed
// (first touch of guest memory), so a single pass mostly measures which transfer came
// first. Each round removes what it wrote (the image through DELETE /v2/images/{id}).
//
// The stratus process's RSS (VmRSS from /proc/<pid>/status) is sampled every 100 ms
// during each transfer: image data is streamed, so the peaks should stay flat, not
// grow with the image. Its CPU time per transfer is shown too (the upload hashes every
// byte twice, md5 and sha512, as Glance does). The image's size and os_hash_value are
// checked against the source, and the download's size and sha512 against the image: a
// mismatch fails the run. Per-round figures go to stderr. Linux only (/proc).
//   node bench/image.mjs          (after `npm run build`)
//   BENCH_IMAGE_MB=256 BENCH_ROUNDS=1 node bench/image.mjs
// Knobs: BENCH_IMAGE_MB (default 2048), BENCH_ROUNDS (default 3), BENCH_TMPDIR (parent
// of the temporary directory, default os.tmpdir()), BENCH_RSS_INTERVAL_MS (default 100).
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, open, stat, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { cloudReady, spawnCloud, stopCloud } from './lib/cloud.mjs';

const MIB = 1024 * 1024;
const IMAGE_MB = Number(process.env.BENCH_IMAGE_MB ?? 2048);
const PARENT = process.env.BENCH_TMPDIR ?? tmpdir();
const RSS_INTERVAL_MS = Number(process.env.BENCH_RSS_INTERVAL_MS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PORT_OFFSET = 48000;
const identity = `http://127.0.0.1:${5000 + PORT_OFFSET}`;
const image = `http://127.0.0.1:${9292 + PORT_OFFSET}`;

async function json(method, url, { token, body } = {}) {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { 'x-auth-token': token } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

async function adminToken(dir) {
  const auth = YAML.parse(readFileSync(join(dir, 'clouds.yaml'), 'utf8')).clouds.stratus.auth;
  const res = await json('POST', `${identity}/v3/auth/tokens`, {
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: auth.username, domain: { name: 'Default' }, password: auth.password },
          },
        },
        scope: { project: { name: auth.project_name, domain: { name: 'Default' } } },
      },
    },
  });
  return res.headers.get('x-subject-token');
}

/** VmRSS of `pid`, in bytes. */
function rssOf(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** CPU seconds (user + system) `pid` has used so far (Linux clock ticks are 1/100 s). */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples the RSS of `pid` every RSS_INTERVAL_MS until stopped; returns the peak seen. */
function sampleRss(pid) {
  let peak = rssOf(pid);
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
      samples++;
    } catch {
      // the process is gone: the request fails on its own
    }
  }, RSS_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, rssOf(pid));
    return { peak, samples: samples + 1 };
  };
}

async function fsyncFile(path) {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` of random (incompressible) data to `path`, fsynced. */
async function makeRandomFile(path, bytes) {
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(4 * MIB);
    for (let done = 0; done < bytes;) {
      const n = Math.min(chunk.length, bytes - done);
      randomFillSync(chunk, 0, n);
      await handle.write(chunk, 0, n);
      done += n;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function hashesOf(path) {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  for await (const chunk of createReadStream(path, { highWaterMark: MIB })) {
    md5.update(chunk);
    sha512.update(chunk);
  }
  return { md5: md5.digest('hex'), sha512: sha512.digest('hex') };
}

/** The streaming copy, hashing every chunk with md5 and sha512 on its way (as an upload must). */
async function hashingCopy(from, to) {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  await pipeline(
    createReadStream(from),
    async function* (chunks) {
      for await (const chunk of chunks) {
        md5.update(chunk);
        sha512.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(to),
  );
  await fsyncFile(to);
  return { md5: md5.digest('hex'), sha512: sha512.digest('hex') };
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}

/** PUTs the file at `path` as the image's data, streamed, with its Content-Length. */
async function upload(id, path, size, token) {
  const req = request(`${image}/v2/images/${id}/file`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'x-auth-token': token,
    },
  });
  const response = once(req, 'response');
  await pipeline(createReadStream(path), req);
  const [res] = await response;
  let text = '';
  for await (const d of res) text += d;
  if (res.statusCode !== 204) throw new Error(`upload: ${res.statusCode} ${text}`);
}

/** GETs the image's data into the file at `path`, streamed, and fsyncs it. */
async function download(id, path, token) {
  const req = request(`${image}/v2/images/${id}/file`, {
    method: 'GET',
    headers: { 'x-auth-token': token },
  });
  req.end();
  const [res] = await once(req, 'response');
  if (res.statusCode !== 200) {
    let text = '';
    for await (const d of res) text += d;
    throw new Error(`download: ${res.statusCode} ${text}`);
  }
  await pipeline(res, createWriteStream(path));
  await fsyncFile(path);
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * One round: both copies, then an upload into a new image and its download, each
 * checked; then everything the round wrote is removed again, so every round (and every
 * transfer in it) writes into blocks of the same kind (see the header).
 */
async function round({ dir, dataDir, source, bytes, sourceHashes, pid, token }) {
  const copied = join(dir, 'copy.img');
  const streamed = join(dir, 'stream.img');
  const hashed = join(dir, 'hashed.img');
  const downloaded = join(dir, 'download.img');
  const copyFileTime = await timed(async () => {
    await copyFile(source, copied);
    await fsyncFile(copied);
  });
  const copyTime = await timed(async () => {
    await pipeline(createReadStream(source), createWriteStream(streamed));
    await fsyncFile(streamed);
  });
  const hashingCopyTime = await timed(() => hashingCopy(source, hashed));

  const created = await (
    await json('POST', `${image}/v2/images`, {
      token,
      body: { name: 'bench', disk_format: 'raw', container_format: 'bare' },
    })
  ).json();
  let cpu = cpuOf(pid);
  let stop = sampleRss(pid);
  const uploadTime = await timed(() => upload(created.id, source, bytes, token));
  const rssUpload = stop();
  const cpuUpload = cpuOf(pid) - cpu;

  cpu = cpuOf(pid);
  stop = sampleRss(pid);
  const downloadTime = await timed(() => download(created.id, downloaded, token));
  const rssDownload = stop();
  const cpuDownload = cpuOf(pid) - cpu;

  const stored = await (await json('GET', `${image}/v2/images/${created.id}`, { token })).json();
  const storedPath = join(dataDir, 'images', 'file', created.id);
  const sameDisk = (await stat(storedPath)).dev === (await stat(source)).dev;
  const downloadedSize = (await stat(downloaded)).size;
  const downloadedSha512 = (await hashesOf(downloaded)).sha512;
  const problems = [];
  if (hashingCopyTime.result.sha512 !== sourceHashes.sha512)
    problems.push('the hashing copy computed a wrong sha512');
  if (stored.status !== 'active') problems.push(`image status ${stored.status}, not active`);
  if (stored.size !== bytes) problems.push(`image size ${stored.size}, uploaded ${bytes}`);
  if (stored.os_hash_algo !== 'sha512' || stored.os_hash_value !== sourceHashes.sha512)
    problems.push(`image os_hash_value ${stored.os_hash_value} is not the source's sha512`);
  if (stored.checksum !== sourceHashes.md5)
    problems.push(`image checksum ${stored.checksum} is not the source's md5`);
  if (downloadedSize !== stored.size)
    problems.push(`downloaded ${downloadedSize} bytes, the image has ${stored.size}`);
  if (downloadedSha512 !== stored.os_hash_value)
    problems.push(`downloaded sha512 ${downloadedSha512} is not os_hash_value`);
  if (!sameDisk) problems.push(`the image store is not on the temporary directory's disk`);
  if (problems.length > 0) throw new Error(`image bench: ${problems.join('; ')}`);

  await json('DELETE', `${image}/v2/images/${created.id}`, { token });
  for (const path of [copied, streamed, hashed, downloaded]) await unlink(path);
  const rate = (t) => IMAGE_MB / t.seconds;
  return {
    copyFile: rate(copyFileTime),
    copy: rate(copyTime),
    hashingCopy: rate(hashingCopyTime),
    upload: rate(uploadTime),
    download: rate(downloadTime),
    cpuUpload,
    cpuDownload,
    rssUpload,
    rssDownload,
  };
}

export default async function run() {
  if (!Number.isSafeInteger(IMAGE_MB) || IMAGE_MB < 1)
    throw new Error(`BENCH_IMAGE_MB must be a positive integer, not ${IMAGE_MB}`);
  if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1)
    throw new Error(`BENCH_ROUNDS must be a positive integer, not ${ROUNDS}`);
  const bytes = IMAGE_MB * MIB;
  const dir = mkdtempSync(join(PARENT, 'stratus-bench-image-'));
  const dataDir = join(dir, 'data');
  let cloud;
  // Ctrl-C or a kill still stops the child and removes the gigabytes in dir (once the
  // child is gone: it writes there), then ends this process as the signal would have.
  const onSignal = async (signal) => {
    if (cloud) await stopCloud(cloud, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const source = join(dir, 'source.img');
    process.stderr.write(`image bench: writing ${IMAGE_MB} MiB of random data to ${source}\n`);
    await makeRandomFile(source, bytes);
    const sourceHashes = await hashesOf(source); // also puts it in the page cache

    cloud = spawnCloud(dataDir, PORT_OFFSET);
    await cloudReady(cloud);
    const token = await adminToken(dataDir);
    const pid = cloud.pid;
    const rssBefore = rssOf(pid);
    const rounds = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await round({ dir, dataDir, source, bytes, sourceHashes, pid, token });
      rounds.push(r);
      const f = (n) => n.toFixed(0);
      process.stderr.write(
        `image bench: round ${i}/${ROUNDS}: MiB/s copyFile ${f(r.copyFile)}, copy ${f(r.copy)}, ` +
          `copy+md5+sha512 ${f(r.hashingCopy)}, ` +
          `upload ${f(r.upload)}, download ${f(r.download)}; stratus CPU s upload ` +
          `${r.cpuUpload.toFixed(1)}, download ${r.cpuDownload.toFixed(1)}; peak RSS MiB ` +
          `upload ${f(r.rssUpload.peak / MIB)}, download ${f(r.rssDownload.peak / MIB)}\n`,
      );
    }
    const rssAfter = rssOf(pid);

    const med = (key) => median(rounds.map((r) => r[key]));
    const peak = (key) => Math.max(...rounds.map((r) => r[key].peak));
    const samples = (key) => rounds.reduce((n, r) => n + r[key].samples, 0);
    const copyRate = med('copy');
    const of = `${IMAGE_MB} MiB, median of ${ROUNDS}`;
    const row = (name, value, unit, ratio) => ({
      benchmark: 'image',
      case: name,
      value,
      unit,
      ...(ratio !== undefined ? { ratio } : {}),
    });
    return [
      row(`copy (stream, fsync) ${of}`, copyRate, 'MiB/s', 1),
      row(`copy (fs.copyFile, fsync) ${of}`, med('copyFile'), 'MiB/s', med('copyFile') / copyRate),
      row(
        `copy+md5+sha512 (stream, fsync) ${of}`,
        med('hashingCopy'),
        'MiB/s',
        med('hashingCopy') / copyRate,
      ),
      row(`upload (PUT …/file) ${of}`, med('upload'), 'MiB/s', med('upload') / copyRate),
      row(`download (GET …/file) ${of}`, med('download'), 'MiB/s', med('download') / copyRate),
      row(`stratus CPU per upload (median)`, med('cpuUpload'), 's'),
      row(`stratus CPU per download (median)`, med('cpuDownload'), 's'),
      row('stratus RSS before the first upload', rssBefore / MIB, 'MiB'),
      row(
        `stratus RSS peak during uploads (${samples('rssUpload')} samples)`,
        peak('rssUpload') / MIB,
        'MiB',
      ),
      row(
        `stratus RSS peak during downloads (${samples('rssDownload')} samples)`,
        peak('rssDownload') / MIB,
        'MiB',
      ),
      row('stratus RSS after the last download', rssAfter / MIB, 'MiB'),
    ];
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (cloud) await stopCloud(cloud);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(
    (await run()).map(({ benchmark: _benchmark, value, ratio, ...r }) => ({
      ...r,
      value: Number(value.toFixed(1)),
      ...(ratio !== undefined ? { ratio: Number(ratio.toFixed(2)) } : {}),
    })),
  );
}
