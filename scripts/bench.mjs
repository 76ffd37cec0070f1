#!/usr/bin/env node
// Runs the benchmarks in bench/ (or the ones named on the command line) and prints one
// table. Each bench module's default export returns rows
// { benchmark, case, value, unit, ratio? }; ratios compare cases measured in the same run.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('../bench/', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
const rows = [];
for (const file of files) {
  const mod = await import(pathToFileURL(join(dir, file)).href);
  process.stderr.write(`bench: ${file}\n`);
  rows.push(...(await mod.default()));
}
console.table(
  rows.map((r) => ({
    benchmark: r.benchmark,
    case: r.case,
    value: Number(r.value.toFixed(r.value < 10 ? 2 : 0)),
    unit: r.unit,
    ...(r.ratio !== undefined ? { ratio: Number(r.ratio.toFixed(2)) } : {}),
  })),
);
