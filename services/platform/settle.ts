/**
 * Waits for every one of `work` to end, then resolves with their values in order, or rejects with
 * the first one's failure. Unlike `Promise.all`, nothing is still running when it rejects, so the
 * caller's retry never overlaps the writes or sends of the try it replaces.
 */
export async function settleAll<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(work);
  return outcomes.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}
