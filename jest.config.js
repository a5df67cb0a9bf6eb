// @ts-check
// A plain JavaScript config: jest would need ts-node to read a TypeScript one.

/**
 * ts-jest transpiles each file on its own (tsconfig's `isolatedModules`), which is quick;
 * `npm run typecheck` is the type check.
 */
const longRuns = require('./test/long/runs');

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
};

/** @type {import('jest').Config} */
module.exports = {
  // A handle a test or a client library leaves open must not hold the run past its end: CI once
  // waited out its whole time limit on "Jest did not exit one second after the test run".
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
        // Confluent's official clients in other languages, against the same stack.
        '<rootDir>/test/interop/**/*.test.ts',
      ],
      // Minutes each: `npm run test:long` runs them (test/long/runs.js).
      testPathIgnorePatterns: ['/node_modules/', ...longRuns.map((path) => `<rootDir>/${path}$`)],
      // The real stack is brought up once for every integration and e2e file.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
};
