import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench-results/', '.state/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object instead of an enum' },
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports' },
      ],
    },
  },
  {
    // Tools load their configuration and jest its global setup through a default export.
    files: ['**/*.config.js', '*.config.mjs', 'test/support/global-*.ts', 'test/faults/global-*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // jest reads plain CommonJS configs; they share the list of long runs.
    files: ['**/*.config.js', 'test/long/runs.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
