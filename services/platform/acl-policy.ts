/**
 * The access policy, declared once as data beside the topic policy: which principal may do what on
 * which topic, consumer group and the cluster. The broker denies whatever is not granted here
 * (`allow.everyone.if.no.acl.found=false`). The stack manager applies it ({@link applyAcls}),
 * `npm run stack:acls -- --check` compares it with the broker, and the test harnesses grant their
 * scratch topics through the same functions, so that every test runs under these ACLs.
 */
import {
  type Admin,
  type AclEntry,
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
} from 'kafkajs';

/** The operations this policy grants, by Kafka's names. */
export const ACL_OPERATIONS = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Describe: AclOperationTypes.DESCRIBE,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  Delete: AclOperationTypes.DELETE,
  IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
} as const;
export type AclOperation = keyof typeof ACL_OPERATIONS;

const RESOURCE_TYPES = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
} as const;
export type AclResource = keyof typeof RESOURCE_TYPES;

/** The one name a cluster resource has. */
export const CLUSTER_RESOURCE = 'kafka-cluster';

/** One grant: a principal may do `operations` on the resources `name` designates. */
export interface AclGrant {
  /** The SCRAM user name, without `User:`. */
  principal: string;
  resource: AclResource;
  /** A literal name, or a prefix when `pattern` is `prefixed`. */
  name: string;
  pattern: 'literal' | 'prefixed';
  operations: readonly AclOperation[];
}

/** The administrator: a super user of the broker, used for topics and ACLs only. */
export const OPERATOR_PRINCIPAL = 'operator';

const topic = (principal: string, name: string, operations: readonly AclOperation[]): AclGrant => ({
  principal,
  resource: 'topic',
  name,
  pattern: 'literal',
  operations,
});
const groupPrefix = (principal: string, prefix: string, operations: readonly AclOperation[]): AclGrant => ({
  principal,
  resource: 'group',
  name: prefix,
  pattern: 'prefixed',
  operations,
});
// Since Kafka 3.0 Write on a topic implies it (KIP-679); granted anyway, so the intent is explicit.
const idempotentWrite = (principal: string): AclGrant => ({
  principal,
  resource: 'cluster',
  name: CLUSTER_RESOURCE,
  pattern: 'literal',
  operations: ['IdempotentWrite'],
});

/** Producing to a topic; `DescribeConfigs` lets the service check the topic against the policy. */
const PRODUCE: readonly AclOperation[] = ['Write', 'Describe', 'DescribeConfigs'];
const CONSUME: readonly AclOperation[] = ['Read', 'Describe', 'DescribeConfigs'];
/** A consumer group: join and commit (Read), look at it (Describe), remove a spent one (Delete). */
const GROUP: readonly AclOperation[] = ['Read', 'Describe', 'Delete'];

/**
 * An agency connector: its own domain topic; its quarantine, which it also reads back (for
 * `GET /v1/quarantine`) in groups named by `quarantineGroupPrefix`; and the redrive log, where it
 * records resends. Nothing else: another agency's quarantine stays out of its reach.
 */
export function agencyGrants(
  principal: string,
  domainTopic: string,
  quarantineTopic: string,
  names: { quarantineGroupPrefix: string; redriveLogTopic: string },
): AclGrant[] {
  return [
    topic(principal, domainTopic, PRODUCE),
    topic(principal, quarantineTopic, [...PRODUCE, 'Read']),
    groupPrefix(principal, names.quarantineGroupPrefix, GROUP),
    topic(principal, names.redriveLogTopic, PRODUCE),
    idempotentWrite(principal),
  ];
}

/**
 * The sharing service: it reads the domain topics in groups named by `groupPrefix` (its live group
 * and the rebuild's generations), writes the dead letters, and writes and reads its internal
 * topic of changes, which no other principal may touch.
 */
export function sharingGrants(
  principal: string,
  names: {
    domainTopics: readonly string[];
    deadLetterTopic: string;
    changesTopic: string;
    groupPrefixes: readonly string[];
  },
): AclGrant[] {
  return [
    ...names.domainTopics.map((t) => topic(principal, t, CONSUME)),
    topic(principal, names.deadLetterTopic, PRODUCE),
    topic(principal, names.changesTopic, [...PRODUCE, 'Read']),
    ...names.groupPrefixes.map((prefix) => groupPrefix(principal, prefix, GROUP)),
    idempotentWrite(principal),
  ];
}

/**
 * The lookup service: lineage reads a domain event by its offset through short-lived groups, all
 * named by `lineageGroupPrefix`; the audit relay writes `lookup.audit`.
 */
export function lookupGrants(
  principal: string,
  names: { domainTopics: readonly string[]; auditTopic: string; lineageGroupPrefix: string },
): AclGrant[] {
  return [
    ...names.domainTopics.map((t) => topic(principal, t, ['Read', 'Describe'])),
    // Read too: `verify` holds the store against the topic's copy of the trail.
    topic(principal, names.auditTopic, [...PRODUCE, 'Read']),
    groupPrefix(principal, names.lineageGroupPrefix, GROUP),
    idempotentWrite(principal),
  ];
}

/** The schema registry: its state topic, read whole at every start by a group of its own. */
export function registryGrants(
  principal: string,
  names: { stateTopic: string; groupPrefix: string },
): AclGrant[] {
  return [
    topic(principal, names.stateTopic, [...PRODUCE, 'Read']),
    groupPrefix(principal, names.groupPrefix, GROUP),
    idempotentWrite(principal),
  ];
}

/**
 * The subscriptions service: it reads the domain topics in groups named by `groupPrefix` (one per
 * agreement), writes each agreement's derived topic, and reads it back to send its webhooks.
 */
export function subscriptionsGrants(
  principal: string,
  names: { domainTopics: readonly string[]; derivedTopics: readonly string[]; groupPrefix: string },
): AclGrant[] {
  return [
    ...names.domainTopics.map((t) => topic(principal, t, CONSUME)),
    // Read too: the webhooks are sent from the derived topics.
    ...names.derivedTopics.map((t) => topic(principal, t, [...PRODUCE, 'Read'])),
    groupPrefix(principal, names.groupPrefix, GROUP),
    idempotentWrite(principal),
  ];
}

/**
 * The consumer agency's system under one sharing agreement: it reads the agreement's derived topic,
 * in groups named by `groupPrefix`, and nothing else of it; no other principal but the
 * subscriptions service, which writes it, is granted the topic.
 */
export function agreementConsumerGrants(
  principal: string,
  names: { derivedTopic: string; groupPrefix: string },
): AclGrant[] {
  return [topic(principal, names.derivedTopic, CONSUME), groupPrefix(principal, names.groupPrefix, GROUP)];
}

/** One broker ACL entry per operation of each grant: the unit the broker stores and compares. */
export function aclEntries(grants: readonly AclGrant[]): AclEntry[] {
  return grants.flatMap((g) =>
    g.operations.map((operation) => ({
      resourceType: RESOURCE_TYPES[g.resource],
      resourceName: g.name,
      resourcePatternType:
        g.pattern === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
      principal: `User:${g.principal}`,
      host: '*',
      operation: ACL_OPERATIONS[operation],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

const keyOf = (e: AclEntry): string =>
  [
    e.principal,
    e.resourceType,
    e.resourcePatternType,
    e.resourceName,
    e.host,
    e.operation,
    e.permissionType,
  ].join('|');

/** The entries of `wanted` that are not among `found`: pure, for the stack tool and the unit tests. */
export function missingAcls(wanted: readonly AclEntry[], found: readonly AclEntry[]): AclEntry[] {
  const present = new Set(found.map(keyOf));
  const seen = new Set<string>();
  return wanted.filter((e) => {
    const key = keyOf(e);
    if (present.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One line per ACL entry, in Kafka's own words, for the stack tool. */
export function describeAcl(e: AclEntry): string {
  const name = (table: Record<string, number>, value: number) =>
    Object.keys(table).find((k) => table[k] === value) ?? String(value);
  const pattern = e.resourcePatternType === ResourcePatternTypes.PREFIXED ? ' (prefix)' : '';
  return `${e.principal} may ${name(ACL_OPERATIONS, e.operation)} on ${name(RESOURCE_TYPES, e.resourceType)} ${e.resourceName}${pattern}`;
}

/** The ALLOW entries the broker holds for the principals of `entries`. */
export async function describeAclsOf(admin: Admin, principals: readonly string[]): Promise<AclEntry[]> {
  const found: AclEntry[] = [];
  for (const principal of new Set(principals)) {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: '*',
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    });
    for (const r of resources)
      for (const acl of r.acls)
        found.push({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          resourcePatternType: r.resourcePatternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
        });
  }
  return found;
}

/** The declared ACLs the broker does not hold. */
export async function checkAcls(admin: Admin, grants: readonly AclGrant[]): Promise<AclEntry[]> {
  const wanted = aclEntries(grants);
  return missingAcls(
    wanted,
    await describeAclsOf(
      admin,
      wanted.map((e) => e.principal),
    ),
  );
}

/**
 * Creates the declared ACLs the broker lacks, then waits until the broker answers with all of
 * them: a broker authorizes from its copy of the metadata log, which follows the controller by a
 * moment, and a client let in a moment too early would be refused. ACLs not declared here are left
 * alone (a test's scratch grants, an operator's own).
 *
 * @returns the entries it created
 */
export async function applyAcls(
  admin: Admin,
  grants: readonly AclGrant[],
  timeoutMs = 15_000,
): Promise<AclEntry[]> {
  const missing = await checkAcls(admin, grants);
  if (missing.length === 0) return [];
  await admin.createAcls({ acl: missing });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const still = await checkAcls(admin, grants);
    if (still.length === 0) return missing;
    if (Date.now() > deadline)
      throw new Error(`the broker does not show ${still.map(describeAcl).join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
