import { MongoClient } from 'mongodb';
import { MAX_STATEMENTS_PER_BULK_WRITE } from '../../../services/platform/mongo';
import { VIEW_NAMES, type ViewDoc } from '../../../services/sharing/projection';
import { createViewStore, STORE_WRITE_CHUNK } from '../../../services/sharing/view-store';
import { endpoint } from '../../support/fixtures';

/**
 * A round writes its four views at once. On FerretDB 1.24, update commands in flight together in
 * one database with more than 100 statements in all never return, and the database stops answering
 * until a restart; the views' commands are cut so that the four together stay within that.
 */
let client: MongoClient;
const dbName = `view_store_concurrency_${Date.now()}`;
const collections = { citizens: 'c', enterprises: 'e', vehicles: 'v', dossiers: 'd' };
const DOCS = 200;

beforeAll(async () => {
  client = new MongoClient(endpoint('MONGODB_URI'), { serverSelectionTimeoutMS: 2_000 });
  await client.connect();
});

afterAll(async () => {
  await client.db(dbName).dropDatabase();
  await client.close();
});

const doc = (id: number, round: number) =>
  ({
    _id: `doc-${id}`,
    registration: { name: 'x'.repeat(300), round },
    history: { [`h${round}`]: { note: 'y'.repeat(400), round } },
  }) as unknown as ViewDoc;

it('rewrites many documents of all four views at once, round after round, and the store still answers', async () => {
  expect(STORE_WRITE_CHUNK * VIEW_NAMES.length).toBeLessThanOrEqual(MAX_STATEMENTS_PER_BULK_WRITE);
  const db = client.db(dbName);
  const store = createViewStore(db, collections);
  const ids = Array.from({ length: DOCS }, (_, i) => i);
  // The first round inserts; the next ones rewrite existing documents, which is where it stuck.
  for (let round = 0; round < 4; round += 1) {
    const written = await Promise.all(
      VIEW_NAMES.map((view) =>
        store.write(
          view,
          ids.map((i) => ({ before: round === 0 ? null : doc(i, round - 1), after: doc(i, round) })),
        ),
      ),
    );
    expect(written).toEqual(VIEW_NAMES.map(() => DOCS));
  }
  expect(await db.collection('e').findOne({ _id: 'doc-7' } as object)).toMatchObject({
    registration: { round: 3 },
    history: { h3: { round: 3 } },
  });
  const names = (await db.admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
  expect(names).toContain(dbName);
}, 60_000);
