import {
  changedPaths,
  mergeSection,
  type Provenance,
  sectionKey,
  supersedes,
  versionKey,
  type ViewDoc,
  withDerived,
} from '../../../services/sharing/projection';
import { sourced } from './events';
import { STORY, storyEvents } from './story';

const { debt, taxpayerRegistered } = storyEvents();

/** A provenance stamp that differs from `base` only where said. */
function stamp(base: Provenance, changes: Partial<Provenance>): Provenance {
  return { ...base, ...changes };
}

describe('supersedes', () => {
  const v2 = sourced(debt, { offset: 7 }).source;

  it('lets anything replace a section that has no stamp yet', () => {
    expect(supersedes(undefined, v2)).toBe(true);
  });

  it('given the same record, lets only a newer version win', () => {
    expect(supersedes(v2, stamp(v2, { sourceVersion: 3 }))).toBe(true);
    expect(supersedes(v2, stamp(v2, { sourceVersion: 2 }))).toBe(false);
    expect(supersedes(v2, stamp(v2, { sourceVersion: 1 }))).toBe(false);
  });

  it('given the same record, ignores occurredAt and event id: the version decides', () => {
    const older = stamp(v2, { sourceVersion: 1, occurredAt: new Date(Date.UTC(2030, 0, 1)), eventId: 'z' });
    expect(supersedes(v2, older)).toBe(false);
    const newer = stamp(v2, { sourceVersion: 3, occurredAt: new Date(0), eventId: '0' });
    expect(supersedes(v2, newer)).toBe(true);
  });

  it('given a different record, lets the later occurredAt win whatever the versions', () => {
    const other = stamp(v2, { sourceRecordId: 'MST-0101234567-B', sourceVersion: 1 });
    const later = stamp(other, { occurredAt: new Date(v2.occurredAt.getTime() + 1) });
    const earlier = stamp(other, { occurredAt: new Date(v2.occurredAt.getTime() - 1), sourceVersion: 99 });
    expect(supersedes(v2, later)).toBe(true);
    expect(supersedes(v2, earlier)).toBe(false);
  });

  it('given a different record at the same instant, breaks the tie on the event id, the same both ways', () => {
    const a = stamp(v2, { sourceRecordId: 'A', eventId: '11111111-0000-5000-8000-000000000000' });
    const b = stamp(v2, { sourceRecordId: 'B', eventId: '22222222-0000-5000-8000-000000000000' });
    expect(supersedes(a, b)).toBe(true);
    expect(supersedes(b, a)).toBe(false);
    expect(supersedes(a, stamp(b, { eventId: a.eventId }))).toBe(false);
  });

  it('treats the same record id from another agency as a different record', () => {
    const otherAgency = stamp(v2, {
      agency: 'HN-DKKD',
      sourceVersion: 1,
      occurredAt: new Date(v2.occurredAt.getTime() + 1),
    });
    expect(supersedes(v2, otherAgency)).toBe(true);
  });
});

describe('mergeSection', () => {
  const first = sourced(taxpayerRegistered, { offset: 0 });
  const second = sourced(debt, { offset: 1 });
  const key = sectionKey(STORY.enterprise);
  const given: ViewDoc = {
    _id: STORY.enterprise,
    tax: { [key]: { taxCode: STORY.enterprise, name: 'Old name', status: 'ACTIVE', source: first.source } },
    registration: { name: 'untouched', source: first.source },
  };

  it('keeps the fields the event does not carry, sets those it does, and stamps the event', () => {
    const doc = mergeSection(given, ['tax', key], { debt: '125000000', name: 'New name' }, second);
    expect(doc.tax).toEqual({
      [key]: {
        taxCode: STORY.enterprise,
        name: 'New name',
        status: 'ACTIVE',
        debt: '125000000',
        source: second.source,
      },
    });
  });

  it('replaces the section whole when a later event comes from another source record', () => {
    const other = {
      ...second,
      source: {
        ...second.source,
        sourceRecordId: 'ANOTHER-RECORD',
        sourceVersion: 1,
        occurredAt: new Date(Date.UTC(2030, 0, 1)),
      },
    };
    const doc = mergeSection(given, ['tax', key], { debt: '7' }, other);
    expect(doc.tax).toEqual({ [key]: { debt: '7', source: other.source } });
  });

  it('does not change its input, and shares the sections it did not touch', () => {
    const snapshot = JSON.stringify(given);
    const doc = mergeSection(given, ['tax', key], { debt: '1' }, second);
    expect(JSON.stringify(given)).toBe(snapshot);
    expect(doc).not.toBe(given);
    expect(doc.registration).toBe(given.registration);
  });

  it('returns the very same document when the event does not supersede the stamp', () => {
    expect(mergeSection(given, ['tax', key], { debt: '1' }, first)).toBe(given);
    const late = sourced(taxpayerRegistered, { offset: 99 });
    expect(mergeSection(given, ['tax', key], { status: 'CLOSED' }, late)).toBe(given);
  });

  describe('given an older version of the same record (a record fixed and resent late)', () => {
    const v2 = { ...second, source: { ...second.source, sourceRecordId: 'MST', sourceVersion: 2 } };
    const v1 = {
      ...first,
      source: { ...first.source, sourceRecordId: 'MST', sourceVersion: 1, offset: '42', eventId: 'e-v1' },
    };
    const newer: ViewDoc = {
      _id: 'x',
      tax: { [key]: { debt: '125000000', status: 'SUSPENDED', source: v2.source } },
    };

    it('fills only the fields the section lacks, keeps every newer value and the newer stamp, and records where the filled fields came from', () => {
      const doc = mergeSection(newer, ['tax', key], { taxCode: 'T', name: 'Name', status: 'ACTIVE' }, v1);
      expect(doc.tax).toEqual({
        [key]: {
          debt: '125000000',
          status: 'SUSPENDED',
          taxCode: 'T',
          name: 'Name',
          source: v2.source,
          filledFrom: {
            v000000000001: {
              eventId: 'e-v1',
              topic: v1.source.topic,
              partition: v1.source.partition,
              offset: '42',
              fields: ['name', 'taxCode'],
            },
          },
        },
      });
    });

    it('returns the very same document when it carries nothing the section lacks, as when it comes again', () => {
      expect(mergeSection(newer, ['tax', key], { status: 'ACTIVE' }, v1)).toBe(newer);
      const filled = mergeSection(newer, ['tax', key], { name: 'Name' }, v1);
      expect(mergeSection(filled, ['tax', key], { name: 'Name' }, v1)).toBe(filled);
    });

    it('fills nothing from an older event of another record', () => {
      const other = { ...v1, source: { ...v1.source, sourceRecordId: 'OTHER', occurredAt: new Date(0) } };
      expect(mergeSection(newer, ['tax', key], { name: 'Name' }, other)).toBe(newer);
    });

    it('forgets a filled field once a newer version sets it', () => {
      const filled = mergeSection(newer, ['tax', key], { name: 'Name', taxCode: 'T' }, v1);
      const v3 = { ...v2, source: { ...v2.source, sourceVersion: 3 } };
      const doc = mergeSection(filled, ['tax', key], { name: 'New name' }, v3);
      const section = (doc.tax as Record<string, Record<string, unknown>>)[key];
      expect(section).toMatchObject({ name: 'New name', taxCode: 'T', source: v3.source });
      expect(section?.filledFrom).toEqual({
        v000000000001: expect.objectContaining({ fields: ['taxCode'] }),
      });
      const v4 = { ...v2, source: { ...v2.source, sourceVersion: 4 } };
      const all = mergeSection(doc, ['tax', key], { taxCode: 'T2' }, v4);
      expect((all.tax as Record<string, Record<string, unknown>>)[key]).not.toHaveProperty('filledFrom');
    });
  });

  it('creates the containers on the way to a new section', () => {
    const doc = mergeSection({ _id: 'x' }, ['tax', key], { debt: '7' }, second);
    expect(doc).toEqual({ _id: 'x', tax: { [key]: { debt: '7', source: second.source } } });
  });

  it('adds a section beside the others in a container', () => {
    const doc = mergeSection(given, ['tax', 'other'], { debt: '7' }, second);
    expect(Object.keys(doc.tax as object).sort()).toEqual([key, 'other'].sort());
  });
});

describe('sectionKey', () => {
  it.each([
    ['29A-123.45', '29A-123%2E45'],
    ['000.20.31.H26-240312-0012', '000%2E20%2E31%2EH26-240312-0012'],
    ['$plate', '%24plate'],
    ['50%', '50%25'],
    ['0101234567-001', '0101234567-001'],
  ])('encodes %s as %s', (id, key) => {
    expect(sectionKey(id)).toBe(key);
  });

  it('keeps ids that differ apart, even an id that looks encoded already', () => {
    const ids = ['a.b', 'a%2Eb', 'a%252Eb', 'a$b', 'a%24b'];
    const keys = ids.map(sectionKey);
    expect(new Set(keys).size).toBe(ids.length);
    // Decoding percent escapes gives every id back.
    expect(keys.map((k) => decodeURIComponent(k))).toEqual(ids);
    for (const k of keys) expect(k).not.toMatch(/[.$]/);
  });
});

describe('versionKey', () => {
  it('pads the version to 12 digits behind a v', () => {
    expect(versionKey(1)).toBe('v000000000001');
    expect(versionKey(42)).toBe('v000000000042');
    expect(versionKey(123_456_789_012)).toBe('v123456789012');
  });

  it('sorts as text the way versions sort as numbers', () => {
    const versions = [10, 2, 100, 9, 1];
    expect(versions.map(versionKey).sort()).toEqual([1, 2, 9, 10, 100].map(versionKey));
  });
});

describe('withDerived', () => {
  const doc: ViewDoc = { _id: 'x', identity: { citizenId: 'x', birthYear: 1989, at: new Date(5) } };

  it('returns the same document when the value is equal, dates by their time', () => {
    expect(withDerived(doc, 'identity', { citizenId: 'x', birthYear: 1989, at: new Date(5) })).toBe(doc);
  });

  it('replaces the value when a field differs, is missing or is added', () => {
    expect(withDerived(doc, 'identity', { citizenId: 'x', birthYear: 1990, at: new Date(5) })).toEqual({
      _id: 'x',
      identity: { citizenId: 'x', birthYear: 1990, at: new Date(5) },
    });
    expect(withDerived(doc, 'identity', { citizenId: 'x', birthYear: 1989 })).not.toBe(doc);
    expect(withDerived(doc, 'identity', { citizenId: 'x', birthYear: 1989, at: new Date(5), y: 1 })).not.toBe(
      doc,
    );
  });

  it('adds the value to a document that has none', () => {
    expect(withDerived({ _id: 'y' }, 'identity', { citizenId: 'y' })).toEqual({
      _id: 'y',
      identity: { citizenId: 'y' },
    });
  });
});

describe('changedPaths', () => {
  const s1 = sourced(taxpayerRegistered, { offset: 0 }).source;
  const s2 = sourced(debt, { offset: 1 }).source;
  const plateKey = sectionKey(STORY.plate);
  const before: ViewDoc = {
    _id: STORY.enterprise,
    registration: { name: 'A', source: s1 },
    tax: { [STORY.enterprise]: { debt: '0', source: s1 } },
  };

  it('given no change, is empty', () => {
    expect(changedPaths(before, before)).toEqual({});
    expect(changedPaths(before, { ...before })).toEqual({});
  });

  it('never sets _id', () => {
    expect(changedPaths(null, { _id: 'x' })).toEqual({});
  });

  it('sets only the section that changed, whole, at its dotted path', () => {
    const section = { debt: '125000000', source: s2 };
    const after: ViewDoc = { ...before, tax: { [STORY.enterprise]: section } };
    expect(changedPaths(before, after)).toEqual({ [`tax.${STORY.enterprise}`]: section });
  });

  it('sets each entry of a new container, not the container, so sibling sections written meanwhile survive', () => {
    const entry = { plate: STORY.plate, ownership: 'CURRENT', source: s2 };
    const after: ViewDoc = { ...before, vehicles: { [plateKey]: entry } };
    expect(changedPaths(before, after)).toEqual({ 'vehicles.29A-123%2E45': entry });
    expect(changedPaths(null, after)).toEqual({
      registration: before.registration,
      [`tax.${STORY.enterprise}`]: (before.tax as Record<string, unknown>)[STORY.enterprise],
      'vehicles.29A-123%2E45': entry,
    });
  });

  it('walks a plain derived value field by field, and skips dates of equal time', () => {
    const a: ViewDoc = { _id: 'x', identity: { citizenId: 'x', sex: 'male', at: new Date(1) } };
    const b: ViewDoc = { _id: 'x', identity: { citizenId: 'x', sex: 'female', at: new Date(1) } };
    expect(changedPaths(a, b)).toEqual({ 'identity.sex': 'female' });
  });

  it('sets a top-level date or array whole', () => {
    const a: ViewDoc = { _id: 'x', when: new Date(1), list: [1] };
    expect(changedPaths(a, { _id: 'x', when: new Date(2), list: [1, 2] })).toEqual({
      when: new Date(2),
      list: [1, 2],
    });
  });
});
