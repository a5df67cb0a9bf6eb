import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it resolves, for at most `timeoutMs`.
 * The last probe error is kept as the cause, since it says why the service is not ready.
 */
export async function waitUntilReady(
  what: string,
  probe: () => Promise<void>,
  options: { timeoutMs: number; isAlive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 100;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (options.isAlive && !options.isAlive()) {
      throw new Error(`${what} exited while starting`, { cause: lastError });
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 1_000);
  }
  throw new Error(`${what} was not ready after ${options.timeoutMs / 1000} s`, { cause: lastError });
}
