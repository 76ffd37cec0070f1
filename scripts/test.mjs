#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js of every workspace) and every plain-JS
// *.test.mjs (tests/) with node's test runner. Arguments narrow the run to paths
// containing any of them:
//   node scripts/test.mjs bus db
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['packages', 'services', 'apps', 'tests'];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    // Compiled TypeScript tests live in dist/; plain-JS tests (tests/) end in .test.mjs.
    else if (name.endsWith('.test.js') && path.split('/').includes('dist')) out.push(path);
    else if (name.endsWith('.test.mjs')) out.push(path);
  }
}

const files = [];
for (const r of roots) walk(join(root, r), files);
const filters = process.argv.slice(2);
const chosen = files
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (chosen.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...chosen],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
