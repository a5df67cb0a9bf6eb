import { setTimeout as sleep } from 'node:timers/promises';
import { TOPIC_NAMES, TOPICS } from '../../../schemas/topics';
import { createLogger } from '../../../services/platform/logger';
import { createRenewingProducer, withAdmin } from '../../../services/platform/kafka';
import { type RedriveLogEntry, redriveLogTopicDeclaration } from '../../../services/platform/redrive-log';
import { ensurePolicyTopics } from '../../../services/platform/topic-policy';
import { PROJECTIONS } from '../../../services/sharing/materializer';
import { type Projection } from '../../../services/sharing/projection';
import {
  executeRedrive,
  planRedrive,
  readDeadLetters,
  readRedriven,
  REDRIVE_HEADERS,
} from '../../../services/sharing/redrive';
import { UNKNOWN_VERDICT_MS } from '../../../services/sharing/event-decoder';
import { type SharingDeps } from '../../../services/sharing/sharing-service';
import { generateEventStream, type StreamEvent } from '../../support/event-stream';
import { uniqueName } from '../../support/fixtures';
import { readTopic, testConnection } from '../../support/kafka';
import { registryHarness } from '../../support/registry';
import { sharingHarness } from '../../support/sharing';

/**
 * An operator's redrive of `sharing.dead-letter` on the real stack, with the library that
 * `npm run dlq` runs, as the operator principal: dead letters sent back after their cause is
 * fixed are applied, and a record that keeps failing stops at N failures with its history.
 */
const logger = createLogger({ name: 'it-redrive', level: 'silent' });
const registries = registryHarness();
const stream = generateEventStream(40, 17).filter((e) => e.topic === 'dossier' || e.topic === 'tax');

afterAll(() => registries.stopAll());

/** Everything the operator's tool needs, on a harness's topics and a log topic of the test's own. */
function operatorTool(harness: ReturnType<typeof sharingHarness>) {
  const logTopic = uniqueName('it-redrive-log');
  const owners = new Map(TOPIC_NAMES.map((t) => [harness.topics[t], TOPICS[t].owner as string]));
  const producer = createRenewingProducer(harness.kafka, { logger });
  return {
    logTopic,
    async setUp() {
      await withAdmin(testConnection(), 'it-redrive', (admin) =>
        ensurePolicyTopics(admin, [redriveLogTopicDeclaration(logTopic)]),
      );
      await producer.connect();
    },
    async plan(options: { maxFailures: number; agency?: string }) {
      const letters = await readDeadLetters(harness.kafka, harness.deadLetterTopic, (t) => owners.get(t));
      const done = await readRedriven(harness.kafka, logTopic, harness.deadLetterTopic);
      const selected = letters.filter((l) => options.agency === undefined || l.agency === options.agency);
      return planRedrive(selected, { maxFailures: options.maxFailures, done });
    },
    async run(maxFailures: number) {
      return executeRedrive({
        producer,
        plan: await this.plan({ maxFailures }),
        logTopic,
        operator: 'operator:it',
        clock: Date.now,
        batchSize: 7,
      });
    },
    async log(): Promise<RedriveLogEntry[]> {
      return (await readTopic(harness.kafka, logTopic)).map(
        (m) => JSON.parse(m.value ?? '') as RedriveLogEntry,
      );
    },
    dispose: () => producer.disconnect(),
  };
}

describe('dead letters redriven after the registry is restored', () => {
  const service: Partial<SharingDeps> = { unknownSchemaRetryMs: 1_500 };
  const harness = sharingHarness({ partitions: 2, batchSize: 10, service });
  const tool = operatorTool(harness);

  beforeAll(async () => {
    await harness.setUp();
    await tool.setUp();
  });
  afterAll(async () => {
    await tool.dispose();
    await harness.tearDown();
  });

  it('are applied once republished, and a dry run or a second run sends nothing', async () => {
    const restored = await registries.start();
    service.registry = registries.client(restored, 'reader');
    await harness.publish(stream);
    await harness.start();
    await harness.waitForEvents(stream.length, 120_000);
    expect(harness.service().stats()).toMatchObject({ applied: 0, deadLettered: stream.length });

    // The registry comes back with the contracts under their old ids. The running service asks
    // it again once its last SCHEMA_UNKNOWN verdict has lapsed (UNKNOWN_VERDICT_MS).
    await registries.registerContracts(restored);
    await sleep(UNKNOWN_VERDICT_MS + 100);

    // Filtered by agency: the tax department's dead letters only.
    const taxOnly = await tool.plan({ maxFailures: 3, agency: TOPICS.tax.owner });
    const taxCount = stream.filter((e) => e.topic === 'tax').length;
    expect(taxOnly).toHaveLength(taxCount);
    expect(new Set(taxOnly.map((s) => s.letter.source.topic))).toEqual(new Set([harness.topics.tax]));

    // A dry run is only a plan: nothing is written.
    const before = await readTopic(harness.kafka, harness.topics.dossier);
    expect(await tool.plan({ maxFailures: 3 })).toHaveLength(stream.length);
    expect(await readTopic(harness.kafka, harness.topics.dossier)).toHaveLength(before.length);
    expect(await tool.log()).toEqual([]);

    const report = await tool.run(3);
    expect(report).toMatchObject({ republished: stream.length, held: 0 });
    expect(report.perSecond).toBeGreaterThan(0);
    // The same service, which dead-lettered them all, now applies them all.
    await harness.waitForEvents(2 * stream.length, 120_000);
    expect(harness.service().stats()).toMatchObject({ applied: stream.length, deadLettered: stream.length });
    expect((await harness.snapshot()).dossiers.length).toBeGreaterThan(0);

    // Every redrive is on the log, by whom and when; a second run finds nothing left to send.
    const log = await tool.log();
    expect(log).toHaveLength(stream.length);
    expect(log[0]).toMatchObject({
      action: 'redrive',
      actor: { kind: 'operator', id: 'operator:it' },
      outcome: 'republished',
      attempt: 1,
      subject: { deadLetter: { topic: harness.deadLetterTopic } },
      history: [{ code: 'SCHEMA_UNKNOWN' }],
    });
    expect(await tool.run(3)).toMatchObject({ republished: 0, held: 0 });
  }, 300_000);
});

describe('a redrive loop', () => {
  const few = generateEventStream(30, 23).slice(0, 12);
  const victim = few[5] as StreamEvent;
  // A projection that fails on one event every time: a redrive cannot fix it.
  const projections: Projection[] = PROJECTIONS.map((p) => ({
    ...p,
    evolve(current, sourced, id, read) {
      if (sourced.event.eventId === victim.event.eventId) throw new TypeError('always fails');
      return p.evolve(current, sourced, id, read);
    },
  }));
  const harness = sharingHarness({ partitions: 1, batchSize: 10, service: { projections } });
  const tool = operatorTool(harness);

  beforeAll(async () => {
    await harness.setUp();
    await tool.setUp();
  });
  afterAll(async () => {
    await tool.dispose();
    await harness.tearDown();
  });

  it('stops at N failures: the last dead letter stays put with its history', async () => {
    await harness.publish(few);
    await harness.start();
    await harness.waitForEvents(few.length, 120_000);
    expect(harness.service().stats()).toMatchObject({ deadLettered: 1 });

    const N = 3;
    const outcomes: [number, number][] = [];
    for (let run = 1; run <= N + 1; run += 1) {
      const report = await tool.run(N);
      outcomes.push([report.republished, report.held]);
      // Each republished copy fails again and comes back as a new dead letter.
      await harness.waitForEvents(few.length + outcomes.reduce((n, [r]) => n + r, 0), 120_000);
    }
    // Two redrives, then held at the third failure, then nothing left to do.
    expect(outcomes).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
    expect(harness.service().stats()).toMatchObject({ deadLettered: N });

    const letters = await readTopic(harness.kafka, harness.deadLetterTopic);
    expect(letters).toHaveLength(N);
    const last = letters[N - 1];
    expect(last?.headers[REDRIVE_HEADERS.attempt]).toBe(String(N - 1));
    const history = JSON.parse(last?.headers[REDRIVE_HEADERS.history] ?? '[]') as { code: string }[];
    expect(history.map((h) => h.code)).toEqual(['PROJECTION_FAILED', 'PROJECTION_FAILED']);
    expect(last?.rawValue?.equals(harness.encode(victim.topic, victim.event))).toBe(true);

    const log = await tool.log();
    expect(log.map((e) => [e.outcome, e.attempt])).toEqual([
      ['republished', 1],
      ['republished', 2],
      ['held', 3],
    ]);
  }, 300_000);
});
