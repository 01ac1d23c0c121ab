// ESLint (flat config): the project's boundaries, and a few rules that catch real mistakes. Formatting is Prettier's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const AWS = { group: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], message: 'the domain is pure: no AWS SDK or CDK' };

export default tseslint.config(
  { ignores: ['node_modules/', 'console/dist/', 'cdk.out/', '.offboard/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `any` stays where a value crosses a boundary untyped (SDK items, parsed JSON); zod checks it at the edges
      '@typescript-eslint/no-explicit-any': 'off',
      // `_name` is unused on purpose; `{ dropped, ...rest }` drops a field
      // a `let` read by a closure before its one assignment (a server's handler set once the server listens)
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // the few plain JavaScript files run on Node
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', globalThis: 'readonly' } },
  },
  {
    // functions/domain: pure rules, citing RULES.md; no AWS, no store, no services, no handlers
    files: ['functions/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            AWS,
            {
              group: ['**/store/*', '**/services/*', '**/handlers/*', '**/handlers/**'],
              message: 'the domain is pure: no store, services or handlers',
            },
          ],
        },
      ],
    },
  },
  {
    // functions/services: the store's intents only, never its internals (keys, clients, raw transactions) or the SDK
    files: ['functions/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*'], message: 'services call the store, which owns the AWS clients' },
            {
              group: ['**/store/keys', '**/store/keys.js', '**/store/clients', '**/store/clients.js'],
              message: "key builders and clients are the store's own",
            },
            {
              group: ['**/store/*'],
              importNames: ['transactWrite', 'batchWrite'],
              message: 'ask the store for an intent, not a raw transaction',
            },
          ],
        },
      ],
    },
  },
);
