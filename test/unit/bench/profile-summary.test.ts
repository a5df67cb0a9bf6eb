import { originOf, summarize } from '../../bench/profile-summary';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe('originOf', () => {
  it.each([
    [frame('serializeInto', 'file:///w/node_modules/bson/lib/bson.cjs'), 'bson'],
    [
      frame('send', 'file:///w/node_modules/@kafkajs/confluent-schema-registry/dist/x.js'),
      '@kafkajs/confluent-schema-registry',
    ],
    [frame('emit', 'node:events'), 'node'],
    [frame('(garbage collector)', ''), '(garbage collector)'],
    [frame('writeBuffer', ''), '(native)'],
    [frame('canonicalJson', 'file:///w/dist/services/lookup/audit-trail.js'), 'lienthong'],
  ])('%j is %s', (f, origin) => {
    expect(originOf(f)).toBe(origin);
  });
});

describe('summarize', () => {
  it('counts self time per frame and origin, idle left out', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('serializeInto', 'file:///w/node_modules/bson/lib/bson.cjs') },
        { id: 3, callFrame: frame('handler', 'file:///w/services/lookup/app.ts') },
      ],
      samples: [1, 2, 3, 2, 1],
      timeDeltas: [500, 100, 50, 100, 500],
    };
    const { busy, frames, origins } = summarize(profile);
    expect(busy).toBe(250);
    expect(frames.map((f) => f.micros)).toEqual([200, 50]);
    expect(frames[0]?.name).toMatch(/^serializeInto node_modules\/bson/);
    expect(origins).toEqual([
      { origin: 'bson', micros: 200 },
      { origin: 'lienthong', micros: 50 },
    ]);
  });
});
