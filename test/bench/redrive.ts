/**
 * `npm run bench:redrive [-- --letters N]`: the redrive throughput. Fills a scratch dead-letter
 * topic with N dead letters (1 KiB values, pointing at a scratch domain topic), then runs the
 * operators' own command, `npm run dlq -- redrive`, on it and prints what it printed, records/s
 * included. Runs as the operator: the variables `npm run stack:up` prints.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { entryArgs, prepareRun } from '../../deploy/local/service-entry';
import { stackConfig } from '../../deploy/local/stack';
import { loadConfig, KafkaEnv } from '../../services/platform/config';
import { ACKS_ALL, createKafka, createProducer, withAdmin } from '../../services/platform/kafka';
import { kafkaConnection } from '../../services/platform/kafka-security';
import { createLogger } from '../../services/platform/logger';
import { redriveLogTopicDeclaration } from '../../services/platform/redrive-log';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { DEAD_LETTER_HEADERS, deadLetterTopicDeclaration } from '../../services/sharing/dead-letters';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { letters: { type: 'string', default: '20000' } } });
  const letters = Number(values.letters);
  const config = loadConfig(KafkaEnv);
  const connection = kafkaConnection(config);
  const logger = createLogger({ name: 'bench-redrive', level: 'warn' });
  const run = `bench-redrive-${randomUUID().slice(0, 8)}`;
  const topics = { domain: `${run}-tax`, deadLetter: `${run}-dead-letter`, log: `${run}-redrive-log` };
  await withAdmin(connection, 'bench-redrive', (admin) =>
    ensurePolicyTopics(admin, [
      { topic: topics.domain, kind: 'domain', numPartitions: 6 },
      deadLetterTopicDeclaration(topics.deadLetter),
      redriveLogTopicDeclaration(topics.log),
    ]),
  );
  const producer = createProducer(createKafka({ ...connection, clientId: 'bench-redrive', logger }));
  await producer.connect();
  const started = Date.now();
  for (let i = 0; i < letters; i += 500) {
    const n = Math.min(500, letters - i);
    await producer.sendBatch({
      acks: ACKS_ALL,
      topicMessages: [
        {
          topic: topics.deadLetter,
          messages: Array.from({ length: n }, (_, j) => ({
            key: `0100${String(i + j).padStart(6, '0')}`,
            value: randomBytes(1_024),
            headers: {
              traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
              [DEAD_LETTER_HEADERS.topic]: topics.domain,
              [DEAD_LETTER_HEADERS.partition]: String((i + j) % 6),
              [DEAD_LETTER_HEADERS.offset]: String(i + j),
              [DEAD_LETTER_HEADERS.timestamp]: String(Date.now()),
              [DEAD_LETTER_HEADERS.errorCode]: 'SCHEMA_UNKNOWN',
              [DEAD_LETTER_HEADERS.reason]: 'The registry has had no schema 7 for 300 s',
              [DEAD_LETTER_HEADERS.failedAt]: new Date().toISOString(),
            },
          })),
        },
      ],
    });
  }
  await producer.disconnect();
  process.stdout.write(`bench:redrive: ${letters} dead letters written in ${Date.now() - started} ms\n`);

  // `npm run dlq` as the image runs it: compiled, unless LIENTHONG_RUN=source.
  const mode = stackConfig().LIENTHONG_RUN;
  prepareRun(mode, (line) => process.stderr.write(`${line}\n`));
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, [...entryArgs('services/sharing/dlq-main.ts', mode), 'redrive'], {
      env: { ...process.env, SHARING_DEAD_LETTER_TOPIC: topics.deadLetter, REDRIVE_LOG_TOPIC: topics.log },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', done);
  });
  await withAdmin(connection, 'bench-redrive', (admin) =>
    admin.deleteTopics({ topics: Object.values(topics) }),
  );
  if (code !== 0) throw new Error(`npm run dlq -- redrive exited with ${code}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:redrive failed: ${(err as Error).message}\n`);
  process.exit(1);
});
