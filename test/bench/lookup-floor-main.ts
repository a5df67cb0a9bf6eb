// The floor's entry point (lookup-floor.ts), started by bench:lookup with MONGODB_URI, MONGODB_DB,
// HOST, PORT and LIENTHONG_FLOOR_READS in its environment.
import { MongoClient } from 'mongodb';
import { buildFloor, FLOOR_READS_ENV, type LookupReads } from './lookup-floor';

async function main(): Promise<void> {
  const { MONGODB_URI, MONGODB_DB, HOST, PORT } = process.env;
  const reads = process.env[FLOOR_READS_ENV];
  if (!MONGODB_URI || !MONGODB_DB || !HOST || !PORT || !reads) {
    throw new Error(`lookup-floor-main.ts needs MONGODB_URI, MONGODB_DB, HOST, PORT and ${FLOOR_READS_ENV}`);
  }
  // The driver's defaults (a pool of 100, primary reads), as the lookup service has them.
  const client = new MongoClient(MONGODB_URI, { appName: 'lienthong-bench-floor' });
  await client.connect();
  const app = buildFloor(client.db(MONGODB_DB), JSON.parse(reads) as LookupReads);
  await app.listen({ host: HOST, port: Number(PORT) });
  process.once('SIGTERM', () => {
    void app.close().then(() => client.close());
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`lookup floor failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
