import { type Consumer } from 'kafkajs';
import { ERROR_CODES, UnavailableError } from '../platform/errors';

/** The member has not been able to show it still belongs to its group: it writes nothing. */
export class MembershipLapsedError extends UnavailableError {
  override name = 'MembershipLapsedError';

  constructor(sinceMs: number) {
    super(
      ERROR_CODES.MEMBERSHIP_LAPSED,
      `No heartbeat has been accepted for ${sinceMs} ms; the member writes nothing until one is`,
    );
  }
}

export interface MembershipLease {
  /** Throws {@link MembershipLapsedError} when the last proof of membership is older than the lease. */
  check(): void;
}

/**
 * A member's lease on its partitions, renewed by every heartbeat the coordinator accepts and by
 * every join: the writer checks it before each write command and stops once it runs out.
 *
 * Why: the store cannot fence a write (FerretDB applies `$set` by read and rewrite, and has no
 * conditional write but the insert of a new `_id`), so the one guarantee against a member that
 * lost its partitions without knowing (paused, cut off, past its session) is that it stops before
 * they can be handed on. The coordinator hands a member's partitions on only once its session has
 * run out since the last heartbeat it accepted, or once a rebalance, during which every heartbeat
 * is refused, has waited its timeout. `leaseMs` is half the session: a member that writes only
 * within it stops at least `sessionMs − leaseMs` before another member is given its partitions.
 *
 * @see https://martin.kleppmann.com/2016/02/08/how-to-do-distributed-locking.html (why a lease
 *   alone is not a fence, and what it leaves: a write command delayed longer than that margin)
 */
export function membershipLease(consumer: Consumer, leaseMs: number): MembershipLease {
  // Elapsed time, which the bus clock (shifted or pinned in tests) must not stretch.
  let provedAt = Number.NEGATIVE_INFINITY;
  const renew = (): void => {
    provedAt = Date.now();
  };
  consumer.on(consumer.events.GROUP_JOIN, renew);
  // kafkajs emits it once the coordinator has answered the heartbeat without error.
  consumer.on(consumer.events.HEARTBEAT, renew);
  return {
    check() {
      const since = Date.now() - provedAt;
      if (since > leaseMs) throw new MembershipLapsedError(Number.isFinite(since) ? since : -1);
    },
  };
}
