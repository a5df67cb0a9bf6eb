/**
 * A fix for kafkajs 2.2.4, which is no longer released: every broker connection's request queue
 * polls itself every millisecond for as long as the connection lives.
 *
 * After each response its `checkPendingRequests` calls `scheduleCheckPendingRequests`, which arms
 * a timer for `throttledUntil - Date.now()` milliseconds even with nothing pending. Unthrottled,
 * `throttledUntil` is -1, so the delay is negative, Node runs it after 1 ms, and the timer's own
 * check arms the next: a thousand turns of the event loop a second per connection. An idle schema
 * registry (one consumer, one producer, one admin) spent 7 to 8% of a core on it here, and every
 * consumer, producer and admin client of every service keeps such loops.
 *
 * The queue below arms its timer only when a request waits: for the end of a throttle the broker
 * asked for, or else kafkajs's 10 ms re-check (CHECK_PENDING_REQUESTS_INTERVAL). A request that
 * arrives later is sent at once if it can be, or pushed, which arms the timer again; a response
 * checks the queue itself. This is the change proposed upstream in tulios/kafkajs#1667, for #1556
 * and #1704, written here.
 *
 * @see https://github.com/tulios/kafkajs/issues/1556
 * @see https://github.com/tulios/kafkajs/pull/1667
 */

/** kafkajs's `src/network/requestQueue` internals that the fix touches; they ship no types. */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's own interval for re-checking a queue whose requests wait without a throttle. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** kafkajs's RequestQueue class, whose prototype every connection's queue shares. */
export function requestQueueClass(): { prototype: RequestQueueInternals } {
  // A deep path of kafkajs's (its package has no `exports` map), CommonJS, without types.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };
}

/** Arms the queue's re-check only while a request waits (see the module's comment). */
function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
  const throttled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

/** Puts the fixed schedule on kafkajs's RequestQueue; safe to call more than once. */
export function fixRequestQueueSchedule(): void {
  requestQueueClass().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}
