import { CATALOGS, messages } from '../../../services/console/web/messages';
import { parseMetrics } from '../../../services/console/web/metrics';

/** An instant given as Hà Nội wall-clock time. */
const hanoi = (local: string): number => Date.parse(`${local}+07:00`);

describe("the console's message catalog", () => {
  it('holds every Vietnamese text in English too, and the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(CATALOGS.en).sort()).toEqual(Object.keys(CATALOGS.vi).sort());
    for (const [key, text] of Object.entries(CATALOGS.vi)) {
      expect([key, placeholders(CATALOGS.en[key as keyof typeof CATALOGS.en])]).toEqual([
        key,
        placeholders(text),
      ]);
    }
  });

  it('explains every refusal in words, without the code', () => {
    for (const [key, text] of Object.entries(CATALOGS.vi).filter(([k]) => /^refusal\.[A-Z_]+$/.test(k))) {
      expect([key, /[A-Z]{2,}_[A-Z]/.test(text)]).toEqual([key, false]);
    }
  });

  it('shows times in Hà Nội whatever the zone it runs in, across midnight', () => {
    // 00:30 on 2 December in Hà Nội is still 1 December in UTC.
    const m = messages('vi');
    expect(m.date(hanoi('2026-12-02T00:30:00'))).toBe('2/12/26');
    expect(m.dateTime(hanoi('2026-12-02T00:30:00'))).toBe('00:30:00 2/12/26');
    expect(messages('en').dateTime(hanoi('2026-12-01T23:59:59'))).toBe('01/12/2026, 23:59:59');
  });

  it('writes numbers and đồng the Vietnamese way', () => {
    const m = messages('vi');
    expect(m.money('3500000').replace(/\s/g, ' ')).toBe('3.500.000 ₫');
    expect(m.number(1234567)).toBe('1.234.567');
    expect(m.t('audit.checked', { checked: 3, from: 1, last: 3, sealed: 0 })).toBe(
      'Đã đọc 3 bản ghi, từ số 1 đến số 3; niêm phong đến số 0.',
    );
  });
});

describe("the operator page's reading of /metrics", () => {
  it('reads the samples with their labels and skips the comments', () => {
    const text = [
      '# HELP sharing_consumer_lag Messages behind',
      '# TYPE sharing_consumer_lag gauge',
      'sharing_consumer_lag{topic="vehicle",partition="0"} 12',
      'sharing_events_total{topic="it-ab.vehicle",outcome="dead_lettered"} 1',
      'process_cpu_seconds_total 0.5',
      '',
    ].join('\n');
    expect(parseMetrics(text)).toEqual([
      { name: 'sharing_consumer_lag', labels: { topic: 'vehicle', partition: '0' }, value: 12 },
      {
        name: 'sharing_events_total',
        labels: { topic: 'it-ab.vehicle', outcome: 'dead_lettered' },
        value: 1,
      },
      { name: 'process_cpu_seconds_total', labels: {}, value: 0.5 },
    ]);
  });
});
