import { MAX_STATEMENTS_PER_BULK_WRITE, statementChunks } from '../../../services/platform/mongo';

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('statementChunks', () => {
  it('names the limit FerretDB 1.24 takes: 100 statements a command', () => {
    expect(MAX_STATEMENTS_PER_BULK_WRITE).toBe(100);
  });

  it.each([
    [0, []],
    [1, [1]],
    [100, [100]],
    [101, [100, 1]],
    [150, [100, 50]],
    [1_000, Array(10).fill(100)],
  ])('cuts %i statements into commands of %j', (count, sizes) => {
    const chunks = statementChunks(numbers(count));
    expect(chunks.map((c) => c.length)).toEqual(sizes);
    // Every statement once, in order.
    expect(chunks.flat()).toEqual(numbers(count));
  });

  it('cuts by a smaller size when given one', () => {
    expect(statementChunks(numbers(120), 50).map((c) => c.length)).toEqual([50, 50, 20]);
  });

  it.each([0, 101, 1.5, Number.NaN])('refuses a size of %p', (size) => {
    expect(() => statementChunks(numbers(3), size)).toThrow(RangeError);
  });
});
