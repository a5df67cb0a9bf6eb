import { ConfigError } from '../../services/platform/errors';

/** The `ConfigError` that `run` throws; fails the test if it throws anything else, or nothing. */
export function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('Expected a ConfigError');
}
