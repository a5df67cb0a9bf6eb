import { ClockEnv, loadConfig, offsetClock, systemClock } from '../../../services/platform';
import { configError } from '../../support/config-error';

describe('the clock', () => {
  it('is the system time without an offset', () => {
    expect(offsetClock(0)).toBe(systemClock);
    const before = Date.now();
    const now = systemClock();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('adds a signed offset to the system time, at every reading', () => {
    const behind = offsetClock(-7 * 3_600_000);
    const before = Date.now();
    const now = behind();
    expect(now).toBeGreaterThanOrEqual(before - 7 * 3_600_000);
    expect(now).toBeLessThanOrEqual(Date.now() - 7 * 3_600_000);
  });

  it('says once that it is shifted', () => {
    const lines: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => lines.push(args) };
    offsetClock(60_000, logger as never);
    offsetClock(0, logger as never);
    expect(lines).toEqual([
      [
        expect.objectContaining({ clockOffsetMs: 60_000 }),
        'The clock is shifted from the system time by LIENTHONG_CLOCK_OFFSET_MS',
      ],
    ]);
  });
});

describe('LIENTHONG_CLOCK_OFFSET_MS', () => {
  it('is 0 unless set, and signed milliseconds when set', () => {
    expect(loadConfig(ClockEnv, {})).toEqual({ LIENTHONG_CLOCK_OFFSET_MS: 0 });
    expect(loadConfig(ClockEnv, { LIENTHONG_CLOCK_OFFSET_MS: '-27240000' })).toEqual({
      LIENTHONG_CLOCK_OFFSET_MS: -27_240_000,
    });
  });

  it.each(['1.5', 'soon', '1e20'])('refuses %s', (value) => {
    expect(configError(() => loadConfig(ClockEnv, { LIENTHONG_CLOCK_OFFSET_MS: value })).issues).toEqual([
      {
        variable: 'LIENTHONG_CLOCK_OFFSET_MS',
        message:
          'LIENTHONG_CLOCK_OFFSET_MS must be a whole number of milliseconds, at most a century either way',
      },
    ]);
  });
});
