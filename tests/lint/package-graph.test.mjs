// TypeScript project references must mirror the package dependencies: then `tsc -b`
// builds in dependency order and refuses a cycle. This keeps the two from drifting.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const workspaces = ['packages', 'services', 'apps'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => join(root, group, name))
    .filter((dir) => existsSync(join(dir, 'package.json'))),
);
const byName = new Map(
  workspaces.map((dir) => [JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, dir]),
);

describe('package graph', () => {
  for (const dir of workspaces) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    it(`${pkg.name}: tsconfig references = @stratus dependencies`, () => {
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
        .filter((d) => d.startsWith('@stratus/'))
        .map((d) => relative(root, byName.get(d)))
        .sort();
      const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'));
      const refs = (tsconfig.references ?? [])
        .map((r) => relative(root, resolve(dir, r.path)))
        .sort();
      assert.deepEqual(refs, deps);
    });
  }

  it('the root tsconfig builds every workspace', () => {
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
    const refs = tsconfig.references.map((r) => relative(root, resolve(root, r.path))).sort();
    assert.deepEqual(refs, workspaces.map((d) => relative(root, d)).sort());
  });

  it('@stratus/common depends on no other workspace', () => {
    const pkg = JSON.parse(
      readFileSync(join(byName.get('@stratus/common'), 'package.json'), 'utf8'),
    );
    assert.deepEqual(
      Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@stratus/')),
      [],
    );
  });
});
