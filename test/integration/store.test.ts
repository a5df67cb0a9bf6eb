import { type Collection, type Db, type MongoClient, MongoServerError } from 'mongodb';
import { createLogger, createMongoClient } from '../../services/platform';
import { endpoint, uniqueName } from '../support/fixtures';

interface Citizen {
  _id: string;
  name: string;
  district: string;
  version: number;
}

describe('the MongoDB-wire store', () => {
  let client: MongoClient;
  let db: Db;
  let citizens: Collection<Citizen>;

  beforeAll(async () => {
    client = createMongoClient({
      uri: endpoint('MONGODB_URI'),
      appName: 'it-store',
      logger: createLogger({ name: 'it-store', level: 'silent' }),
    });
    await client.connect();
    db = client.db(uniqueName('it_store').replace('-', '_'));
    citizens = db.collection<Citizen>('citizens');
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  it('answers ping', async () => {
    await expect(db.command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('inserts and finds by equality', async () => {
    await citizens.insertOne({ _id: 'c1', name: 'Nguyễn Văn An', district: 'Long Biên', version: 1 });
    await expect(citizens.findOne({ _id: 'c1' })).resolves.toEqual({
      _id: 'c1',
      name: 'Nguyễn Văn An',
      district: 'Long Biên',
      version: 1,
    });
    await expect(citizens.find({ district: 'Tây Hồ' }).toArray()).resolves.toEqual([]);
  });

  it('upserts: inserts a missing document, then updates it in place', async () => {
    const first = await citizens.updateOne(
      { _id: 'c2' },
      { $set: { name: 'Trần Thị Bình', district: 'Tây Hồ', version: 1 } },
      { upsert: true },
    );
    expect(first.upsertedCount).toBe(1);
    const second = await citizens.updateOne(
      { _id: 'c2' },
      { $set: { district: 'Từ Liêm', version: 2 } },
      { upsert: true },
    );
    expect(second).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    await expect(citizens.findOne({ _id: 'c2' })).resolves.toMatchObject({ district: 'Từ Liêm', version: 2 });
  });

  it('sets and unsets nested paths in one update, and replaces by upsert in a bulkWrite', async () => {
    const docs = db.collection<{ _id: string; history?: Record<string, unknown> }>('nested');
    await docs.updateOne(
      { _id: 'p1' },
      { $set: { 'history.a%2Eb@v1': { n: 1 }, 'history.a%2Eb@v2': { n: 2 } } },
      { upsert: true },
    );
    await docs.updateOne(
      { _id: 'p1' },
      { $set: { 'history.a%2Eb@v3': { n: 3 } }, $unset: { 'history.a%2Eb@v1': '' } },
      { upsert: true },
    );
    await expect(docs.findOne({ _id: 'p1' })).resolves.toEqual({
      _id: 'p1',
      history: { 'a%2Eb@v2': { n: 2 }, 'a%2Eb@v3': { n: 3 } },
    });
    const archive = db.collection<{ _id: string; n: number }>('nested_archive');
    // The replacement holds its `_id`, as the sharing service's archive writes do.
    const entry = { _id: '["p1","history","a"]', n: 1 };
    for (let i = 0; i < 2; i += 1) {
      await archive.bulkWrite(
        [
          {
            replaceOne: {
              filter: { _id: '["p1","history","a"]' },
              replacement: entry,
              upsert: true,
            },
          },
        ],
        { ordered: false },
      );
    }
    await expect(archive.find({}).toArray()).resolves.toEqual([{ _id: '["p1","history","a"]', n: 1 }]);
  });

  it('runs an unordered bulkWrite past a failing operation', async () => {
    await citizens.insertOne({ _id: 'c3', name: 'Lê Văn Cường', district: 'Thạch Thất', version: 1 });
    const error = await citizens
      .bulkWrite(
        [
          { insertOne: { document: { _id: 'c3', name: 'duplicate', district: 'Chương Mỹ', version: 1 } } },
          {
            insertOne: { document: { _id: 'c4', name: 'Phạm Thị Dung', district: 'Chương Mỹ', version: 1 } },
          },
          {
            updateOne: {
              filter: { _id: 'c5' },
              update: { $set: { name: 'Hoàng Văn Em', district: 'Long Biên', version: 1 } },
              upsert: true,
            },
          },
        ],
        { ordered: false },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // The duplicate fails with E11000, and the operations after it still ran.
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    await expect(citizens.countDocuments({ _id: { $in: ['c3', 'c4', 'c5'] } })).resolves.toBe(3);
    await expect(citizens.findOne({ _id: 'c3' })).resolves.toMatchObject({ name: 'Lê Văn Cường' });
  });

  it('refuses a duplicate under a unique index', async () => {
    const plates = db.collection<{ plate: string; owner: string }>('vehicles');
    await plates.createIndex({ plate: 1 }, { unique: true });
    await plates.insertOne({ plate: '29A-123.45', owner: 'c1' });
    await expect(plates.insertOne({ plate: '29A-123.45', owner: 'c2' })).rejects.toMatchObject({
      code: 11000,
    });
    await expect(plates.countDocuments({ plate: '29A-123.45' })).resolves.toBe(1);
  });
  it('lets one of concurrent inserts of one numeric `_id` win, and finds the newest by sort and limit', async () => {
    // The view catalog's generations: each number is claimed by the one insert the store accepts.
    const generations = db.collection<{ _id: number; by: string }>('view_generations');
    await generations.insertOne({ _id: 1, by: 'first' });
    const claims = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => generations.insertOne({ _id: 2, by: `writer ${i}` })),
    );
    expect(claims.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
    for (const c of claims) if (c.status === 'rejected') expect(c.reason).toMatchObject({ code: 11000 });
    const [newest] = await generations.find({}).sort({ _id: -1 }).limit(1).toArray();
    expect(newest?._id).toBe(2);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).toContain('view_generations');
    await expect(generations.drop()).resolves.toBe(true);
  });

  it('stops an ordered insertMany at a taken `_id`, telling how many went in before it', async () => {
    // The audit trail keeps the records before a conflict with another instance as written.
    const chain = db.collection<{ _id: string; n: number }>('ordered_chain');
    await chain.insertOne({ _id: '003', n: 0 });
    const error = await chain
      .insertMany(
        ['001', '002', '003', '004'].map((_id, n) => ({ _id, n })),
        { ordered: true },
      )
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 11000, insertedCount: 2 });
    await expect(chain.countDocuments({})).resolves.toBe(3);
    // A lease's term is given up by deleting its document by `_id`.
    await expect(chain.deleteOne({ _id: '001', n: 0 })).resolves.toMatchObject({ deletedCount: 1 });
    await expect(chain.deleteOne({ _id: '002', n: 0 })).resolves.toMatchObject({ deletedCount: 0 });
  });
});
