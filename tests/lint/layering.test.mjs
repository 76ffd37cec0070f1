// The layering rules of ARCHITECTURE.md are enforced by ESLint (eslint.config.js); these
// tests lint small snippets as if they stood at various places in the tree, so that a
// rule that stops firing is noticed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIds(filePath, code) {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

describe('layering lint rules', () => {
  it('forbids deep imports into another package', async () => {
    const ids = await ruleIds(
      'services/identity/src/x.ts',
      "import { x } from '@stratus/db/src/open.js';\nexport { x };\n",
    );
    assert.deepEqual(ids, ['no-restricted-imports']);
  });

  it('forbids relative imports across packages', async () => {
    const ids = await ruleIds(
      'services/identity/src/x.ts',
      "import { x } from '../../../packages/db/src/open.js';\nexport { x };\n",
    );
    assert.deepEqual(ids, ['no-restricted-imports']);
  });

  it('forbids process.env outside packages/config', async () => {
    assert.deepEqual(
      await ruleIds('packages/db/src/x.ts', 'export const u = process.env.HOME;\n'),
      ['no-restricted-properties'],
    );
    assert.deepEqual(
      await ruleIds('packages/config/src/x.ts', 'export const u = process.env.HOME;\n'),
      [],
    );
  });

  it('forbids database access from drivers and agents', async () => {
    for (const where of [
      'services/compute/src/drivers/qemu/driver.ts',
      'services/compute/src/agent/manager.ts',
    ]) {
      for (const mod of ['@stratus/db', 'kysely', 'better-sqlite3', 'pg', 'mysql2']) {
        const ids = await ruleIds(where, `import * as m from '${mod}';\nexport { m };\n`);
        assert.deepEqual(ids, ['no-restricted-imports'], `${mod} in ${where}`);
      }
    }
    assert.deepEqual(
      await ruleIds(
        'services/compute/src/conductor/manager.ts',
        "import * as m from '@stratus/db';\nexport { m };\n",
      ),
      [],
    );
  });

  it('keeps services out of shared packages and everything out of common', async () => {
    assert.deepEqual(
      await ruleIds(
        'packages/api-kit/src/x.ts',
        "import * as m from '@stratus/identity';\nexport { m };\n",
      ),
      ['no-restricted-imports'],
    );
    assert.deepEqual(
      await ruleIds(
        'packages/common/src/x.ts',
        "import * as m from '@stratus/config';\nexport { m };\n",
      ),
      ['no-restricted-imports'],
    );
  });
});
