import { dossierConnector } from '../../../../connectors/dossier';
import { parseInstant } from '../../../../connectors/runtime/identifiers';
import { deskDossiers, receptionRecord } from '../../../../deploy/local/demo';
import { nativeChecker } from '../../connectors/connector-helpers';

const check = nativeChecker(dossierConnector);
const APPLICANTS = { buyer: '001085012345', enterprise: '0108912347' };

/** An instant given as Hà Nội wall-clock time. */
const hanoi = (local: string): number => Date.parse(`${local}+07:00`);

/** What `npm start` sends at `now`: the desk dossiers' reception records. */
function sent(now: number) {
  const desks = deskDossiers(now, APPLICANTS);
  return { ids: desks.map((d) => d.dossierId), records: desks.map((d) => receptionRecord(d, now)) };
}

/** The dossier connector's answer to `records` when its clock reads `now`: the issues, by record. */
function issuesAt(records: readonly unknown[], now: number): unknown[] {
  return records.map((record) => {
    const schema = check(record);
    if (schema.length > 0) return schema;
    const mapped = dossierConnector.map(record as never, { now });
    return mapped.ok ? [] : mapped.issues;
  });
}

describe("npm start's desk dossiers", () => {
  it.each([
    ['00:00:00.000', '2026-12-02T00:00:00.000'],
    ['00:30', '2026-12-02T00:30:00'],
    ['06:06 (issue 12)', '2026-12-02T06:06:00'],
    ['08:00', '2026-12-02T08:00:00'],
    ['23:30', '2026-12-02T23:30:00'],
    ['23:59:59.999', '2026-12-02T23:59:59.999'],
  ])('are accepted at %s Hà Nội time, received that day and never after now', (_hour, local) => {
    const now = hanoi(local);
    const { ids, records } = sent(now);
    expect(issuesAt(records, now)).toEqual([[], []]);
    for (const record of records) {
      const received = parseInstant(String(record.ngayTiepNhan));
      expect(received).toEqual({ ok: true, value: hanoi('2026-12-02T00:00:00') });
      expect(received.ok && received.value <= now).toBe(true);
    }
    expect(ids).toEqual(['000.00.00.H26-261202-9001', '000.00.00.H26-261202-9002']);
  });

  it('are the same records all day, and new ones the next day', () => {
    const morning = sent(hanoi('2026-12-02T00:30:00'));
    expect(sent(hanoi('2026-12-02T23:30:00'))).toEqual(morning);
    const nextDay = sent(hanoi('2026-12-03T00:30:00'));
    expect(nextDay.ids).toEqual(['000.00.00.H26-261203-9001', '000.00.00.H26-261203-9002']);
    expect(nextDay.records.map((r) => r.maBanGhi)).not.toEqual(morning.records.map((r) => r.maBanGhi));
  });

  it('are accepted when midnight passes between making them and sending them', () => {
    const made = hanoi('2026-12-02T23:59:59.500');
    const arrived = hanoi('2026-12-03T00:00:00.500');
    const before = sent(made);
    expect(before.ids[0]).toBe('000.00.00.H26-261202-9001');
    expect(issuesAt(before.records, arrived)).toEqual([[], []]);
    // A start just after midnight sends the new day's dossiers, received at that midnight.
    const after = sent(arrived);
    expect(after.ids[0]).toBe('000.00.00.H26-261203-9001');
    expect(after.records[0]?.ngayTiepNhan).toBe('2026-12-03T00:00:00+07:00');
    expect(issuesAt(after.records, arrived)).toEqual([[], []]);
  });
});
