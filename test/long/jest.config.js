// @ts-check
// `npm run test:long`: the long fault and load runs listed in `runs.js`, outside `npm test`, on
// the integration suite's stack.

const runs = require('./runs');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  // As in the root config: an open handle must not hold the run past its end.
  forceExit: true,
  displayName: 'long',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testMatch: runs.map((path) => `<rootDir>/${path}`),
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
};
