/**
 * The file store streams: a 256 MiB upload and download through it keeps the
 * process's resident memory within 64 MiB of where it started.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { it } from 'node:test';
import { uuid } from '@stratus/common';
import { tempDir } from '@stratus/testkit';
import { generatedSource } from './conformance.js';
import { FileStore } from './file.js';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const BUDGET = 64 * MiB;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it(
  'streams 256 MiB in and out of the file store within 64 MiB of RSS',
  { timeout: 120_000 },
  async (t) => {
    const store = new FileStore({ type: 'file', dir: tempDir((fn) => t.after(fn)) });

    gc();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const timer = setInterval(sample, 10);
    t.after(() => clearInterval(timer));

    const result = await store.add(uuid(), generatedSource(TOTAL), {
      sizeCap: TOTAL,
      expectedSize: TOTAL,
    });
    sample();
    assert.equal(result.size, TOTAL);
    const afterAdd = peak;

    const md5 = createHash('md5');
    let read = 0;
    for await (const chunk of await store.get(result.location)) {
      md5.update(chunk as Buffer);
      read += (chunk as Buffer).length;
      sample();
    }
    clearInterval(timer);
    assert.equal(read, TOTAL);
    assert.equal(md5.digest('hex'), result.md5);
    const final = peak;

    // What the data hashes to, from a second run of the same generator (after measuring).
    const expected = createHash('md5');
    for await (const chunk of generatedSource(TOTAL)) expected.update(chunk as Buffer);
    assert.equal(result.md5, expected.digest('hex'));

    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    t.diagnostic(
      `rss baseline ${mib(baseline)}, growth after add ${mib(afterAdd - baseline)}, peak ${mib(final - baseline)}`,
    );
    assert.ok(
      afterAdd - baseline < BUDGET,
      `add grew RSS by ${mib(afterAdd - baseline)} (limit ${mib(BUDGET)})`,
    );
    assert.ok(
      final - baseline < BUDGET,
      `get grew RSS by ${mib(final - baseline)} (limit ${mib(BUDGET)})`,
    );
  },
);
