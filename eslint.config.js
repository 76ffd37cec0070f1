// Lint enforces the layering rules of ARCHITECTURE.md; formatting is Prettier's job.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const deepImport = {
  group: [
    '@stratus/*/src/*',
    '@stratus/*/dist/*',
    '**/packages/*/src/*',
    '**/services/*/src/*',
    '**/apps/*/src/*',
  ],
  message: 'Import a package by its name (@stratus/x), never its src/ or dist/ files.',
};
const crossPackageRelative = {
  group: ['../../*/src/*', '../../../*/src/*', '../../../../*/src/*'],
  message: 'Relative imports may not cross a package boundary; use the package name.',
};
const databaseModules = ['@stratus/db', 'kysely', 'better-sqlite3', 'pg', 'mysql2'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.tsbuildinfo'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { patterns: [deepImport, crossPackageRelative] }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only packages/config reads process.env; take the value from config.',
        },
      ],
    },
  },
  {
    files: ['packages/config/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Drivers see only their interface and @stratus/common; agents reach the database
    // only through their service's conductor over RPC.
    files: ['services/*/src/drivers/**', 'services/*/src/agent/**', 'services/*/src/*-agent/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: databaseModules.map((name) => ({
            name,
            message: 'Drivers and agents have no database access.',
          })),
          patterns: [deepImport, crossPackageRelative],
        },
      ],
    },
  },
  {
    // Shared libraries never depend on a service.
    files: ['packages/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deepImport,
            crossPackageRelative,
            {
              group: [
                '@stratus/identity',
                '@stratus/compute',
                '@stratus/image',
                '@stratus/network',
                '@stratus/placement',
                '@stratus/block-storage',
                '@stratus/object-store',
              ],
              message: 'packages/ may not import a service.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/common/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@stratus/*'], message: '@stratus/common imports nothing of ours.' },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**', 'bench/**', '.ci/**', '*.js', '*.mjs'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
