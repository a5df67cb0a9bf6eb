import { createApplyQueue } from '../../../services/sharing/apply-queue';

describe('createApplyQueue', () => {
  it('applies what was submitted while a round ran in one later round, and answers each submitter its share', async () => {
    const rounds: number[][] = [];
    let release: () => void = () => undefined;
    const queue = createApplyQueue<number>(async (events) => {
      rounds.push([...events]);
      if (rounds.length === 1) await new Promise<void>((r) => (release = r));
      return events.map((e) => e % 2 === 0);
    });
    const first = queue.submit([1, 2]);
    // The round begins after this turn of the event loop: the next two arrive while it runs.
    await new Promise((r) => setImmediate(r));
    const second = queue.submit([3, 4]);
    const third = queue.submit([5, 6, 8]);
    release();
    expect(await first).toEqual([false, true]);
    expect(await second).toEqual([false, true]);
    expect(await third).toEqual([false, true, true]);
    expect(rounds).toEqual([
      [1, 2],
      [3, 4, 5, 6, 8],
    ]);
  });

  it('gathers what is submitted in one turn of the event loop into one round', async () => {
    const rounds: number[][] = [];
    const queue = createApplyQueue<number>(async (events) => {
      rounds.push([...events]);
      return events.map(() => true);
    });
    // As the partitions of one fetch submit their batches, one after another.
    const answers = await Promise.all([queue.submit([1]), queue.submit([2, 3]), queue.submit([4])]);
    expect(answers).toEqual([[true], [true, true], [true]]);
    expect(rounds).toEqual([[1, 2, 3, 4]]);
  });

  it('never runs two rounds at once', async () => {
    let running = 0;
    let most = 0;
    const queue = createApplyQueue<number>(async (events) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      return events.map(() => true);
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => queue.submit([i])));
    expect(most).toBe(1);
  });

  it('fails every submitter of a failed round, and carries on with the next', async () => {
    let calls = 0;
    const queue = createApplyQueue<string>(async (events) => {
      calls += 1;
      if (calls === 1) throw new Error('store away');
      return events.map(() => true);
    });
    const failed = [queue.submit(['a']), queue.submit(['b'])];
    await expect(failed[0]).rejects.toThrow('store away');
    await expect(failed[1]).rejects.toThrow('store away');
    expect(calls).toBe(1);
    expect(await queue.submit(['c'])).toEqual([true]);
    expect(calls).toBe(2);
  });

  it('takes whole submissions into a round while their weight stays within its bound, one at least', async () => {
    const rounds: number[][] = [];
    const queue = createApplyQueue<number>(
      async (events) => {
        rounds.push([...events]);
        return events.map(() => true);
      },
      { max: 10, weight: (e) => e },
    );
    const answers = await Promise.all([
      queue.submit([3, 3]),
      queue.submit([4]),
      // 6 + 4 is the bound; 1 more would pass it.
      queue.submit([1]),
      // Heavier than the bound on its own: it goes, alone.
      queue.submit([12]),
      queue.submit([2, 2]),
    ]);
    expect(answers).toEqual([[true, true], [true], [true], [true], [true, true]]);
    expect(rounds).toEqual([[3, 3, 4], [1], [12], [2, 2]]);
  });

  it('tells a round the events the next one would take, as submitted so far and within the bound', async () => {
    const seen: number[][] = [];
    let release: () => void = () => undefined;
    const queue = createApplyQueue<number>(
      async (events, _oldestAt, upcoming) => {
        seen.push([...upcoming()]);
        if (events[0] === 1) {
          await new Promise<void>((r) => (release = r));
          seen.push([...upcoming()]);
        }
        return events.map(() => true);
      },
      { max: 10, weight: (e) => e },
    );
    const first = queue.submit([1]);
    await new Promise((r) => setImmediate(r));
    const later = [queue.submit([3, 3]), queue.submit([4]), queue.submit([5])];
    release();
    await Promise.all([first, ...later]);
    // Nothing waited as the first round began; then 3 + 3 + 4 fit the bound and 5 did not.
    expect(seen).toEqual([[], [3, 3, 4], [5], []]);
  });
});
