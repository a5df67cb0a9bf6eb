import {
  CCCD_PROVINCE_CODES,
  checkAmount,
  checkCccd,
  checkEnterpriseCode,
  checkTaxCode,
  CLOCK_SKEW_MS,
  isInFuture,
  normalizePlate,
  parseInstant,
  parseInteger,
  taxCodeCheckDigit,
} from '../../../../connectors/runtime/identifiers';
import { readInstant } from '../../../../connectors/runtime/native-mapping';
import { type RecordIssue } from '../../../../connectors/runtime/agency';
import { goldenEvents } from '../../schemas/avro-fixtures';

const NOW = Date.UTC(2026, 0, 15);

describe('checkCccd', () => {
  it('lists the 63 province codes', () => {
    expect(Object.keys(CCCD_PROVINCE_CODES)).toHaveLength(63);
    expect(CCCD_PROVINCE_CODES['001']).toBe('Hà Nội');
    expect(CCCD_PROVINCE_CODES['079']).toBe('Hồ Chí Minh');
  });

  it.each([
    ['001085012345', '001', 'male', 1985],
    ['001190004567', '001', 'female', 1990],
    ['079203007788', '079', 'male', 2003],
    ['036325123456', '036', 'female', 2025],
  ])('reads %s', (cccd, province, sex, birthYear) => {
    expect(checkCccd(cccd, NOW)).toEqual({ ok: true, value: { cccd, province, sex, birthYear } });
  });

  it.each([
    ['an unknown province', '003085012345', /province code .* is not one of the 63 codes/],
    ['a birth year in the future', '001227012345', /birth year .* is in the future/],
    ['a later century', '001485012345', /birth year .* is in the future/],
    ['11 digits', '00108501234', /12 digits/],
    ['13 digits', '0010850123456', /12 digits/],
    ['letters', '00108501234A', /12 digits/],
    ['spaces', '001 085 012345', /12 digits/],
  ])('refuses %s', (_case, cccd, reason) => {
    const checked = checkCccd(cccd, NOW);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.reason).toMatch(reason);
  });

  it('quotes no part of a refused number, since the reason is kept and shown', () => {
    // A province code, and the birth year the century and year digits give.
    for (const [cccd, part] of [
      ['003085012345', '003'],
      ['001227012345', '2027'],
      ['001485012345', '2185'],
    ] as const) {
      const checked = checkCccd(cccd, NOW);
      expect(checked).toEqual({ ok: false, reason: expect.any(String) });
      if (!checked.ok) expect(checked.reason).not.toContain(part);
    }
  });

  it('takes the current year in Hà Nội time', () => {
    // 2025-12-31T18:00Z is already 2026 in Hà Nội.
    expect(checkCccd('001226012345', Date.UTC(2025, 11, 31, 18)).ok).toBe(true);
    expect(checkCccd('001226012345', Date.UTC(2025, 11, 31, 16)).ok).toBe(false);
  });
});

describe('checkTaxCode and checkEnterpriseCode', () => {
  it('agrees with every tax and enterprise code of the golden fixtures', () => {
    const codes = goldenEvents().flatMap((g) => JSON.stringify(g.value).match(/"01\d{8}"/g) ?? []);
    expect(codes.length).toBeGreaterThan(5);
    for (const quoted of codes)
      expect(checkEnterpriseCode(JSON.parse(quoted) as string)).toMatchObject({ ok: true });
  });

  it('computes the check digit with weights 31, 29, 23, 19, 17, 13, 7, 5, 3', () => {
    // 0·31 + 1·29 + 0·23 + 8·19 + 9·17 + 1·13 + 2·7 + 3·5 + 4·3 = 388; 388 mod 11 = 3; 10 - 3 = 7.
    expect(taxCodeCheckDigit('010891234')).toBe(7);
    // A prefix whose sum is a multiple of 11 would need a check digit of 10: it is never issued.
    expect(taxCodeCheckDigit('000000000')).toBeUndefined();
    expect(checkTaxCode('0000000000').ok).toBe(false);
  });

  it('accepts a 10-digit code and a dependent unit with or without the hyphen', () => {
    expect(checkTaxCode('0108912347')).toEqual({
      ok: true,
      value: { taxCode: '0108912347', base: '0108912347', branch: null },
    });
    const branch = { ok: true, value: { taxCode: '0108912347-001', base: '0108912347', branch: '001' } };
    expect(checkTaxCode('0108912347-001')).toEqual(branch);
    expect(checkTaxCode('0108912347001')).toEqual(branch);
  });

  it.each([
    ['a wrong check digit', '0108912348', /check digit/],
    ['a branch of a wrong code', '0108912348-001', /check digit/],
    ['branch 000', '0108912347-000', /001 to 999/],
    ['9 digits', '010891234', /10 digits/],
    ['a 2-digit branch', '0108912347-01', /10 digits/],
    ['a space', '0108912347 001', /10 digits/],
  ])('refuses %s', (_case, code, reason) => {
    const checked = checkTaxCode(code);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.reason).toMatch(reason);
  });

  it('refuses a dependent unit as an enterprise code', () => {
    expect(checkEnterpriseCode('0108912347')).toEqual({ ok: true, value: '0108912347' });
    expect(checkEnterpriseCode('0108912347-001').ok).toBe(false);
    expect(checkEnterpriseCode('0108912340').ok).toBe(false);
  });
});

describe('normalizePlate', () => {
  it.each([
    ['29A-123.45', '29A-123.45'],
    ['30E-678.90', '30E-678.90'],
    ['29A1-234.56', '29A1-234.56'],
    ['29LD-123.45', '29LD-123.45'],
    ['29A-1234', '29A-1234'],
    ['40A1-2345', '40A1-2345'],
    ['29MĐ1-123.45', '29MĐ1-123.45'],
    [' 29a 123.45 ', '29A-123.45'],
    ['29A - 12345', '29A-123.45'],
    ['29-A1 234.56', '29A1-234.56'],
    ['29mđ1-123.45', '29MĐ1-123.45'],
  ])('reads %j as %s', (text, plate) => {
    expect(normalizePlate(text)).toMatchObject({ ok: true, value: { plate } });
  });

  it('takes a plate apart', () => {
    expect(normalizePlate('29A1-234.56')).toEqual({
      ok: true,
      value: { plate: '29A1-234.56', province: '29', series: 'A1', number: '234.56' },
    });
  });

  it.each([
    ['province 10', '10A-123.45'],
    ['a 1-digit province', '9A-123.45'],
    ['no series', '29-123.45'],
    ['three letters', '29ABC-123.45'],
    ['no separator before the number', '29A12345'],
    ['6 digits', '29A-123.456'],
    ['3 digits', '29A-123'],
    ['a misplaced dot', '29A-12.345'],
    ['an empty string', ''],
  ])('refuses %s', (_case, text) => {
    expect(normalizePlate(text).ok).toBe(false);
  });
});

describe('parseInstant and isInFuture', () => {
  it.each([
    ['2026-11-20T09:15:00+07:00', Date.UTC(2026, 10, 20, 2, 15)],
    ['2026-11-20T02:15:00Z', Date.UTC(2026, 10, 20, 2, 15)],
    ['2026-11-20T09:15:00', Date.UTC(2026, 10, 20, 2, 15)],
    ['2026-11-20T09:15', Date.UTC(2026, 10, 20, 2, 15)],
    ['2026-11-20T09:15:00.250+07:00', Date.UTC(2026, 10, 20, 2, 15, 0, 250)],
    ['2026-11-20T04:15:00-05:30', Date.UTC(2026, 10, 20, 9, 45)],
    ['2026-11-20', Date.UTC(2026, 10, 19, 17)],
    ['2024-02-29', Date.UTC(2024, 1, 28, 17)],
  ])('reads %s', (text, epochMs) => {
    expect(parseInstant(text)).toEqual({ ok: true, value: epochMs });
  });

  it.each([
    ['2025-02-29'],
    ['2026-02-30T09:00:00+07:00'],
    ['2026-13-01'],
    ['2026-11-20T24:00:00+07:00'],
    ['2026-11-20T09:60:00+07:00'],
    ['2026-11-20T09:15:00+15:00'],
    ['20/11/2026'],
    ['2026-11-20 09:15:00'],
    ['1732986000000'],
  ])('refuses %s', (text) => {
    expect(parseInstant(text).ok).toBe(false);
  });

  it('allows a five-minute clock skew for dates that happened', () => {
    expect(CLOCK_SKEW_MS).toBe(5 * 60_000);
    expect(isInFuture(NOW + 5 * 60_000, NOW)).toBe(false);
    expect(isInFuture(NOW + 5 * 60_000 + 1, NOW)).toBe(true);
  });
});

describe('the future-date check of a date that happened', () => {
  /** An instant given as Hà Nội wall-clock time. */
  const hanoi = (local: string): number => Date.parse(`${local}+07:00`);
  const read = (text: string, now: number) => {
    const issues: RecordIssue[] = [];
    return { at: readInstant(issues, '$.ngayTiepNhan', text, now), issues };
  };

  it.each([
    ['00:30', '2026-12-02T00:30:00'],
    ['23:30', '2026-12-02T23:30:00'],
  ])('at %s Hà Nội time takes the day so far and the skew, and no more', (_hour, local) => {
    const now = hanoi(local);
    expect(read('2026-12-02', now)).toEqual({ at: hanoi('2026-12-02T00:00:00'), issues: [] });
    expect(read(`${local.slice(0, 16)}+07:00`, now).issues).toEqual([]);
    expect(read(new Date(now + CLOCK_SKEW_MS).toISOString(), now).issues).toEqual([]);
    expect(read(new Date(now + CLOCK_SKEW_MS + 1).toISOString(), now)).toEqual({
      at: undefined,
      issues: [
        {
          path: '$.ngayTiepNhan',
          code: 'DATE_IN_FUTURE',
          message: "The date is later than the bus's time plus the allowed clock skew of 5 minutes",
        },
      ],
    });
  });

  it('across midnight takes the next day from a sender a little ahead, within the skew', () => {
    const now = hanoi('2026-12-02T23:59:59.500');
    expect(read('2026-12-03T00:00:00.500+07:00', now).issues).toEqual([]);
    // Midnight of the next day, written as a date alone, is half a second ahead.
    expect(read('2026-12-03', now).issues).toEqual([]);
    expect(read('2026-12-03T00:04:59.500+07:00', now).issues).toEqual([]);
    expect(read('2026-12-03T00:04:59.501+07:00', now).issues.map((i) => i.code)).toEqual(['DATE_IN_FUTURE']);
    expect(read('2026-12-04', now).issues.map((i) => i.code)).toEqual(['DATE_IN_FUTURE']);
  });

  it("takes a newborn's CCCD a moment before New Year in Hà Nội, within the skew", () => {
    const bornIn2027 = '001227012345';
    expect(checkCccd(bornIn2027, hanoi('2026-12-31T23:56:00')).ok).toBe(true);
    expect(checkCccd(bornIn2027, hanoi('2026-12-31T23:54:59')).ok).toBe(false);
  });
});

describe('checkAmount and parseInteger', () => {
  it('reads whole đồng without separators', () => {
    expect(checkAmount('1250000000')).toEqual({ ok: true, value: '1250000000' });
    expect(checkAmount('0')).toEqual({ ok: true, value: '0' });
    expect(checkAmount('000120')).toEqual({ ok: true, value: '120' });
    expect(checkAmount('999999999999999999')).toEqual({ ok: true, value: '999999999999999999' });
    for (const bad of ['1.250.000', '1,250,000', '-5', '12.5', '1e9', '', ' 12', '1000000000000000000']) {
      expect(checkAmount(bad).ok).toBe(false);
    }
  });

  it('reads whole numbers in range', () => {
    expect(parseInteger('17', 1)).toEqual({ ok: true, value: 17 });
    for (const bad of ['0', '1.5', 'abc', '', '1e3', '99999999999999999'])
      expect(parseInteger(bad, 1).ok).toBe(false);
  });
});
