/**
 * `npm run stack:topics -- --check | --apply`: every topic the bus declares, compared with the
 * topic policy on the configured broker, and corrected on request.
 */
import { type Admin } from 'kafkajs';
import { withAdmin } from '../../services/platform/kafka';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import { quarantineTopicDeclaration } from '../../connectors/runtime/quarantine';
import { TOPIC_NAMES, TOPICS } from '../../schemas/topics';
import { auditTopicDeclaration } from '../../services/lookup/audit-relay';
import { deadLetterTopicDeclaration } from '../../services/sharing/dead-letters';
import {
  applyTopicPolicy,
  checkTopics,
  describeDrift,
  readUntil,
  type TopicDeclaration,
} from '../../services/platform/topic-policy';

/**
 * The topics of the bus, each with its row of the policy: the four domain topics and their
 * quarantines, the sharing service's dead letters, the lookup audit and the registry's state.
 */
export function busTopics(registryTopic: string): TopicDeclaration[] {
  return [
    ...TOPIC_NAMES.flatMap((name) => [
      { topic: TOPICS[name].topic, kind: 'domain', numPartitions: DOMAIN_TOPIC_PARTITIONS } as const,
      quarantineTopicDeclaration(TOPICS[name].topic),
    ]),
    deadLetterTopicDeclaration(),
    auditTopicDeclaration(),
    { topic: registryTopic, kind: 'registry-state', numPartitions: 1 },
  ];
}

export interface TopicsReport {
  /** Settings that differ from the policy after the run (after `apply`, what it could not fix). */
  drifted: number;
  /** Declared topics that do not exist yet: their service creates them, with the policy, at start. */
  absent: number;
}

/**
 * Prints one line per declared topic: `ok`, `absent`, or each drifted setting with the value the
 * policy wants and the one found. With `apply`, drifted configs are set and checked again; a
 * replication factor is reported but not changed (that takes a partition reassignment).
 */
export async function reconcileTopics(
  admin: Admin,
  declarations: readonly TopicDeclaration[],
  options: { apply: boolean; progress: (line: string) => void },
): Promise<TopicsReport> {
  const report: TopicsReport = { drifted: 0, absent: 0 };
  for (const declaration of declarations) {
    const { topic } = declaration;
    let drift = await checkTopics(admin, [declaration]);
    if (drift.some((d) => d.setting === 'topic')) {
      options.progress(`${topic}: absent (its service creates it with the policy at start)`);
      report.absent += 1;
      continue;
    }
    if (drift.length > 0 && options.apply) {
      for (const d of drift) options.progress(`${describeDrift(d)}: correcting`);
      await applyTopicPolicy(admin, declaration);
      // Read until every broker asked has the change, as applyTopicPolicy does.
      drift = await readUntil(
        () => checkTopics(admin, [declaration]),
        (d) => d.length === 0,
      );
    }
    for (const d of drift) options.progress(describeDrift(d));
    if (drift.length === 0) options.progress(`${topic}: ok (${declaration.kind})`);
    report.drifted += drift.length;
  }
  return report;
}

/** {@link reconcileTopics} through an admin client of its own on `brokers`. */
export async function reconcileTopicsOn(
  brokers: string,
  declarations: readonly TopicDeclaration[],
  options: { apply: boolean; progress: (line: string) => void },
): Promise<TopicsReport> {
  return withAdmin(brokers, 'lienthong-topics', (admin) => reconcileTopics(admin, declarations, options));
}
