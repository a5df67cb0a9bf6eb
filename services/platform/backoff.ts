/** How long to wait between tries of something that failed for a passing reason. */
export interface BackoffPolicy {
  /** The wait after the first failure, in milliseconds. */
  initialMs: number;
  /** The longest wait, in milliseconds: the delay doubles up to it and stays there. */
  maxMs: number;
}

/**
 * The wait before the next try after `failures` failures in a row (1 or more): `initialMs`
 * doubled each time, spread by ±20% so that processes that failed together do not all come back
 * at the same instant, and never more than `maxMs`. `random` is `Math.random` except in tests.
 *
 * @see https://kafka.js.org/docs/retry-detailed (the same doubling and spread, kafkajs's `factor`)
 */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.min(policy.maxMs, Math.round(base * (0.8 + 0.4 * random())));
}
