import { periodOf } from '../../../services/lookup/audit-trail';
import { type Provenance, sectionsOf, type ViewDoc } from '../../../services/sharing/projection';

describe('periodOf', () => {
  it("counts 17:30 UTC on 30 November in Hà Nội's 1 December, at midnight", () => {
    const at = new Date('2026-11-30T17:30:00Z');
    expect(periodOf(at, 'hour')).toBe('2026-12-01T00');
    expect(periodOf(at, 'day')).toBe('2026-12-01');
    expect(periodOf(at, 'month')).toBe('2026-12');
  });

  it('keeps the last millisecond before 17:00 UTC in the day before', () => {
    const at = new Date('2026-11-30T16:59:59.999Z');
    expect(periodOf(at, 'hour')).toBe('2026-11-30T23');
    expect(periodOf(at, 'day')).toBe('2026-11-30');
    expect(periodOf(at, 'month')).toBe('2026-11');
  });

  it("starts Hà Nội's new year at 17:00 UTC on 31 December", () => {
    expect(periodOf(new Date('2026-12-31T17:00:00Z'), 'month')).toBe('2027-01');
    expect(periodOf(new Date('2026-12-31T16:00:00Z'), 'month')).toBe('2026-12');
  });

  it('puts a morning in Hà Nội in the same UTC day, seven hours on', () => {
    expect(periodOf(new Date('2026-06-15T02:10:00Z'), 'hour')).toBe('2026-06-15T09');
  });
});

describe('sectionsOf', () => {
  const source = (eventId: string): Provenance => ({
    agency: 'HN-PC08',
    topic: 'vehicle',
    partition: 0,
    offset: '3',
    eventId,
    eventType: 'VehicleRegistered',
    sourceRecordId: 'DKX-2024-555001',
    sourceVersion: 1,
    occurredAt: new Date(Date.UTC(2024, 0, 20, 3)),
    ingestedAt: new Date(Date.UTC(2024, 5, 1)),
    traceId: null,
  });

  const doc: ViewDoc = {
    _id: '29A-123.45',
    // Keys out of order at every level: the walk sorts them.
    registration: {
      plate: '29A-123.45',
      // A value inside a section is not a section, even when it is an object.
      owner: { citizenId: '001195004321', source: source('inner') },
      source: source('registration'),
    },
    history: {
      v000000000002: { event: 'OwnershipTransferred', source: source('v2') },
      v000000000001: { event: 'VehicleRegistered', source: source('v1') },
    },
    // A derived value without provenance is a container, walked but not listed.
    identity: { citizenId: '001195004321', birthYear: 1995 },
    archive: { older: { v000000000000: { event: 'Imported', source: source('v0') } } },
    tags: [{ source: source('in-a-list') }],
    deregisteredAt: new Date(Date.UTC(2025, 0, 1)),
    count: 2,
  };

  it('lists nested sections depth first, in key order, with their dotted paths', () => {
    expect(sectionsOf(doc).map((s) => s.path)).toEqual([
      'archive.older.v000000000000',
      'history.v000000000001',
      'history.v000000000002',
      'registration',
    ]);
  });

  it('gives each section as the document holds it, provenance included', () => {
    const [, first] = sectionsOf(doc);
    expect(first?.section).toBe((doc.history as Record<string, unknown>).v000000000001);
    expect(first?.section.source).toEqual(source('v1'));
  });

  it('skips the _id, even an object one, and lists nothing of a document without sections', () => {
    const odd = {
      _id: { source: source('id') },
      identity: { citizenId: '001195004321' },
    } as unknown as ViewDoc;
    expect(sectionsOf(odd)).toEqual([]);
    expect(sectionsOf({ _id: 'x' })).toEqual([]);
  });
});
