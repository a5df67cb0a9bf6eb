import { DEAD_LETTER_HEADERS } from '../../../services/sharing/dead-letters';
import {
  matchesFilter,
  planRedrive,
  REDRIVE_HEADERS,
  republishedRecord,
  viewDeadLetter,
} from '../../../services/sharing/redrive';

const headers = (extra: Record<string, string> = {}) => ({
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  [DEAD_LETTER_HEADERS.topic]: 'tax',
  [DEAD_LETTER_HEADERS.partition]: '2',
  [DEAD_LETTER_HEADERS.offset]: '41',
  [DEAD_LETTER_HEADERS.errorCode]: 'PROJECTION_FAILED',
  [DEAD_LETTER_HEADERS.reason]: 'enterprises projection threw TypeError',
  [DEAD_LETTER_HEADERS.failedAt]: '2026-12-02T07:00:00.000Z',
  ...extra,
});
const letter = (offset: string, extra: Record<string, string> = {}) =>
  viewDeadLetter(
    { topic: 'sharing.dead-letter', partition: 0 },
    { offset, key: Buffer.from('0100000003'), value: Buffer.from([0, 0, 0, 0, 1]), headers: headers(extra) },
    (topic) => (topic === 'tax' ? 'HN-CUCTHUE' : undefined),
  );

describe('a dead letter read by the operators', () => {
  it('counts a first failure as one, with itself as its history', () => {
    expect(letter('7')).toMatchObject({
      at: { topic: 'sharing.dead-letter', partition: 0, offset: '7' },
      source: { topic: 'tax', partition: 2, offset: '41' },
      agency: 'HN-CUCTHUE',
      code: 'PROJECTION_FAILED',
      failures: 1,
      history: [{ code: 'PROJECTION_FAILED', failedAt: '2026-12-02T07:00:00.000Z' }],
    });
  });

  it('counts the redrives its headers carry, and appends to their history', () => {
    const earlier = [{ code: 'SCHEMA_UNKNOWN', reason: 'no schema 9', failedAt: '2026-12-01T07:00:00.000Z' }];
    const again = letter('8', {
      [REDRIVE_HEADERS.attempt]: '1',
      [REDRIVE_HEADERS.history]: JSON.stringify(earlier),
    });
    expect(again.failures).toBe(2);
    expect(again.history.map((h) => h.code)).toEqual(['SCHEMA_UNKNOWN', 'PROJECTION_FAILED']);
    // A history that is not ours is ignored, not fatal.
    expect(letter('9', { [REDRIVE_HEADERS.history]: '{' }).history).toHaveLength(1);
  });

  it('filters by agency, code and time', () => {
    const l = letter('7');
    expect(matchesFilter(l, { agency: 'HN-CUCTHUE', code: 'PROJECTION_FAILED' })).toBe(true);
    expect(matchesFilter(l, { agency: 'HN-CSGT' })).toBe(false);
    expect(matchesFilter(l, { since: Date.parse('2026-12-02T07:00:00Z') })).toBe(true);
    expect(matchesFilter(l, { until: Date.parse('2026-12-02T07:00:00Z') })).toBe(false);
  });
});

describe('a redrive plan', () => {
  it('republishes below N failures, holds at N, and skips what the log shows as done', () => {
    const first = letter('1');
    const third = letter('2', { [REDRIVE_HEADERS.attempt]: '2' });
    const done = letter('3');
    const plan = planRedrive([first, third, done], {
      maxFailures: 3,
      done: new Set(['sharing.dead-letter/0/3']),
    });
    expect(plan.map((s) => [s.letter.at.offset, s.action, 'attempt' in s ? s.attempt : undefined])).toEqual([
      ['1', 'republish', 1],
      ['2', 'hold', undefined],
    ]);
  });

  it('sends the original key, bytes, partition and headers back, without the dead-letter ones', () => {
    const record = republishedRecord(letter('1'), 1);
    expect(record.key?.toString()).toBe('0100000003');
    // The partition it was read from, which its key chose: behind the entity's earlier events.
    expect(record.partition).toBe(2);
    expect(record.value).toEqual(Buffer.from([0, 0, 0, 0, 1]));
    expect(Object.keys(record.headers).sort()).toEqual(
      ['traceparent', REDRIVE_HEADERS.attempt, REDRIVE_HEADERS.history].sort(),
    );
    expect(record.headers[REDRIVE_HEADERS.attempt]).toBe('1');
    expect(JSON.parse(String(record.headers[REDRIVE_HEADERS.history]))).toEqual([
      expect.objectContaining({ code: 'PROJECTION_FAILED' }),
    ]);
  });
});
