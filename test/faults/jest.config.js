// @ts-check
// `npm run test:faults`, outside `npm test`: it kills and restarts the nodes of a three-node
// cluster under load for several minutes.

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  // As in the root config: an open handle must not hold the run past its end.
  forceExit: true,
  displayName: 'faults',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  globalSetup: '<rootDir>/test/faults/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
};
