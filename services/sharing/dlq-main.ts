import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Type } from '@sinclair/typebox';
import { TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { offsetClock } from '../platform/clock';
import { ClockEnv, KafkaEnv, loadConfig, LogEnv } from '../platform/config';
import { createKafka, createRenewingProducer } from '../platform/kafka';
import { kafkaConnection } from '../platform/kafka-security';
import { createLogger } from '../platform/logger';
import { REDRIVE_LOG_TOPIC } from '../platform/redrive-log';
import { SharingEnv } from './config';
import {
  DEFAULT_MAX_FAILURES,
  type DeadLetterFilter,
  type DeadLetterView,
  deadLetterKey,
  executeRedrive,
  matchesFilter,
  planRedrive,
  readDeadLetters,
  readRedriven,
} from './redrive';

const USAGE = `usage: npm run dlq -- list|show|redrive [options]
  list                     the dead letters, one a line
  show <offset>            one dead letter, with its headers and failure history
  redrive                  republish the selected dead letters to their topics
options:
  --agency <code>          only this agency's (HN-CUCTHUE...)
  --code <CODE>            only this error code (SCHEMA_UNKNOWN...)
  --since <ISO 8601>       only those dead-lettered at or after this time
  --until <ISO 8601>       only those dead-lettered before this time
  --dry-run                redrive: say what would be done, write nothing
  --max-failures <N>       redrive: hold a dead letter that failed N times (default DLQ_MAX_FAILURES or ${DEFAULT_MAX_FAILURES})
  --batch-size <N>         redrive: records per send (default 500)`;

const DlqEnv = Type.Object({
  ...KafkaEnv.properties,
  ...LogEnv.properties,
  ...ClockEnv.properties,
  SHARING_TOPIC_PREFIX: SharingEnv.properties.SHARING_TOPIC_PREFIX,
  SHARING_DEAD_LETTER_TOPIC: SharingEnv.properties.SHARING_DEAD_LETTER_TOPIC,
  REDRIVE_LOG_TOPIC: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,249}$',
    default: REDRIVE_LOG_TOPIC,
    hint: 'REDRIVE_LOG_TOPIC must be a Kafka topic name',
  }),
  DLQ_MAX_FAILURES: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: DEFAULT_MAX_FAILURES,
    hint: 'DLQ_MAX_FAILURES must be from 1 to 100',
  }),
});

class UsageError extends Error {}

function time(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`${flag} must be an ISO 8601 time, such as 2026-12-02T07:00:00Z`);
  return ms;
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new UsageError(`${flag} must be a positive integer`);
  return Number(value);
}

/** A key is an aggregate id (a plate, a tax code): shown only by its last characters. */
const maskKey = (key: Buffer | null): string => {
  const k = key?.toString('utf8') ?? '';
  return k.length <= 4 ? '*'.repeat(k.length) : `${'*'.repeat(k.length - 4)}${k.slice(-4)}`;
};

function line(l: DeadLetterView, done: ReadonlySet<string>): string {
  const state = done.has(deadLetterKey(l.at)) ? 'redriven' : 'open';
  return [
    l.at.offset.padStart(6),
    l.failedAt.padEnd(24),
    `${l.source.topic}/${l.source.partition}/${l.source.offset}`.padEnd(32),
    (l.agency ?? '?').padEnd(12),
    l.code.padEnd(20),
    `failures ${l.failures}`.padEnd(11),
    state.padEnd(9),
    l.reason.slice(0, 80),
  ].join(' ');
}

/**
 * `npm run dlq -- list|show|redrive`: the operators' view of `sharing.dead-letter`, and the way back
 * for its records once their cause is fixed (a registry restored, a projection corrected). Runs as
 * the principal of the environment: the operator's variables that `npm run stack:up` prints.
 */
async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        agency: { type: 'string' },
        code: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'max-failures': { type: 'string' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    // An unknown or malformed option is the operator's mistake: the usage, not a stack trace.
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command || !['list', 'show', 'redrive'].includes(command)) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const filter: DeadLetterFilter = {
    ...(values.agency === undefined ? {} : { agency: values.agency }),
    ...(values.code === undefined ? {} : { code: values.code }),
  };
  const since = time(values.since, '--since');
  const until = time(values.until, '--until');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  const config = loadConfig(DlqEnv);
  const maxFailures = positiveInteger(values['max-failures'], '--max-failures') ?? config.DLQ_MAX_FAILURES;
  const batchSize = positiveInteger(values['batch-size'], '--batch-size');
  const logger = createLogger({
    name: 'dlq',
    level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
  });
  const kafka = createKafka({ ...kafkaConnection(config), clientId: 'lienthong-dlq', logger });
  const owners = new Map(
    TOPIC_NAMES.map((t) => [`${config.SHARING_TOPIC_PREFIX}${TOPICS[t].topic}`, TOPICS[t].owner as string]),
  );
  const deadLetterTopic = config.SHARING_DEAD_LETTER_TOPIC;

  process.stderr.write(`dlq: reading ${deadLetterTopic} and ${config.REDRIVE_LOG_TOPIC}\n`);
  const [letters, done] = await Promise.all([
    readDeadLetters(kafka, deadLetterTopic, (topic) => owners.get(topic)),
    readRedriven(kafka, config.REDRIVE_LOG_TOPIC, deadLetterTopic),
  ]);
  const selected = letters.filter((l) => matchesFilter(l, filter));

  if (command === 'list') {
    for (const l of selected) process.stdout.write(`${line(l, done)}\n`);
    process.stdout.write(`${selected.length} of ${letters.length} dead letters\n`);
    return 0;
  }
  if (command === 'show') {
    const offset = rest[0];
    const letter = letters.find((l) => l.at.offset === offset);
    if (!letter)
      throw new UsageError(`No dead letter at offset ${offset ?? '(none given)'} of ${deadLetterTopic}`);
    process.stdout.write(
      `${JSON.stringify(
        {
          at: letter.at,
          source: letter.source,
          agency: letter.agency,
          code: letter.code,
          reason: letter.reason,
          failures: letter.failures,
          redriven: done.has(deadLetterKey(letter.at)),
          history: letter.history,
          key: maskKey(letter.key),
          valueBytes: letter.value?.length ?? 0,
          headers: letter.headers,
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }

  const plan = planRedrive(selected, { maxFailures, done });
  const republish = plan.filter((s) => s.action === 'republish').length;
  const held = plan.length - republish;
  process.stdout.write(
    `${plan.length} to redrive (${republish} republished, ${held} held at ${maxFailures} failures); ${selected.length - plan.length} redriven before\n`,
  );
  if (values['dry-run']) {
    for (const step of plan)
      process.stdout.write(
        `${step.action === 'hold' ? 'hold     ' : 'republish'} ${line(step.letter, done)}\n`,
      );
    process.stdout.write('Dry run: nothing was written.\n');
    return 0;
  }
  const producer = createRenewingProducer(kafka, { logger });
  await producer.connect();
  let last = 0;
  try {
    const operator = `${config.KAFKA_SASL_USERNAME ?? 'anonymous'}:${userInfo().username}`;
    const report = await executeRedrive({
      producer,
      plan,
      logTopic: config.REDRIVE_LOG_TOPIC,
      operator,
      clock: offsetClock(config.LIENTHONG_CLOCK_OFFSET_MS, logger),
      ...(batchSize === undefined ? {} : { batchSize }),
      progress: (n, total, elapsedMs) => {
        if (elapsedMs - last < 1_000 && n < total) return;
        last = elapsedMs;
        const rate = elapsedMs > 0 ? Math.round((n * 1000) / elapsedMs) : 0;
        process.stdout.write(
          `redrive: ${n}/${total} (${Math.floor((100 * n) / total)}%), ${rate} records/s\n`,
        );
      },
    });
    process.stdout.write(
      `redrive done: ${report.republished} republished, ${report.held} held, in ${report.seconds.toFixed(2)} s: ${Math.round(report.perSecond)} records/s\n`,
    );
  } finally {
    await producer.disconnect();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`dlq: ${(err as Error).message}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
