import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { ensureTopics } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import {
  checkTopics,
  ensurePolicyTopics,
  readUntil,
  TOPIC_POLICY,
  type TopicDeclaration,
  type TopicKind,
} from '../../services/platform/topic-policy';
import { endpoint, uniqueName } from '../support/fixtures';
import { registryHarness } from '../support/registry';
import { sharingHarness } from '../support/sharing';
import { reconcileTopics } from '../../deploy/local/topics';
import { testKafka } from '../support/kafka';

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** `npm run stack:topics -- <args>` against the suite's broker, the registry's topic set to `registryTopic`. */
function stackTopics(args: string[], registryTopic: string): { code: number | null; stdout: string } {
  const run = spawnSync(process.execPath, [TSX, join(ROOT, 'deploy', 'local', 'cli.ts'), 'topics', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: endpoint('KAFKA_BROKERS'),
      MONGODB_URI: endpoint('MONGODB_URI'),
      SCHEMA_REGISTRY_URL: endpoint('SCHEMA_REGISTRY_URL'),
      SCHEMA_REGISTRY_TOPIC: registryTopic,
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: run.status, stdout: run.stdout };
}

/**
 * A topic's settings as the broker describes them; with `expected`, read again for a while until
 * they hold it, as a broker of a cluster of several learns of a change a moment after another.
 */
async function configsOf(
  admin: Admin,
  topic: string,
  expected: Record<string, string> = {},
): Promise<Record<string, string>> {
  return readUntil(
    async () => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      });
      return Object.fromEntries(
        (resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
      );
    },
    (found) => Object.entries(expected).every(([name, value]) => found[name] === value),
  );
}

describe('the topic policy on the broker', () => {
  const kafka = testKafka('it-topic-policy', {
    logger: createLogger({ name: 'it-topic-policy', level: 'silent' }),
  });
  const admin = kafka.admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('creates every kind of topic with its settings, as the broker reads them back', async () => {
    const declared: TopicDeclaration[] = (Object.keys(TOPIC_POLICY) as TopicKind[]).map((kind) => ({
      topic: uniqueName(`it-policy-${kind}`),
      kind,
      numPartitions: 1,
    }));
    await ensurePolicyTopics(admin, declared);
    const brokers = (await admin.describeCluster()).brokers.length;
    for (const { topic, kind } of declared) {
      expect(await configsOf(admin, topic)).toMatchObject({
        ...TOPIC_POLICY[kind],
        'min.insync.replicas': String(Math.max(1, Math.min(3, brokers) - 1)),
        'unclean.leader.election.enable': 'false',
      });
    }
    const [domain] = await admin
      .fetchTopicMetadata({ topics: [declared[0]?.topic ?? ''] })
      .then((m) => m.topics);
    expect(domain?.partitions[0]?.replicas).toHaveLength(Math.min(3, brokers));
    expect(await checkTopics(admin, declared)).toEqual([]);
  });

  it('finds a domain topic kept a week, and names the setting and both values', async () => {
    const topic = uniqueName('it-policy-week');
    await ensureTopics(admin, [
      { topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] },
    ]);
    await ensurePolicyTopics(admin, [{ topic, kind: 'domain', numPartitions: 1 }]);
    expect(await checkTopics(admin, [{ topic, kind: 'domain', numPartitions: 1 }])).toEqual([
      { topic, setting: 'retention.ms', expected: '-1', found: '604800000' },
    ]);
  });

  describe('a registry whose state topic was created without compaction', () => {
    const harness = registryHarness();
    beforeAll(async () => {
      await ensureTopics(admin, [
        {
          topic: harness.topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            // An override the policy does not name, which --apply must keep.
            { name: 'max.message.bytes', value: '2097152' },
          ],
        },
      ]);
    });
    afterAll(() => harness.stopAll());

    it('is unready until stack:topics --apply corrects the topic, then ready after a restart', async () => {
      const drifted = await harness.start();
      const readyz = await harness.http(drifted, null, 'GET', '/readyz');
      expect(readyz.status).toBe(503);
      expect(readyz.body).toMatchObject({
        code: 'NOT_READY',
        // min.compaction.lag.ms is 0 by the broker's default too: only the cleanup policy drifted.
        errors: [
          {
            path: `/topics/${harness.topic}/cleanup.policy`,
            message: `topic ${harness.topic}: cleanup.policy is delete, the topic policy wants compact`,
          },
        ],
      });

      const check = stackTopics(['--check', harness.topic], harness.topic);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain(
        `topic ${harness.topic}: cleanup.policy is delete, the topic policy wants compact`,
      );

      const apply = stackTopics(['--apply', harness.topic], harness.topic);
      expect(apply.stdout).toContain(`${harness.topic}: ok (registry-state)`);
      expect(apply.code).toBe(0);
      const policy = { 'cleanup.policy': 'compact', 'max.message.bytes': '2097152' };
      expect(await configsOf(admin, harness.topic, policy)).toMatchObject(policy);
      expect(stackTopics(['--check', harness.topic], harness.topic).code).toBe(0);

      await harness.stopAll();
      const corrected = await harness.start();
      expect(await harness.http(corrected, null, 'GET', '/readyz')).toMatchObject({
        status: 200,
        body: { status: 'ready' },
      });
    });
  });

  describe('a sharing service reading a domain topic kept a week', () => {
    const harness = sharingHarness({ partitions: 1 });
    beforeAll(async () => {
      await ensureTopics(admin, [
        {
          topic: harness.topics.tax,
          numPartitions: 1,
          configEntries: [{ name: 'retention.ms', value: '604800000' }],
        },
      ]);
      await harness.setUp();
    });
    afterAll(() => harness.tearDown());

    it('is unready, naming the topic, until the policy is applied and the service restarted', async () => {
      const topic = harness.topics.tax;
      const drifted = await harness.start();
      const answer = await fetch(`${drifted.url()}/readyz`);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({
        code: 'NOT_READY',
        detail: `sharing is not ready: topic ${topic}: retention.ms is 604800000, the topic policy wants -1`,
        errors: [{ path: `/topics/${topic}/retention.ms` }],
      });

      const lines: string[] = [];
      const report = await reconcileTopics(admin, [{ topic, kind: 'domain', numPartitions: 1 }], {
        apply: true,
        progress: (line) => lines.push(line),
      });
      expect(report).toEqual({ drifted: 0, absent: 0 });
      expect(lines).toEqual([
        `topic ${topic}: retention.ms is 604800000, the topic policy wants -1: correcting`,
        `${topic}: ok (domain)`,
      ]);
      expect(await configsOf(admin, topic, { 'retention.ms': '-1' })).toMatchObject({ 'retention.ms': '-1' });

      await harness.stop();
      const corrected = await harness.start();
      // Ready once its consumer joins the group; a drift would hold it at 503 for good.
      while (!(await fetch(`${corrected.url()}/readyz`)).ok) await new Promise((r) => setTimeout(r, 200));
      expect(await (await fetch(`${corrected.url()}/readyz`)).json()).toEqual({ status: 'ready' });
    });
  });
});
