/**
 * One writer for many partitions: partition batches submit their events, and a single loop
 * applies everything submitted since its last round in one go, then answers each submitter.
 *
 * Why one writer: FerretDB 1.24 does not apply update operators atomically, so two rounds writing
 * the same document at once can lose a section. Why many partitions per round: a round costs a
 * few store round trips whatever its size, so gathering the partitions that arrived together
 * makes freshness a matter of one round, not one round per partition.
 */
export interface ApplyQueue<E, R = boolean> {
  /** Resolves with what became of each of `events` (whether it changed a view...), once its round is written. */
  submit(events: readonly E[]): Promise<R[]>;
}

export function createApplyQueue<E, R = boolean>(
  apply: (events: readonly E[]) => Promise<R[]>,
): ApplyQueue<E, R> {
  type Waiting = {
    events: readonly E[];
    resolve: (changed: R[]) => void;
    reject: (err: unknown) => void;
  };
  let waiting: Waiting[] = [];
  let running = false;

  const drain = async (): Promise<void> => {
    try {
      while (waiting.length > 0) {
        const round = waiting;
        waiting = [];
        try {
          const changed = await apply(round.flatMap((w) => w.events));
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
        waiting.push({ events, resolve, reject });
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
