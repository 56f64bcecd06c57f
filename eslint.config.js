// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.temporal/', '.netcheck/', 'bench/results/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain-JavaScript helpers run by node alone (the Docker image's scripts/image-dependencies.mjs):
    // outside the TypeScript project, so no type-aware rules; Node's globals.
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { console: 'readonly', process: 'readonly' },
    },
  },
  {
    // Workflow code is replayed: it must stay deterministic and free of I/O.
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not use Node built-ins.' })),
            { name: 'undici', message: 'Workflow code must not do I/O: call an activity.' },
            { name: 'jose', message: 'Workflow code must not touch credentials: do it in an activity.' },
            { name: '@temporalio/activity', message: 'Activities are not importable from workflow code.' },
          ],
          patterns: [
            {
              group: [
                '../activities/*',
                '../worker/*',
                '../client/*',
                '../common/*',
                '../simulator/*',
                '../testing/*',
              ],
              allowTypeImports: true,
              message: 'Workflows may only import types from here.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'fetch', message: 'Workflow code must not do I/O.' },
        { name: 'process', message: 'Workflow code has no process.' },
      ],
    },
  },
  {
    // The client API stays light: importing it never loads the worker and its native bridge
    // (test/package/boundaries.test.ts checks the same at run time).
    files: ['client/**/*.ts', 'common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@temporalio/worker',
              allowTypeImports: true,
              message: 'The client must not load the worker: move what both need to common/.',
            },
          ],
          patterns: [
            {
              group: ['../worker/*', '../cli/*', '../testing/*'],
              allowTypeImports: true,
              message: 'The client must not load the worker or the CLI: move what both need to common/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI enters the worker and the simulator through their index modules, and never scripts/.
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/worker/*',
                '!**/worker/index.js',
                '**/simulator/*',
                '!**/simulator/index.js',
                '**/scripts/*',
              ],
              message:
                'Import the worker and the simulator from their index.js; scripts/ is not part of the package.',
            },
          ],
        },
      ],
    },
  },
);
