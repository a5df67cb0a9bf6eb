/**
 * `npm run stack:topics -- --check | --apply` and `stack:acls`: every topic the bus declares and
 * every ACL its principals need, compared with the broker, and corrected on request.
 */
import { type Admin } from 'kafkajs';
import {
  type AclGrant,
  agencyGrants,
  applyAcls,
  checkAcls,
  describeAcl,
  lookupGrants,
  OPERATOR_PRINCIPAL,
  agreementConsumerGrants,
  registryGrants,
  sharingGrants,
  subscriptionsGrants,
} from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { type KafkaSecurity } from '../../services/platform/kafka-security';
import { LINEAGE_GROUP_PREFIX } from '../../services/lookup/event-fetcher';
import { REGISTRY_GROUP_PREFIX } from '../../services/registry/schema-log';
import { DEFAULT_SHARING_GROUP } from '../../services/sharing/config';
import { REBUILD_GROUP_PREFIX } from '../../services/sharing/rebuild';
import { DOMAIN_TOPIC_PARTITIONS } from '../../connectors/runtime/connector';
import { QUARANTINE_GROUP_PREFIX, quarantineTopicDeclaration } from '../../connectors/runtime/quarantine';
import { REDRIVE_LOG_TOPIC, redriveLogTopicDeclaration } from '../../services/platform/redrive-log';
import { TOPIC_NAMES, TOPICS, type TopicName } from '../../schemas/topics';
import { auditTopicDeclaration } from '../../services/lookup/audit-relay';
import { deadLetterTopicDeclaration } from '../../services/sharing/dead-letters';
import { changesTopicDeclaration } from '../../services/sharing/changes';
import { type Agreement, loadAgreements } from '../../services/subscriptions/agreement';
import { DEFAULT_AGREEMENTS_FILE } from '../../services/subscriptions/config';
import {
  consumerGroupPrefixOf,
  DEFAULT_SUBSCRIPTIONS_GROUP,
  derivedTopicDeclaration,
  derivedTopicOf,
} from '../../services/subscriptions/derived-topics';
import {
  applyTopicPolicy,
  checkTopics,
  describeDrift,
  ensurePolicyTopics,
  readUntil,
  type TopicDeclaration,
} from '../../services/platform/topic-policy';

/** A connection as one principal: the brokers and the security to reach them with. */
export interface KafkaConnection {
  brokers: string[];
  security: KafkaSecurity;
}

/** The bus's Kafka principals: one per agency connector, the services, and the operator. */
export const SERVICE_PRINCIPALS = {
  sharing: 'sharing',
  lookup: 'lookup',
  registry: 'registry',
  subscriptions: 'subscriptions',
} as const;

/** The principal of the connector that publishes `topic`: the topic's own name. */
export function agencyPrincipal(topic: TopicName): string {
  return topic;
}

/**
 * The principal of an agency's system: its connector's, the one principal the agency has on the
 * bus; undefined for an agency without a system here.
 */
export function principalOfAgency(agency: string): string | undefined {
  const topic = TOPIC_NAMES.find((name) => TOPICS[name].owner === agency);
  return topic === undefined ? undefined : agencyPrincipal(topic);
}

/** The sharing agreements the bus runs with, checked against the contracts. */
export function committedAgreements(): readonly Agreement[] {
  return loadAgreements(DEFAULT_AGREEMENTS_FILE).all();
}

/**
 * What each sharing agreement needs: the subscriptions service reads the domain topics and writes
 * the derived topics; each consumer agency's principal reads its own derived topic, and no other
 * principal may. `topicPrefix` and `groupPrefix` for a test's own names.
 */
export function agreementGrants(
  agreements: readonly Agreement[],
  names: { domainTopics: readonly string[]; topicPrefix?: string; groupPrefix?: string },
): AclGrant[] {
  const derived = agreements.map((a) => derivedTopicOf(a.id, names.topicPrefix));
  return [
    ...subscriptionsGrants(SERVICE_PRINCIPALS.subscriptions, {
      domainTopics: names.domainTopics,
      derivedTopics: derived,
      groupPrefix: names.groupPrefix ?? DEFAULT_SUBSCRIPTIONS_GROUP,
    }),
    ...agreements.flatMap((a, i) => {
      const principal = principalOfAgency(a.consumer);
      const derivedTopic = derived[i] as string;
      return principal === undefined
        ? []
        : agreementConsumerGrants(principal, {
            derivedTopic,
            groupPrefix: consumerGroupPrefixOf(derivedTopic),
          });
    }),
  ];
}

/** Every principal the local broker gets a SCRAM user and a password file for. */
export function busPrincipals(): string[] {
  return [...TOPIC_NAMES.map(agencyPrincipal), ...Object.values(SERVICE_PRINCIPALS), OPERATOR_PRINCIPAL];
}

/**
 * The bus's ACLs, derived from its topics: what the table in the README shows. The operator has
 * none, being a super user.
 */
export function busGrants(
  registryTopic: string,
  agreements: readonly Agreement[] = committedAgreements(),
): AclGrant[] {
  const domainTopics = TOPIC_NAMES.map((name) => TOPICS[name].topic);
  return [
    ...TOPIC_NAMES.flatMap((name) =>
      agencyGrants(
        agencyPrincipal(name),
        TOPICS[name].topic,
        quarantineTopicDeclaration(TOPICS[name].topic).topic,
        {
          quarantineGroupPrefix: `${QUARANTINE_GROUP_PREFIX}${agencyPrincipal(name)}-`,
          redriveLogTopic: REDRIVE_LOG_TOPIC,
        },
      ),
    ),
    ...sharingGrants(SERVICE_PRINCIPALS.sharing, {
      domainTopics,
      deadLetterTopic: deadLetterTopicDeclaration().topic,
      changesTopic: changesTopicDeclaration().topic,
      groupPrefixes: [DEFAULT_SHARING_GROUP, REBUILD_GROUP_PREFIX],
    }),
    ...lookupGrants(SERVICE_PRINCIPALS.lookup, {
      domainTopics,
      auditTopic: auditTopicDeclaration().topic,
      lineageGroupPrefix: LINEAGE_GROUP_PREFIX,
    }),
    ...registryGrants(SERVICE_PRINCIPALS.registry, {
      stateTopic: registryTopic,
      groupPrefix: REGISTRY_GROUP_PREFIX,
    }),
    ...agreementGrants(agreements, { domainTopics }),
  ];
}

/**
 * The topics of the bus, each with its row of the policy: the four domain topics and their
 * quarantines, the sharing service's dead letters and internal changes, the lookup audit, the registry's state, and a
 * derived topic per sharing agreement.
 */
export function busTopics(
  registryTopic: string,
  agreements: readonly Agreement[] = committedAgreements(),
): TopicDeclaration[] {
  return [
    ...TOPIC_NAMES.flatMap((name) => [
      { topic: TOPICS[name].topic, kind: 'domain', numPartitions: DOMAIN_TOPIC_PARTITIONS } as const,
      quarantineTopicDeclaration(TOPICS[name].topic),
    ]),
    deadLetterTopicDeclaration(),
    changesTopicDeclaration(),
    auditTopicDeclaration(),
    redriveLogTopicDeclaration(),
    { topic: registryTopic, kind: 'registry-state', numPartitions: 1 },
    ...agreements.map((a) => derivedTopicDeclaration(derivedTopicOf(a.id))),
  ];
}

export interface TopicsReport {
  /** Settings that differ from the policy after the run (after `apply`, what it could not fix). */
  drifted: number;
  /** Declared topics that do not exist (after `apply`, none: it creates them with the policy). */
  absent: number;
}

/**
 * Prints one line per declared topic: `ok`, `absent`, or each drifted setting with the value the
 * policy wants and the one found. With `apply`, absent topics are created with the policy (the
 * services' principals may not create topics) and drifted configs are set and checked again; a
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
      if (!options.apply) {
        options.progress(`${topic}: absent (--apply creates it with the policy)`);
        report.absent += 1;
        continue;
      }
      await ensurePolicyTopics(admin, [declaration]);
      options.progress(`${topic}: created (${declaration.kind})`);
      // A broker whose metadata lags may not know the new topic yet: read until one that does answers.
      drift = await readUntil(
        () => checkTopics(admin, [declaration]),
        (d) => !d.some((x) => x.setting === 'topic'),
      );
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

/** {@link reconcileTopics} through an admin client of its own, as the operator. */
export async function reconcileTopicsOn(
  operator: KafkaConnection,
  declarations: readonly TopicDeclaration[],
  options: { apply: boolean; progress: (line: string) => void },
): Promise<TopicsReport> {
  return withAdmin(operator, 'lienthong-topics', (admin) => reconcileTopics(admin, declarations, options));
}

/**
 * The declared ACLs the broker lacks, one line each; with `apply`, created (idempotently: an ACL
 * the broker holds already is not sent again).
 *
 * @returns how many are still missing
 */
export async function reconcileAclsOn(
  operator: KafkaConnection,
  grants: readonly AclGrant[],
  options: { apply: boolean; progress: (line: string) => void },
): Promise<number> {
  return withAdmin(operator, 'lienthong-acls', async (admin) => {
    if (options.apply) {
      for (const created of await applyAcls(admin, grants))
        options.progress(`${describeAcl(created)}: created`);
    }
    const missing = await checkAcls(admin, grants);
    for (const m of missing) options.progress(`${describeAcl(m)}: missing`);
    return missing.length;
  });
}
