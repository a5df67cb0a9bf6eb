import { BSON } from 'mongodb';
import { createDocumentCache } from '../../../services/sharing/document-cache';
import { materialize } from '../../../services/sharing/materializer';
import { type ViewDoc, type ViewName } from '../../../services/sharing/projection';
import { type ViewStore } from '../../../services/sharing/view-store';
import { generateEventStream } from '../../support/event-stream';
import { deliver } from './events';
import { createMemoryViewStore, deepCopy } from './memory-view-store';
import { storyEvents } from './story';

const doc = (id: string, n = 0): ViewDoc => ({ _id: id, n }) as unknown as ViewDoc;
/** Each document costs 100 bytes with the fixed cost of an entry (64). */
const hundred = () => 36;

describe('createDocumentCache', () => {
  it('answers what it was told, absence included, and undefined for what it was not', () => {
    const cache = createDocumentCache(1_000, hundred);
    cache.set('citizens', 'a', doc('a'));
    cache.set('citizens', 'b', null);
    expect(cache.get('citizens', 'a')).toEqual(doc('a'));
    expect(cache.get('citizens', 'b')).toBeNull();
    expect(cache.get('citizens', 'c')).toBeUndefined();
    // The same id in another collection is another document.
    expect(cache.get('citizens_shadow', 'a')).toBeUndefined();
    expect(cache.stats).toEqual({ hits: 2, ahead: 0, misses: 2 });
  });

  it('lets the least recently used document go first when its bytes are spent', () => {
    const cache = createDocumentCache(200, hundred);
    cache.set('v', 'a', doc('a'));
    cache.set('v', 'b', doc('b'));
    cache.get('v', 'a');
    cache.set('v', 'c', doc('c'));
    expect(cache.get('v', 'b')).toBeUndefined();
    expect(cache.get('v', 'a')).toEqual(doc('a'));
    expect(cache.get('v', 'c')).toEqual(doc('c'));
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(200);
  });

  it('counts a document by its BSON, and keeps none alone past the budget', () => {
    const cache = createDocumentCache(1_000);
    cache.set('v', 'small', doc('small'));
    expect(cache.bytes).toBe(64 + BSON.calculateObjectSize(doc('small')));
    cache.set('v', 'large', { _id: 'large', text: 'x'.repeat(2_000) } as unknown as ViewDoc);
    expect(cache.get('v', 'large')).toBeUndefined();
    expect(cache.get('v', 'small')).toEqual(doc('small'));
  });

  it('counts a document read ahead under ahead at its first read only, and knows without counting', () => {
    const cache = createDocumentCache(1_000, hundred);
    cache.set('v', 'a', doc('a'), true);
    cache.set('v', 'b', null, true);
    expect(cache.knows('v', 'a')).toBe(true);
    expect(cache.knows('v', 'c')).toBe(false);
    expect(cache.stats).toEqual({ hits: 0, ahead: 0, misses: 0 });
    expect(cache.get('v', 'a')).toEqual(doc('a'));
    expect(cache.get('v', 'b')).toBeNull();
    expect(cache.get('v', 'a')).toEqual(doc('a'));
    expect(cache.stats).toEqual({ hits: 1, ahead: 2, misses: 0 });
  });

  it('counts its clears, so that a read begun before one can tell', () => {
    const cache = createDocumentCache(1_000, hundred);
    const at = cache.generation;
    cache.set('v', 'a', doc('a'));
    expect(cache.generation).toBe(at);
    cache.clear();
    expect(cache.generation).toBe(at + 1);
  });

  it('keeps the newest state of a document told twice, and nothing after clear or with no room', () => {
    const cache = createDocumentCache(500, hundred);
    cache.set('v', 'a', doc('a', 1));
    cache.set('v', 'a', doc('a', 2));
    expect(cache.get('v', 'a')).toEqual(doc('a', 2));
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.get('v', 'a')).toBeUndefined();
    const none = createDocumentCache(0, hundred);
    none.set('v', 'a', doc('a'));
    expect(none.size).toBe(0);
  });
});

/** Freezes a document and everything in it, so that a change in place throws (modules are strict). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * A store that answers reads from the documents it was last given or answered, frozen, as the
 * writer's cache shares them with the rounds that follow; `reads` counts what reached `inner`.
 */
function sharingStore(inner: ViewStore): ViewStore & { reads: number } {
  const known = new Map<string, ViewDoc | null>();
  const store = {
    reads: 0,
    async load(view: ViewName, ids: readonly string[]) {
      const found = new Map<string, ViewDoc>();
      const missing = ids.filter((id) => !known.has(`${view}/${id}`));
      store.reads += missing.length;
      const read = await inner.load(view, missing);
      for (const id of missing) known.set(`${view}/${id}`, deepFreeze(read.get(id) ?? null));
      for (const id of ids) {
        const doc = known.get(`${view}/${id}`);
        if (doc) found.set(id, doc);
      }
      return found;
    },
    async write(view: ViewName, changes: Parameters<ViewStore['write']>[1]) {
      const count = await inner.write(view, changes);
      for (const { after } of changes) known.set(`${view}/${after._id}`, deepFreeze(after));
      return count;
    },
    archive: inner.archive.bind(inner),
  };
  return store;
}

describe('the views with documents shared across rounds', () => {
  // The cache hands a round the very objects an earlier round wrote: that is sound only if no
  // projection changes a document in place. Frozen documents make any such change throw, which
  // would show as PROJECTION_FAILED outcomes and views that differ.
  it.each([
    // The last column: the most reads the shared documents may make, as a share of fresh rounds'.
    // The story has every event type; the generated stream, documents read again in later rounds.
    ['the story, 1 event a round', deliver(storyEvents().story), 1, 1],
    [
      '4,000 generated events, 100 a round',
      deliver(generateEventStream(4_000).map((e) => e.event)),
      100,
      0.8,
    ],
  ])('%s: the same views and outcomes as reading every document afresh', async (_, events, size, share) => {
    const plain = createMemoryViewStore();
    const shared = createMemoryViewStore();
    const cached = sharingStore(shared);
    let plainReads = 0;
    const counted: ViewStore = {
      ...plain,
      load: (view, ids) => {
        plainReads += new Set(ids).size;
        return plain.load(view, ids);
      },
    };
    for (let i = 0; i < events.length; i += size) {
      const batch = events.slice(i, i + size);
      const [a, b] = [await materialize(batch, counted), await materialize(batch, cached)];
      expect(b.outcomes).toEqual(a.outcomes);
      expect(b.outcomes.filter((o) => typeof o === 'object')).toEqual([]);
    }
    expect(deepCopy(shared.snapshot())).toEqual(deepCopy(plain.snapshot()));
    expect(cached.reads).toBeLessThanOrEqual(plainReads * share);
  });
});
