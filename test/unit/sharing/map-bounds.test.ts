import { boundMaps, MAP_BOUNDS } from '../../../services/sharing/map-bounds';
import { removedPaths, type ViewDoc } from '../../../services/sharing/projection';

const at = (day: number) => new Date(Date.UTC(2026, 0, day));

describe('boundMaps', () => {
  const history = (days: readonly number[]) =>
    Object.fromEntries(days.map((d) => [`R@v${String(d).padStart(12, '0')}`, { event: 'X', at: at(d) }]));

  it('returns the document itself while every map is within its bound', () => {
    const doc: ViewDoc = { _id: 'p', history: history([1, 2, 3]) };
    expect(boundMaps('vehicles', doc, { ...MAP_BOUNDS, vehicles: { history: 3 } })).toEqual({
      doc,
      archived: [],
    });
    expect(boundMaps('vehicles', doc, { ...MAP_BOUNDS, vehicles: { history: 3 } }).doc).toBe(doc);
  });

  it('moves the oldest entries by their own time out of a map past its bound, whatever their keys', () => {
    // Keys sort 1, 2, 3, 4, but entry 4 is the oldest.
    const doc: ViewDoc = { _id: 'p', registration: { source: {} }, history: history([5, 2, 9, 1]) };
    const { doc: bounded, archived } = boundMaps('vehicles', doc, {
      ...MAP_BOUNDS,
      vehicles: { history: 2 },
    });
    expect(Object.values(bounded.history as object).map((e: { at: Date }) => e.at)).toEqual([at(5), at(9)]);
    expect(bounded.registration).toBe(doc.registration);
    expect(archived).toEqual([
      {
        _id: JSON.stringify(['p', 'history', 'R@v000000000001']),
        docId: 'p',
        map: 'history',
        key: 'R@v000000000001',
        entry: { event: 'X', at: at(1) },
      },
      {
        _id: JSON.stringify(['p', 'history', 'R@v000000000002']),
        docId: 'p',
        map: 'history',
        key: 'R@v000000000002',
        entry: { event: 'X', at: at(2) },
      },
    ]);
  });

  it("moves a party's closed dossiers out before its open ones, however old", () => {
    const doc: ViewDoc = {
      _id: 'c',
      dossiers: {
        a: { open: true, receivedAt: at(1) },
        b: { open: false, statusChangedAt: at(20) },
        c: { open: true, receivedAt: at(2) },
      },
    };
    const { doc: bounded, archived } = boundMaps('citizens', doc, {
      ...MAP_BOUNDS,
      citizens: { dossiers: 2 },
    });
    expect(Object.keys(bounded.dossiers as object).sort()).toEqual(['a', 'c']);
    expect(archived.map((a) => a.key)).toEqual(['b']);
  });

  it('documents a bound for each growing map', () => {
    expect(MAP_BOUNDS).toEqual({
      citizens: { dossiers: 200 },
      enterprises: { dossiers: 200 },
      vehicles: { history: 100 },
      dossiers: { timeline: 100 },
    });
  });
});

describe('removedPaths', () => {
  it("lists the entries of containers that are gone, not a section's own fields", () => {
    const before: ViewDoc = {
      _id: 'x',
      history: { a: { event: 'X', source: {} }, b: { event: 'Y', source: {} } },
      registration: { owner: 'o', status: 's', source: {} },
      vehicles: { inner: { k: { source: {} } } },
    };
    const after: ViewDoc = {
      _id: 'x',
      history: { b: { event: 'Y', source: {} } },
      registration: { owner: 'o', source: {} },
      vehicles: { inner: {} },
    };
    expect(removedPaths(before, after).sort()).toEqual(['history.a', 'vehicles.inner.k']);
    expect(removedPaths(null, after)).toEqual([]);
  });
});
