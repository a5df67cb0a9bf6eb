/**
 * One writer for many partitions: partition batches submit their events, and a single loop
 * applies everything submitted since its last round in one go, then answers each submitter.
 *
 * Why one writer: FerretDB 1.24 does not apply update operators atomically, so two rounds writing
 * the same document at once can lose a section. Why many partitions per round: a round costs a
 * few store round trips whatever its size, so gathering the partitions that arrived together
 * makes freshness a matter of one round, not one round per partition.
 *
 * The same gathering serves the service's requests to Kafka (its sends of changes and its offset
 * commits): its producer has one request in flight per connection, so sends made while one is in
 * flight go together in the next request instead of queueing one request each.
 */
export interface ApplyQueue<E, R = boolean> {
  /** Resolves with what became of each of `events` (whether it changed a view...), once its round is written. */
  submit(events: readonly E[]): Promise<R[]>;
}

/**
 * A bound on a round: it takes whole submissions while their `weight` stays within `max`, and
 * always at least one, so that a submission heavier than `max` still goes, alone.
 */
export interface RoundBound<E> {
  max: number;
  weight: (event: E) => number;
}

/**
 * `apply` is given a round's events; when the oldest submission among them was made (epoch
 * milliseconds), which tells how long the round kept it waiting; and `upcoming`, which tells the
 * events the next round would take if it began at that moment, for a round to prepare them.
 */
export function createApplyQueue<E, R = boolean>(
  apply: (events: readonly E[], oldestAt: number, upcoming: () => readonly E[]) => Promise<R[]>,
  bound?: RoundBound<E>,
): ApplyQueue<E, R> {
  type Waiting = {
    events: readonly E[];
    weight: number;
    at: number;
    resolve: (changed: R[]) => void;
    reject: (err: unknown) => void;
  };
  let waiting: Waiting[] = [];
  let running = false;

  /** How many of the waiting submissions the next round takes. */
  const nextTaken = (): number => {
    if (!bound) return waiting.length;
    let taken = 1;
    let weight = waiting[0]?.weight ?? 0;
    for (; taken < waiting.length; taken += 1) {
      weight += waiting[taken]?.weight ?? 0;
      if (weight > bound.max) break;
    }
    return Math.min(taken, waiting.length);
  };
  const upcoming = (): readonly E[] => waiting.slice(0, nextTaken()).flatMap((w) => w.events);

  const drain = async (): Promise<void> => {
    try {
      while (waiting.length > 0) {
        const taken = nextTaken();
        const round = waiting.slice(0, taken);
        waiting = waiting.slice(taken);
        try {
          const changed = await apply(
            round.flatMap((w) => w.events),
            Math.min(...round.map((w) => w.at)),
            upcoming,
          );
          let at = 0;
          for (const w of round) {
            w.resolve(changed.slice(at, at + w.events.length));
            at += w.events.length;
          }
        } catch (err) {
          // Each submitter decides whether to try again; a retry joins a later round.
          for (const w of round) w.reject(err);
        }
      }
    } finally {
      running = false;
    }
  };

  return {
    submit(events) {
      return new Promise<R[]>((resolve, reject) => {
        const weight = bound ? events.reduce((sum, e) => sum + bound.weight(e), 0) : 0;
        waiting.push({ events, weight, at: Date.now(), resolve, reject });
        if (running) return;
        running = true;
        // The first round begins once the turn of the event loop that brought this is over, so
        // that the partitions of one fetch, whose batches submit one after another in that turn,
        // share it rather than the first one going alone.
        setImmediate(() => void drain());
      });
    },
  };
}
