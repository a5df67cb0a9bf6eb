import { createRoundPacer } from '../../../services/sharing/round-pacer';

describe('createRoundPacer', () => {
  const pacer = () => createRoundPacer({ targetMs: 2_000, min: 10, max: 500, initial: 100 });

  it('shrinks the chunks in proportion after a round longer than the target', () => {
    const p = pacer();
    p.observe(600, 8_000);
    expect(p.chunkSize()).toBe(25);
    p.observe(150, 40_000);
    expect(p.chunkSize()).toBe(10);
  });

  it('doubles them after a short round that used them whole, up to max', () => {
    const p = pacer();
    p.observe(100, 500);
    expect(p.chunkSize()).toBe(200);
    p.observe(600, 900);
    p.observe(600, 900);
    expect(p.chunkSize()).toBe(500);
  });

  it('keeps them after a round of a light load, or one near the target', () => {
    const p = pacer();
    p.observe(30, 100);
    p.observe(0, 10);
    p.observe(300, 1_500);
    expect(p.chunkSize()).toBe(100);
  });

  it('finds the size at which rounds last about the target, whatever the fixed cost of a round', () => {
    // A store with 400 ms a round and 10 ms an event, 6 partitions always full: 160 events a round.
    const p = pacer();
    for (let round = 0; round < 20; round += 1) {
      const events = 6 * p.chunkSize();
      p.observe(events, 400 + 10 * events);
    }
    const events = 6 * p.chunkSize();
    expect(400 + 10 * events).toBeLessThanOrEqual(2_000);
    expect(400 + 10 * events).toBeGreaterThan(1_000 / 2);
  });

  it('refuses bounds that cannot hold', () => {
    expect(() => createRoundPacer({ targetMs: 2_000, min: 0, max: 10 })).toThrow(RangeError);
    expect(() => createRoundPacer({ targetMs: 2_000, min: 20, max: 10 })).toThrow(RangeError);
  });
});
