import { join } from 'node:path';
import { type Db } from 'mongodb';
import { LocalFerretDb } from '../../deploy/local/local-ferretdb';
import { createLogger, createMongoClient } from '../../services/platform';
import { freePort, scratchDir } from '../support/fixtures';

/** A store of its own, so that restarting it leaves the store the other files share alone. */
describe('a store restart', () => {
  const scratch = scratchDir('store-restart');
  let store: LocalFerretDb;

  beforeAll(async () => {
    store = new LocalFerretDb({
      stateDir: join(scratch.path, 'ferretdb'),
      port: await freePort(),
      progress: () => undefined,
    });
    await store.start();
    await store.waitReady();
  });

  afterAll(async () => {
    await store?.stop();
    scratch.remove();
  });

  const withClient = async <T>(work: (db: Db) => Promise<T>): Promise<T> => {
    const client = createMongoClient({
      uri: store.uri,
      appName: 'it-store-restart',
      logger: createLogger({ name: 'it-store-restart', level: 'silent' }),
    });
    await client.connect();
    try {
      return await work(client.db('restart'));
    } finally {
      await client.close();
    }
  };

  it.each(['stop', 'kill'] as const)('keeps written documents after a %s and restart', async (how) => {
    const docs = Array.from({ length: 100 }, (_, i) => ({ _id: `${how}-${i}`, n: i }));
    await withClient((db) => db.collection<{ _id: string; n: number }>(how).insertMany(docs));

    if (how === 'stop') await store.stop();
    else await store.kill();
    expect(store.pid()).toBeUndefined();
    expect(await store.start()).toBe('started');
    await store.waitReady();

    const after = await withClient((db) =>
      db.collection<{ _id: string; n: number }>(how).find({}).sort({ n: 1 }).toArray(),
    );
    expect(after).toEqual(docs);
  });
});
