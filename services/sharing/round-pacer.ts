/**
 * Sizes the partitions' chunks so that a writer round lasts about `targetMs`, whatever the store's
 * speed: after each round, a round longer than the target shrinks the chunks in proportion, and one
 * shorter than half of it doubles them, between `min` and `max` events.
 *
 * Why: the consumer answers the group only between chunks (a rebalance waits for the chunk in
 * hand), and a round applies every partition's chunk together. With fixed chunks of `max` events,
 * a loaded store made rounds of 45 s, longer than any sane session or rebalance timeout. A rate
 * estimate would not do: a round's cost is mostly fixed at small sizes, so the measured rate of
 * small rounds is low and would keep the chunks small; halving and doubling finds the size.
 */
export interface RoundPacer {
  /** Events the next chunk of a partition takes. */
  chunkSize(): number;
  /** A round of `events` events took `elapsedMs`. */
  observe(events: number, elapsedMs: number): void;
}

export function createRoundPacer(options: {
  targetMs: number;
  min: number;
  max: number;
  initial?: number;
}): RoundPacer {
  const { targetMs, min, max } = options;
  if (!(min >= 1 && max >= min && targetMs > 0))
    throw new RangeError(
      `A round pacer needs 1 <= min <= max and a positive target; got ${min}, ${max}, ${targetMs}`,
    );
  let size = Math.min(max, Math.max(min, options.initial ?? min));
  return {
    chunkSize: () => size,
    observe(events, elapsedMs) {
      if (events === 0) return;
      if (elapsedMs > targetMs) size = Math.max(min, Math.floor((size * targetMs) / elapsedMs));
      // Only a round that used its chunks whole says the chunks could be bigger.
      else if (elapsedMs < targetMs / 2 && events >= size) size = Math.min(max, size * 2);
    },
  };
}
