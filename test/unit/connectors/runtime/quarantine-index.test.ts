import {
  createQuarantineIndex,
  InvalidCursor,
  quarantineId,
} from '../../../../connectors/runtime/quarantine-index';
import { type QuarantinedValue } from '../../../../connectors/runtime/quarantine';

const refusal = (agency: string, code: string, n: number): QuarantinedValue => ({
  agency,
  source: 'http',
  topic: 'tax',
  record: { n },
  issues: [
    { path: '$.mst', code, message: 'bad' },
    { path: '$.mst', code: 'OTHER', message: 'also bad' },
  ],
  receivedAt: '2026-12-02T07:00:00.000Z',
});
const at = (offset: number) => ({ topic: 'tax.quarantine', partition: 0, offset: String(offset) });

describe('the quarantine index', () => {
  it('derives ids from the coordinates, so another topic never names the same record', () => {
    expect(quarantineId(at(1))).toMatch(/^[0-9a-f]{32}$/);
    expect(quarantineId(at(1))).not.toBe(quarantineId({ ...at(1), topic: 'vehicle.quarantine' }));
  });

  it('groups by first code, pages in code then offset order, and counts every page', () => {
    const index = createQuarantineIndex({ maxRecords: 100 });
    index.add(at(0), refusal('A', 'Z_CODE', 0));
    index.add(at(1), refusal('A', 'A_CODE', 1));
    index.add(at(2), refusal('B', 'A_CODE', 2));
    index.add(at(3), refusal('A', 'Z_CODE', 3));
    index.add(at(3), refusal('A', 'Z_CODE', 3)); // read again from the topic: no second copy

    const first = index.list({ agency: 'A', limit: 2 });
    expect(first.total).toBe(3);
    expect(first.groups.map((g) => [g.code, g.total, g.records.map((r) => r.offset)])).toEqual([
      ['A_CODE', 1, ['1']],
      ['Z_CODE', 2, ['0']],
    ]);
    expect(first.groups[0]?.records[0]?.paths).toEqual(['$.mst']);
    const second = index.list({
      agency: 'A',
      limit: 2,
      ...(first.nextCursor ? { cursor: first.nextCursor } : {}),
    });
    expect(second.groups.map((g) => g.records.map((r) => r.offset))).toEqual([['3']]);
    expect(second.nextCursor).toBeUndefined();
    // An operator (no agency) sees all.
    expect(index.list({ agency: undefined, limit: 10 }).total).toBe(4);
    expect(() => index.list({ agency: 'A', limit: 2, cursor: 'garbage' })).toThrow(InvalidCursor);
  });

  it("answers another agency's id as absent", () => {
    const index = createQuarantineIndex({ maxRecords: 10 });
    index.add(at(0), refusal('B', 'X', 0));
    expect(index.get(quarantineId(at(0)), 'A')).toBeUndefined();
    expect(index.get(quarantineId(at(0)), 'B')).toMatchObject({ agency: 'B' });
  });

  it('applies a resolution read before its refusal, and hides resolved records unless asked', () => {
    const index = createQuarantineIndex({ maxRecords: 10 });
    const id = quarantineId(at(5));
    index.resolve({ id, state: 'resent', at: '2026-12-02T07:01:00.000Z', by: 'A' });
    index.add(at(5), refusal('A', 'X', 5));
    expect(index.list({ agency: 'A', limit: 10 }).total).toBe(0);
    expect(index.list({ agency: 'A', limit: 10, state: 'all' }).groups[0]?.records[0]).toMatchObject({
      state: 'resent',
      resolution: { by: 'A' },
    });
  });

  it('forgets the oldest records past its bound', () => {
    const index = createQuarantineIndex({ maxRecords: 2 });
    for (const n of [0, 1, 2]) index.add(at(n), refusal('A', 'X', n));
    expect(index.size()).toBe(2);
    expect(index.get(quarantineId(at(0)), 'A')).toBeUndefined();
  });
});
