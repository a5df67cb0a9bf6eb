import { backoffDelay } from '../../../services/platform/backoff';

describe('the backoff', () => {
  const policy = { initialMs: 500, maxMs: 30_000 };
  const middle = () => 0.5;

  it('doubles from the first wait up to the longest, and stays there', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => backoffDelay(n, policy, middle))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('spreads each wait by ±20%, and never past the longest', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(1_600);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(2_400);
    expect(backoffDelay(7, policy, () => 0)).toBe(24_000);
    expect(backoffDelay(7, policy, () => 0.999_999)).toBe(30_000);
  });

  it('reads a count below one as the first failure', () => {
    expect(backoffDelay(0, policy, middle)).toBe(500);
    expect(backoffDelay(-3, policy, middle)).toBe(500);
  });
});
