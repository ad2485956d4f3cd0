// Lint, and the floor plan of docs/architecture.md:
// - imports point down the floors, and the parties meet only in protocol/ (floors.config.js,
//   whose rule `floors/no-upward-import` checks every relative import of the sources);
// - runtime/ never imports electron or renderer code; renderer/ imports only the contract, the
//   schemas and the pure client from runtime/, never node-only modules; only main/ and preload/
//   import electron.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { floorsPlugin } from './floors.config.js';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'stream', 'worker_threads', 'url', 'util', 'events'];

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-results/**', 'resources/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-object-type': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['{runtime,protocol,buyer,market,main,preload}/**/*.ts', 'renderer/src/**/*.{ts,tsx}'],
    plugins: { floors: floorsPlugin },
    rules: { 'floors/no-upward-import': 'error' },
  },
  {
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'runtime/ never imports electron: it runs headless too (docs/architecture.md).' },
            { group: ['**/renderer/**', '**/main/**', '**/preload/**', 'react', 'react-dom', 'zustand'], message: 'runtime/ never imports UI or Electron-side code (docs/architecture.md).' },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.filter((n) => !n.includes('*')).map((name) => ({ name, message: 'renderer/ runs in a browser: no node-only modules.' })),
          patterns: [
            { group: ['node:*'], message: 'renderer/ runs in a browser: no node-only modules.' },
            { group: ['electron', 'electron/*'], message: 'Only main/ and preload/ import electron.' },
            { group: ['**/main/**', '**/preload/**'], message: 'renderer/ talks to the agent only through the typed API.' },
            {
              // A regex, not a gitignore group: a group cannot re-include files under an excluded folder.
              regex: '(^|/)runtime/(?!(api/(contract|client|bridge|transports/socket-client)|[^/]+/schema)(\\.[jt]s)?$)',
              message: 'renderer/ may import only the API contract, its schemas and the pure client from runtime/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.{ts,tsx}', 'bin/**/*.js', '*.config.{js,ts}'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
