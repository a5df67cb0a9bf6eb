// First: telemetry must be running before the modules it instruments are loaded.
import '../platform/telemetry-preload';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TOPIC_NAMES, TOPICS, type TopicName } from '../../schemas/topics';
import { offsetClock } from '../platform/clock';
import { createKafka } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { createLogger } from '../platform/logger';
import { createMongoClient } from '../platform/mongo';
import { changesTopicOf, rebuildConfig } from './config';
import { rebuildViews } from './rebuild';

/**
 * `npm run sharing:rebuild [-- --dry-run]`: replays the topics into new view collections, prints
 * how they compare with the live ones, and (without --dry-run) hands them over to the live sharing
 * service, which it runs beside, with the same configuration. Each step done is printed as
 * `rebuild step: <name>`; `SHARING_REBUILD_HALT_AT` (tests only) stops there until the process is
 * killed.
 */
async function main(): Promise<void> {
  const dryRun = process.argv.includes('--dry-run');
  const config = rebuildConfig();
  const logger = createLogger({
    name: 'sharing-rebuild',
    level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
  });
  const mongo = createMongoClient({ uri: config.MONGODB_URI, appName: 'lienthong-rebuild', logger });
  await mongo.connect();
  let last = 0;
  try {
    const report = await rebuildViews({
      kafka: createKafka({
        ...kafkaConnection(config),
        clientId: 'lienthong-rebuild',
        logger,
      }),
      mongo,
      dbName: config.MONGODB_DB,
      registry: new SchemaRegistry({
        host: config.SCHEMA_REGISTRY_URL,
        auth: { username: config.SCHEMA_REGISTRY_CLIENT_ID, password: config.SCHEMA_REGISTRY_KEY },
      }),
      logger,
      topics: Object.fromEntries(
        TOPIC_NAMES.map((t) => [t, `${config.SHARING_TOPIC_PREFIX}${TOPICS[t].topic}`]),
      ) as Record<TopicName, string>,
      liveGroupId: config.SHARING_GROUP_ID,
      changesTopic: changesTopicOf(config),
      dryRun,
      fenceLeaseMs: config.SHARING_REBUILD_FENCE_MS,
      onStep: async (step) => {
        process.stdout.write(`rebuild step: ${step}\n`);
        if (step !== config.SHARING_REBUILD_HALT_AT) return;
        process.stdout.write(`rebuild halted at: ${step}\n`);
        await new Promise(() => undefined);
      },
      clock: offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger),
      progress: (stage, done, total) => {
        if (Date.now() - last < 2_000 && done < total) return;
        last = Date.now();
        const pct = total === 0 ? 100 : Math.floor((100 * done) / total);
        process.stdout.write(`rebuild: ${stage} ${done}/${total} (${pct}%)\n`);
      },
    });
    process.stdout.write(`rebuild ${report.generation}: ${report.events} events replayed\n`);
    for (const [view, c] of Object.entries(report.comparison)) {
      process.stdout.write(
        `  ${view.padEnd(12)} live ${c.left}, rebuilt ${c.right}; only live ${c.onlyLeft.length}, only rebuilt ${c.onlyRight.length}, different ${c.different.length}\n`,
      );
    }
    process.stdout.write(
      report.swapped
        ? `Swapped in as catalog generation ${report.catalogGeneration}: lookups now read the rebuilt views.\n` +
            `Dropped: ${report.dropped.join(', ') || 'nothing (the live group had not caught up)'}\n`
        : 'Dry run: the live views are unchanged.\n',
    );
  } finally {
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rebuild failed: ${(err as Error).message}\n`);
  process.exit(1);
});
