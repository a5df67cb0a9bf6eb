/**
 * The topic policy, declared once: how long each kind of topic keeps its records and how it is
 * replicated. Topics are created with it ({@link ensurePolicyTopics}), every service checks the
 * topics it uses against it at start ({@link checkTopics}), and `npm run stack:topics` reports and
 * corrects drift with the same functions. It lives in the kernel, beside `ensureTopics`, so that
 * connectors, services and the deploy tools all import it without an arrow going up.
 */
import { type Admin, ConfigResourceTypes, type ConfigEntries } from 'kafkajs';
import { type Readiness } from './http';
import { ensureTopics, type TopicSpec } from './kafka';

const DAY_MS = 86_400_000;

/**
 * The settings of each kind of topic, beside replication, which depends on the cluster
 * ({@link replicationPolicy}). Every setting is stated even where it is the broker's default, so
 * that a broker configured otherwise shows up as drift instead of silently changing the log.
 */
export const TOPIC_POLICY = {
  /** The system of record: rebuilds replay from offset 0 and lineage reads events by offset. */
  domain: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
  /** A month for the agency to fix a refused record and send it again. */
  quarantine: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
  /** As long as a quarantine: a month to look, fix the cause and replay. */
  'dead-letter': { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
  /**
   * An agreement's derived topic: a month for the consumer agency's system to read it. Nothing is
   * lost after that: a backfill derives it again from the domain topics.
   */
  derived: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
  /** Ten years, the retention of the access records it copies. */
  audit: { 'cleanup.policy': 'delete', 'retention.ms': String(10 * 366 * DAY_MS) },
  /** Compaction keeps the newest record per key forever: the registry's state is never lost. */
  'registry-state': { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' },
} as const satisfies Record<string, Record<string, string>>;

export type TopicKind = keyof typeof TOPIC_POLICY;

/** A topic a component uses, and which row of {@link TOPIC_POLICY} governs it. */
export interface TopicDeclaration {
  topic: string;
  kind: TopicKind;
  /** Used when the topic is created; an existing topic's partition count is never changed. */
  numPartitions: number;
}

/** What the policy wants of one topic on a cluster of a given size. */
export interface TopicExpectation {
  topic: string;
  replicationFactor: number;
  configs: Readonly<Record<string, string>>;
}

/**
 * Replication for a cluster of `brokers`: three copies where there are three brokers, and an
 * acknowledged write on all but one of them, so one broker may be down without stopping writes and
 * without a write living on one disk only. An out-of-sync replica never becomes leader: that would
 * drop acknowledged records.
 *
 * @see https://kafka.apache.org/documentation/#design_ha
 */
export function replicationPolicy(brokers: number): {
  replicationFactor: number;
  configs: Record<string, string>;
} {
  const replicationFactor = Math.max(1, Math.min(3, brokers));
  return {
    replicationFactor,
    configs: {
      'min.insync.replicas': String(Math.max(1, replicationFactor - 1)),
      'unclean.leader.election.enable': 'false',
    },
  };
}

/** The policy of one declared topic on a cluster of `brokers`. */
export function expectationOf(declaration: TopicDeclaration, brokers: number): TopicExpectation {
  const replication = replicationPolicy(brokers);
  return {
    topic: declaration.topic,
    replicationFactor: replication.replicationFactor,
    configs: { ...TOPIC_POLICY[declaration.kind], ...replication.configs },
  };
}

/** The spec `ensureTopics` creates a declared topic with. */
export function policyTopicSpec(declaration: TopicDeclaration, brokers: number): TopicSpec {
  const expected = expectationOf(declaration, brokers);
  return {
    topic: declaration.topic,
    numPartitions: declaration.numPartitions,
    replicationFactor: expected.replicationFactor,
    configEntries: Object.entries(expected.configs).map(([name, value]) => ({ name, value })),
  };
}

/** What the broker says of one topic. */
export interface DescribedTopic {
  /** The topic's effective settings, whether set on the topic or inherited from the broker. */
  configs: Readonly<Record<string, string>>;
  /** The replicas of its first partition; absent when the topic does not exist. */
  replicationFactor?: number;
}

/** One setting of one topic that differs from the policy. */
export interface TopicDrift {
  topic: string;
  /** A config name, `replication.factor`, or `topic` when the topic does not exist. */
  setting: string;
  expected: string;
  found: string;
}

/**
 * The settings of a topic that differ from what the policy expects: pure, so that the services,
 * the stack tool and the unit tests share one comparison.
 */
export function topicDrift(expected: TopicExpectation, described: DescribedTopic | undefined): TopicDrift[] {
  const { topic } = expected;
  if (described?.replicationFactor === undefined) {
    return [{ topic, setting: 'topic', expected: 'present', found: 'absent' }];
  }
  const drift: TopicDrift[] = [];
  // More copies than the policy asks for lose nothing; fewer are drift.
  if (described.replicationFactor < expected.replicationFactor) {
    drift.push({
      topic,
      setting: 'replication.factor',
      expected: String(expected.replicationFactor),
      found: String(described.replicationFactor),
    });
  }
  for (const [setting, value] of Object.entries(expected.configs)) {
    const found = described.configs[setting] ?? '(unset)';
    if (found !== value) drift.push({ topic, setting, expected: value, found });
  }
  return drift;
}

/** One line per drifted setting, for logs, problems and the stack tool. */
export function describeDrift(drift: TopicDrift): string {
  return `topic ${drift.topic}: ${drift.setting} is ${drift.found}, the topic policy wants ${drift.expected}`;
}

/** The number of brokers in the cluster, from its metadata rather than from configuration. */
export async function brokerCount(admin: Admin): Promise<number> {
  return (await admin.describeCluster()).brokers.length;
}

/** Creates the declared topics that do not exist yet, with their policy. */
export async function ensurePolicyTopics(
  admin: Admin,
  declarations: readonly TopicDeclaration[],
): Promise<string[]> {
  const brokers = await brokerCount(admin);
  return ensureTopics(
    admin,
    declarations.map((declaration) => policyTopicSpec(declaration, brokers)),
  );
}

/**
 * Reads with `read` until `done` holds of what it read, or `timeoutMs` has passed (then the last
 * reading is returned). KRaft brokers learn of a new topic or a changed config from the metadata
 * log, each a moment after the controller, and kafkajs asks one broker or another from one call to
 * the next: on a cluster of several, a read just after a change may not see it yet, or may not
 * know the topic at all (`UNKNOWN_TOPIC_OR_PARTITION`, read again here).
 */
export async function readUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
    } catch (error) {
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || Date.now() > deadline)
        throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The described state of each existing topic; missing topics are absent from the map. */
export async function describeTopics(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, DescribedTopic & { entries: ConfigEntries[] }>> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  const described = new Map<string, DescribedTopic & { entries: ConfigEntries[] }>();
  if (present.length === 0) return described;
  // A topic one broker listed may be unknown for a moment to the one describing it.
  const [configs, metadata] = await readUntil(
    () =>
      Promise.all([
        admin.describeConfigs({
          includeSynonyms: false,
          resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
        }),
        admin.fetchTopicMetadata({ topics: present }),
      ]),
    () => true,
  );
  const replicas = new Map(
    metadata.topics.map((t) => [t.name, t.partitions[0]?.replicas.length ?? 0] as const),
  );
  for (const resource of configs.resources) {
    described.set(resource.resourceName, {
      configs: Object.fromEntries(resource.configEntries.map((e) => [e.configName, e.configValue])),
      replicationFactor: replicas.get(resource.resourceName) ?? 0,
      entries: resource.configEntries,
    });
  }
  return described;
}

/**
 * What the policy wants of an existing topic. The cluster's size is read from its live brokers,
 * which a broker that is down or restarting lowers for a while: a topic made with more replicas
 * than there are live brokers was made for a larger cluster, and is measured against that one, so
 * a service that starts during a broker's outage is not held unready by its own topics.
 */
export function expectationFor(
  declaration: TopicDeclaration,
  liveBrokers: number,
  described: DescribedTopic | undefined,
): TopicExpectation {
  return expectationOf(declaration, Math.max(liveBrokers, described?.replicationFactor ?? 0));
}

/** The drift of every declared topic from the policy, on the cluster `admin` talks to. */
export async function checkTopics(
  admin: Admin,
  declarations: readonly TopicDeclaration[],
): Promise<TopicDrift[]> {
  const brokers = await brokerCount(admin);
  const described = await describeTopics(
    admin,
    declarations.map((d) => d.topic),
  );
  return declarations.flatMap((d) => {
    const topic = described.get(d.topic);
    return topicDrift(expectationFor(d, brokers, topic), topic);
  });
}

/** kafkajs's `ConfigSource` for a setting made on the topic itself. */
const DYNAMIC_TOPIC_CONFIG = 1;

/**
 * Sets the policy's configs on an existing topic. kafkajs has no incremental alter, and the
 * legacy `alterConfigs` replaces every override of the topic: the overrides the topic already
 * has that the policy does not name are sent again, so they survive. A replication factor is not
 * a config (it takes a partition reassignment) and is left as it is.
 *
 * @returns whether anything was changed
 */
export async function applyTopicPolicy(admin: Admin, declaration: TopicDeclaration): Promise<boolean> {
  const brokers = await brokerCount(admin);
  const described = (await describeTopics(admin, [declaration.topic])).get(declaration.topic);
  if (!described) return false;
  const expected = expectationFor(declaration, brokers, described);
  const drift = configDrift(expected, described);
  if (drift.length === 0) return false;
  const kept = described.entries
    .filter((e) => e.configSource === DYNAMIC_TOPIC_CONFIG && !(e.configName in expected.configs))
    .map((e) => ({ name: e.configName, value: e.configValue }));
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: declaration.topic,
        configEntries: [
          ...kept,
          ...Object.entries(expected.configs).map(([name, value]) => ({ name, value })),
        ],
      },
    ],
  });
  // Answered once the controller has the change; the brokers learn of it a moment later.
  await readUntil(
    () => describeTopics(admin, [declaration.topic]),
    (now) => configDrift(expected, now.get(declaration.topic)).length === 0,
  );
  return true;
}

function configDrift(expected: TopicExpectation, described: DescribedTopic | undefined): TopicDrift[] {
  return topicDrift(expected, described).filter((d) => d.setting !== 'replication.factor');
}

/**
 * A service's readiness: held unready while a topic it uses drifts from the policy,
 * with one reason per drifted setting, so `/readyz` names the topic, the setting and both values.
 */
export function topicReadiness(started: boolean, drift: readonly TopicDrift[]): Readiness {
  // Drift is found early in a start, and is worth saying even while the rest is still starting.
  if (drift.length === 0) return started;
  return {
    reasons: drift.map((d) => ({ path: `/topics/${d.topic}/${d.setting}`, message: describeDrift(d) })),
  };
}
