import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOPICS } from '../../../schemas/topics';
import { createProducer, withAdmin } from '../../../services/platform/kafka';
import { type RedriveLogEntry, redriveLogTopicDeclaration } from '../../../services/platform/redrive-log';
import { ensurePolicyTopics } from '../../../services/platform/topic-policy';
import { DEAD_LETTER_HEADERS, deadLetterTopicDeclaration } from '../../../services/sharing/dead-letters';
import { REDRIVE_HEADERS } from '../../../services/sharing/redrive';
import { uniqueName } from '../../support/fixtures';
import { kafkaEnvOf, readTopic, testConnection, testKafka } from '../../support/kafka';

/**
 * `npm run dlq` as the operator runs it, a process on the real stack: its filters, `show`,
 * `--dry-run`, a redrive with its progress and throughput, and its refusals of bad input.
 */
const run = promisify(execFile);
const prefix = `${uniqueName('it-dlq')}-`;
const topics = {
  tax: `${prefix}${TOPICS.tax.topic}`,
  vehicle: `${prefix}${TOPICS.vehicle.topic}`,
  deadLetter: `${prefix}dead-letter`,
  log: `${prefix}redrive-log`,
};
const kafka = testKafka('it-dlq');

/** Three dead letters: two of the tax department (one an hour older), one of the vehicle office. */
const letters = [
  { topic: topics.tax, code: 'SCHEMA_UNKNOWN', failedAt: '2026-12-01T06:00:00.000Z', key: '0100000003' },
  { topic: topics.tax, code: 'PROJECTION_FAILED', failedAt: '2026-12-01T07:00:00.000Z', key: '0100000011' },
  { topic: topics.vehicle, code: 'SCHEMA_UNKNOWN', failedAt: '2026-12-01T07:00:00.000Z', key: '29A-123.45' },
];

async function dlq(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '..', '..', '..', 'services', 'sharing', 'dlq-main.ts'), ...args],
      {
        env: {
          ...process.env,
          ...kafkaEnvOf(),
          SHARING_TOPIC_PREFIX: prefix,
          SHARING_DEAD_LETTER_TOPIC: topics.deadLetter,
          REDRIVE_LOG_TOPIC: topics.log,
          LOG_LEVEL: 'error',
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lines = (stdout: string) => stdout.trim().split('\n');

beforeAll(async () => {
  await withAdmin(testConnection(), 'it-dlq', (admin) =>
    ensurePolicyTopics(admin, [
      { topic: topics.tax, kind: 'domain', numPartitions: 1 },
      { topic: topics.vehicle, kind: 'domain', numPartitions: 1 },
      deadLetterTopicDeclaration(topics.deadLetter),
      redriveLogTopicDeclaration(topics.log),
    ]),
  );
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: topics.deadLetter,
    acks: -1,
    messages: letters.map((l, i) => ({
      key: l.key,
      value: Buffer.from([0, 0, 0, 0, 9, i]),
      headers: {
        traceparent: `00-${'a'.repeat(31)}${i}-${'b'.repeat(16)}-01`,
        [DEAD_LETTER_HEADERS.topic]: l.topic,
        [DEAD_LETTER_HEADERS.partition]: '0',
        [DEAD_LETTER_HEADERS.offset]: String(40 + i),
        [DEAD_LETTER_HEADERS.timestamp]: '1764572400000',
        [DEAD_LETTER_HEADERS.errorCode]: l.code,
        [DEAD_LETTER_HEADERS.reason]: 'The registry has had no schema 9 for 300 s',
        [DEAD_LETTER_HEADERS.failedAt]: l.failedAt,
      },
    })),
  });
  await producer.disconnect();
}, 60_000);

it('lists the dead letters filtered by agency, code and time', async () => {
  const all = await dlq('list');
  expect(all.code).toBe(0);
  expect(lines(all.stdout).at(-1)).toBe('3 of 3 dead letters');

  const tax = await dlq('list', '--agency', TOPICS.tax.owner);
  expect(lines(tax.stdout)).toHaveLength(3);
  expect(tax.stdout).not.toContain(topics.vehicle);

  const code = await dlq('list', '--code', 'SCHEMA_UNKNOWN', '--since', '2026-12-01T06:30:00Z');
  expect(lines(code.stdout)).toEqual([
    expect.stringContaining(`${topics.vehicle}/0/42`),
    '1 of 3 dead letters',
  ]);

  const until = await dlq('list', '--until', '2026-12-01T06:30:00Z');
  expect(lines(until.stdout)).toEqual([expect.stringContaining(`${topics.tax}/0/40`), '1 of 3 dead letters']);
}, 60_000);

it('shows one dead letter with its history, and the key masked', async () => {
  const shown = await dlq('show', '1');
  expect(shown.code).toBe(0);
  const letter = JSON.parse(shown.stdout) as Record<string, unknown>;
  expect(letter).toMatchObject({
    source: { topic: topics.tax, partition: 0, offset: '41' },
    agency: TOPICS.tax.owner,
    code: 'PROJECTION_FAILED',
    failures: 1,
    redriven: false,
    history: [{ code: 'PROJECTION_FAILED', failedAt: '2026-12-01T07:00:00.000Z' }],
    key: '******0011',
  });
});

it('refuses bad input with exit code 2 and the usage', async () => {
  for (const args of [
    ['list', '--since', 'yesterday'],
    ['redrive', '--max-failures', '0'],
    ['show', '99'],
    ['purge'],
    ['list', '--everything'],
  ]) {
    const answer = await dlq(...args);
    expect([args.join(' '), answer.code]).toEqual([args.join(' '), 2]);
    expect(answer.stderr).toContain('usage: npm run dlq');
  }
}, 60_000);

it('redrives: a dry run writes nothing, then the tax letters go back with progress and records/s', async () => {
  const dry = await dlq('redrive', '--dry-run', '--agency', TOPICS.tax.owner);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('2 to redrive (2 republished, 0 held at 3 failures)');
  expect(dry.stdout).toContain('Dry run: nothing was written.');
  expect(await readTopic(kafka, topics.tax)).toEqual([]);
  expect(await readTopic(kafka, topics.log)).toEqual([]);

  const done = await dlq('redrive', '--agency', TOPICS.tax.owner);
  expect(done.code).toBe(0);
  expect(done.stdout).toMatch(/redrive: 2\/2 \(100%\), \d+ records\/s/);
  expect(done.stdout).toMatch(/redrive done: 2 republished, 0 held, in [\d.]+ s: \d+ records\/s/);

  const republished = await readTopic(kafka, topics.tax);
  expect(
    republished.map((m) => [m.key, m.rawValue?.toString('hex'), m.headers[REDRIVE_HEADERS.attempt]]),
  ).toEqual([
    ['0100000003', '000000000900', '1'],
    ['0100000011', '000000000901', '1'],
  ]);
  // The original headers travel on; the dead-letter ones do not.
  expect(republished[0]?.headers.traceparent).toMatch(/^00-a{31}0-/);
  expect(republished[0]?.headers[DEAD_LETTER_HEADERS.errorCode]).toBeUndefined();
  const log = (await readTopic(kafka, topics.log)).map((m) => JSON.parse(m.value ?? '') as RedriveLogEntry);
  expect(log.map((e) => [e.outcome, e.agency, e.actor.kind])).toEqual([
    ['republished', TOPICS.tax.owner, 'operator'],
    ['republished', TOPICS.tax.owner, 'operator'],
  ]);
  expect(log[0]?.actor.id).toMatch(/^operator:/);

  // Listed as redriven now, and not sent twice.
  expect((await dlq('list', '--agency', TOPICS.tax.owner)).stdout).toMatch(/redriven[\s\S]*redriven/);
  expect((await dlq('redrive', '--agency', TOPICS.tax.owner)).stdout).toContain('0 to redrive');
  expect(await readTopic(kafka, topics.tax)).toHaveLength(2);
}, 120_000);
