/**
 * What sending each partition on its own costs: the renewing producer (one kafkajs send per
 * partition, side by side) against one kafkajs `sendBatch` for the same records over every
 * partition, which kafkajs can write twice when a leader fails (`test/faults/multi-broker-send.test.ts`).
 * Both write the same batches, one batch at a time as the connectors' publisher does, to a scratch
 * topic of the connectors' partition count on the local stack, in alternating rounds, so that a busy
 * machine weighs on both alike. It prints each round, the medians and their ratio, and asserts
 * nothing. Run with `npm run bench:partition-sends` (`-- --quick`: rounds of 3 s).
 */
import { performance } from 'node:perf_hooks';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { createKeyPartitioner } from '../../services/platform/key-partitioner';
import { KafkaEnv, loadConfig } from '../../services/platform/config';
import {
  ACKS_ALL,
  createKafka,
  createProducer,
  createRenewingProducer,
  ensureTopics,
  withAdmin,
} from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { createLogger } from '../../services/platform/logger';
import { median } from './connector-process';
import { ownUsage } from './process-usage';
import { figure, writeBenchResult } from './report-format';

const quick = process.argv.includes('--quick');
const ROUNDS = 5;
const SECONDS = quick ? 3 : 8;
/** Records a send, as the publisher's batches under load; about 700 bytes each, as a tax event. */
const BATCH_SIZES = [100, 500] as const;
const VALUE = Buffer.alloc(700, 'x');

const log = (line: string): void => {
  process.stderr.write(`[bench:partition-sends] ${line}\n`);
};

async function main(): Promise<void> {
  const stack = new LocalStack(stackConfig(), log);
  log('bringing the local stack up');
  await stack.up();
  const connection = kafkaConnection(loadConfig(KafkaEnv, stack.kafkaEnv(OPERATOR_PRINCIPAL)));
  const topic = `bench.partition-sends.${Date.now()}`;
  await withAdmin(connection, 'bench-partition-sends-admin', (admin) =>
    ensureTopics(admin, [{ topic, numPartitions: DOMAIN_TOPIC_PARTITIONS }]),
  );
  const logger = createLogger({ name: 'bench-partition-sends', level: 'warn' });
  const kafka = createKafka({ ...connection, clientId: 'bench-partition-sends', logger });
  const renewing = createRenewingProducer(kafka, { logger });
  const single = createProducer(kafka);
  await renewing.connect();
  await single.connect();
  const partitionFor = createKeyPartitioner();
  let next = 0;
  const batchOf = (size: number) => ({
    acks: ACKS_ALL,
    topicMessages: [
      {
        topic,
        messages: Array.from({ length: size }, () => {
          const key = `record-${(next += 1)}`;
          return { key, value: VALUE, partition: partitionFor(topic, key, DOMAIN_TOPIC_PARTITIONS) };
        }),
      },
    ],
  });
  const sides = {
    'per partition (renewing producer)': (size: number) => renewing.sendBatch(batchOf(size)),
    'one sendBatch over all partitions': (size: number) => single.sendBatch(batchOf(size)),
  } as const;
  type Side = keyof typeof sides;

  /** Records acknowledged per second, sending one batch at a time for `SECONDS`. */
  const round = async (side: Side, size: number): Promise<number> => {
    const end = performance.now() + SECONDS * 1000;
    const began = performance.now();
    let acknowledged = 0;
    while (performance.now() < end) {
      await sides[side](size);
      acknowledged += size;
    }
    return (acknowledged * 1000) / (performance.now() - began);
  };

  const figures = [];
  try {
    for (const size of BATCH_SIZES) {
      const rates: Record<Side, number[]> = {
        'per partition (renewing producer)': [],
        'one sendBatch over all partitions': [],
      };
      await round('per partition (renewing producer)', size); // warm-up
      for (let r = 0; r < ROUNDS; r += 1) {
        // Alternate which side goes first, so neither always follows the other.
        const order: Side[] = Object.keys(sides) as Side[];
        if (r % 2 === 1) order.reverse();
        for (const side of order) {
          const rate = await round(side, size);
          rates[side].push(rate);
          log(`batches of ${size}, round ${r + 1}/${ROUNDS}: ${side} ${Math.round(rate)} records/s`);
        }
      }
      const split = median(rates['per partition (renewing producer)']);
      const whole = median(rates['one sendBatch over all partitions']);
      process.stdout.write(
        `batches of ${size} over ${DOMAIN_TOPIC_PARTITIONS} partitions, one at a time, acks=all, median of ${ROUNDS}: ` +
          `per partition ${Math.round(split)} records/s, one sendBatch ${Math.round(whole)} records/s, ` +
          `ratio ${(split / whole).toFixed(2)}\n`,
      );
      figures.push(
        figure(`per-partition sends, batches of ${size} (median of ${ROUNDS})`, split, 'records/s'),
        figure(`one sendBatch, batches of ${size} (median of ${ROUNDS})`, whole, 'records/s'),
        figure(`per-partition against one sendBatch, batches of ${size}`, (split / whole) * 100, '%'),
      );
    }
    writeBenchResult({
      bench: 'partition-sends',
      mode: quick ? 'quick' : 'full',
      parameters: { rounds: ROUNDS, seconds: SECONDS, partitions: DOMAIN_TOPIC_PARTITIONS },
      figures,
      processes: [ownUsage('bench:partition-sends (both producers)')],
      notes: [],
    });
  } finally {
    await renewing.disconnect();
    await single.disconnect();
    await withAdmin(connection, 'bench-partition-sends-admin', (admin) =>
      admin.deleteTopics({ topics: [topic] }),
    ).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
