import { type CommandStartedEvent, MongoClient } from 'mongodb';
import { createDocumentCache } from '../../../services/sharing/document-cache';
import { type ViewDoc } from '../../../services/sharing/projection';
import { createViewStore } from '../../../services/sharing/view-store';
import { endpoint } from '../../support/fixtures';

/**
 * The writer's cache against the real store: what the store acknowledged, or answered as absent,
 * is not read again; a write command the store refuses empties it, since the store may have taken
 * part of the command.
 */
const commands: CommandStartedEvent[] = [];
let client: MongoClient;
const dbName = `view_store_cache_${Date.now()}`;
const collections = {
  citizens: 'citizens',
  enterprises: 'enterprises',
  vehicles: 'vehicles',
  dossiers: 'dossiers',
};

beforeAll(async () => {
  client = new MongoClient(endpoint('MONGODB_URI'), {
    monitorCommands: true,
    serverSelectionTimeoutMS: 2_000,
  });
  client.on('commandStarted', (event) => commands.push(event));
  await client.connect();
});

afterAll(async () => {
  await client.db(dbName).dropDatabase();
  await client.close();
});

const finds = () => commands.filter((c) => c.commandName === 'find').length;
const citizen = (id: string, name: string) => ({ _id: id, identity: { name } }) as unknown as ViewDoc;

it('reads only what it does not know, and again after a refused write', async () => {
  const cache = createDocumentCache(1_048_576);
  const store = createViewStore(client.db(dbName), collections, undefined, { cache });
  const a = citizen('001090000001', 'Nguyễn Văn A');
  const b = citizen('001090000002', 'Trần Thị B');
  await store.write('citizens', [
    { before: null, after: a },
    { before: null, after: b },
  ]);

  commands.length = 0;
  const known = await store.load('citizens', [a._id, b._id, '001090000003']);
  expect([...known.values()]).toEqual([a, b]);
  expect(finds()).toBe(1); // the absent one only
  expect(await store.load('citizens', ['001090000003'])).toEqual(new Map());
  expect(finds()).toBe(1);

  // A field name the store refuses fails the command: the cache no longer answers.
  const refused = { ...a, identity: { $name: 'x' } } as unknown as ViewDoc;
  await expect(store.write('citizens', [{ before: a, after: refused }])).rejects.toThrow();
  expect(cache.size).toBe(0);
  commands.length = 0;
  const reread = await store.load('citizens', [a._id, b._id]);
  expect(finds()).toBe(2);
  expect(reread.get(a._id)).toEqual(a);

  // What another writer put in the store is seen once the cache is emptied, as at a group join.
  const changed = citizen(a._id, 'Nguyễn Văn An');
  await createViewStore(client.db(dbName), collections).write('citizens', [{ before: a, after: changed }]);
  expect((await store.load('citizens', [a._id])).get(a._id)).toEqual(a);
  cache.clear();
  expect((await store.load('citizens', [a._id])).get(a._id)).toEqual(changed);
});

it('reads ahead only what it does not know, and keeps nothing it read across a clear', async () => {
  const cache = createDocumentCache(1_048_576);
  const store = createViewStore(client.db(dbName), collections, undefined, { cache });
  const [c, d] = [citizen('001090000011', 'Lê Văn C'), citizen('001090000012', 'Phạm Thị D')];
  await createViewStore(client.db(dbName), collections).write('citizens', [
    { before: null, after: c },
    { before: null, after: d },
  ]);
  await store.load('citizens', [c._id]);

  commands.length = 0;
  await store.readAhead?.('citizens', [c._id, d._id, '001090000013']);
  // The one it knew is not read again; the absent one is known as absent.
  expect(finds()).toBe(2);
  commands.length = 0;
  const loaded = await store.load('citizens', [c._id, d._id, '001090000013']);
  expect(finds()).toBe(0);
  expect([...loaded.values()]).toEqual([c, d]);
  expect(cache.stats).toMatchObject({ ahead: 2 });

  // A clear while the reads are under way, as at a group join: what they bring is not kept.
  cache.clear();
  const reading = store.readAhead?.('citizens', [c._id, d._id]);
  cache.clear();
  await reading;
  expect(cache.size).toBe(0);
});

it('reads ahead without ever failing: a store it cannot reach leaves the reads to the round', async () => {
  const closed = new MongoClient(endpoint('MONGODB_URI'), { serverSelectionTimeoutMS: 500 });
  await closed.connect();
  await closed.close();
  const cache = createDocumentCache(1_048_576);
  const store = createViewStore(closed.db(dbName), collections, undefined, { cache });
  await expect(store.readAhead?.('citizens', ['001090000011'])).resolves.toBeUndefined();
  expect(cache.size).toBe(0);
});
