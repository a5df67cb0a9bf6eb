/**
 * The compose file's one-shot `init`, compiled into the image (`deploy/compose/init.js`), run
 * before any service starts, as the store's root and as the Kafka operator:
 *
 * 1. initiates the one-member replica set named by the bus's connection string, and waits for
 *    its primary;
 * 2. creates the bus's store user from that string (or sets its password again: a new password
 *    file takes effect at the next `docker compose up`);
 * 3. creates every declared topic with its policy, and applies every declared ACL: `busTopics`
 *    and `busGrants`, the declarations the local stack and the Kubernetes base use.
 *
 * Each step is idempotent; each is tried again while the store or the broker is still starting.
 */
import { Type } from '@sinclair/typebox';
import { MongoClient, MongoServerError } from 'mongodb';
import { FROM_FILE_KEYWORD, KafkaEnv, loadConfig, MongoEnv } from '../../services/platform/config';
import { kafkaConnection } from '../../services/platform/kafka-security';
import {
  busGrants,
  busTopics,
  type KafkaConnection,
  reconcileAclsOn,
  reconcileTopicsOn,
} from '../local/topics';
import { MONGODB_DB, REGISTRY_TOPIC } from '../workloads';

const InitEnv = Type.Object({
  ...KafkaEnv.properties,
  /** The root's connection string, straight to the member (`MONGODB_URI_FILE`). */
  MONGODB_URI: MongoEnv.properties.MONGODB_URI,
  /** The bus's connection string, whose user and replica set this creates. */
  MONGODB_BUS_URI: Type.String({
    pattern: String.raw`^mongodb://\S+$`,
    hint: 'MONGODB_BUS_URI must be the mongodb:// connection string the services use',
    [FROM_FILE_KEYWORD]: true,
  }),
});

/** NotYetInitialized: `replSetGetStatus` on a member of a set nobody has initiated. */
const NOT_YET_INITIALIZED = 94;

/** What the bus's connection string says of the user and the set. */
export interface BusStore {
  user: string;
  password: string;
  /** `host:port` of the one member, as the services reach it. */
  member: string;
  replicaSet: string;
}

/** Reads the user, the member and the replica set from the bus's connection string. */
export function busStoreOf(uri: string): BusStore {
  const url = new URL(uri);
  const replicaSet = url.searchParams.get('replicaSet');
  if (!url.username || !url.password || !replicaSet)
    throw new Error('MONGODB_BUS_URI must name a user, a password and a replicaSet');
  return {
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    member: url.host,
    replicaSet,
  };
}

type Log = (line: string) => void;

/** Runs `step` until it succeeds or `attempts` have failed, `pauseMs` apart. */
async function retried<T>(what: string, log: Log, step: () => Promise<T>, attempts = 60, pauseMs = 2_000) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= attempts) throw err;
      log(`${what}: ${(err as Error).message}; trying again (${attempt}/${attempts})`);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** Steps 1 and 2: the replica set and the bus's user. */
export async function initStore(rootUri: string, bus: BusStore, log: Log): Promise<void> {
  const client = new MongoClient(rootUri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const admin = client.db('admin');
    await retried('replica set', log, async () => {
      try {
        await admin.command({ replSetGetStatus: 1 });
      } catch (err) {
        if (!(err instanceof MongoServerError) || err.code !== NOT_YET_INITIALIZED) throw err;
        await admin.command({
          replSetInitiate: { _id: bus.replicaSet, members: [{ _id: 0, host: bus.member }] },
        });
        log(`replica set ${bus.replicaSet} initiated with ${bus.member}`);
      }
      const hello = await admin.command({ hello: 1 });
      if (hello.isWritablePrimary !== true) throw new Error('no primary yet');
    });
    const roles = [
      { role: 'readWrite', db: MONGODB_DB },
      { role: 'dbAdmin', db: MONGODB_DB },
    ];
    const found = (await admin.command({ usersInfo: bus.user })) as { users: unknown[] };
    if (found.users.length === 0) {
      await admin.command({ createUser: bus.user, pwd: bus.password, roles });
      log(`store user ${bus.user} created`);
    } else {
      await admin.command({ updateUser: bus.user, pwd: bus.password, roles });
      log(`store user ${bus.user}: password and roles set`);
    }
  } finally {
    await client.close();
  }
}

/** Step 3: the declared topics and ACLs, as the operator. */
export async function initKafka(operator: KafkaConnection, log: Log): Promise<void> {
  const topics = await retried('topics', log, () =>
    reconcileTopicsOn(operator, busTopics(REGISTRY_TOPIC), { apply: true, progress: log }),
  );
  if (topics.drifted > 0) throw new Error(`${topics.drifted} topic settings differ from the policy`);
  const missing = await retried('ACLs', log, () =>
    reconcileAclsOn(operator, busGrants(REGISTRY_TOPIC), { apply: true, progress: log }),
  );
  if (missing > 0) throw new Error(`${missing} declared ACLs are missing`);
}

async function main(): Promise<void> {
  const config = loadConfig(InitEnv);
  const log: Log = (line) => process.stdout.write(`init: ${line}\n`);
  await initStore(config.MONGODB_URI, busStoreOf(config.MONGODB_BUS_URI), log);
  await initKafka(kafkaConnection(config), log);
  log('done');
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`init: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
