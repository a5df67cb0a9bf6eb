import { AclOperationTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { busGrants, busPrincipals } from '../../../deploy/local/topics';
import {
  aclEntries,
  type AclGrant,
  agencyGrants,
  describeAcl,
  missingAcls,
  OPERATOR_PRINCIPAL,
} from '../../../services/platform/acl-policy';

/** What `principal` may do on `resource` `name`, by Kafka's operation names. */
function allowed(grants: readonly AclGrant[], principal: string, resource: string, name: string): string[] {
  return grants
    .filter((g) => g.principal === principal && g.resource === resource && g.name === name)
    .flatMap((g) => g.operations)
    .sort();
}

describe('the bus ACLs', () => {
  const grants = busGrants('_schemas');

  it('has a principal per agency connector and per service, and the operator', () => {
    expect(busPrincipals()).toEqual([
      'dossier',
      'tax',
      'business-registration',
      'vehicle',
      'sharing',
      'lookup',
      'registry',
      'subscriptions',
      OPERATOR_PRINCIPAL,
    ]);
  });

  it('lets each agency write its own topic, read back its own quarantine, and record resends, idempotently', () => {
    for (const agency of ['dossier', 'tax', 'business-registration', 'vehicle']) {
      // What it reads under a sharing agreement is the next test's.
      const own = grants.filter((g) => g.principal === agency && !g.name.startsWith('agreement.'));
      expect(own.filter((g) => g.resource === 'topic').map((g) => g.name)).toEqual([
        agency,
        `${agency}.quarantine`,
        'lienthong.redrive-log',
      ]);
      expect(allowed(grants, agency, 'topic', agency)).toEqual(['Describe', 'DescribeConfigs', 'Write']);
      expect(allowed(grants, agency, 'topic', `${agency}.quarantine`)).toEqual([
        'Describe',
        'DescribeConfigs',
        'Read',
        'Write',
      ]);
      expect(allowed(grants, agency, 'topic', 'lienthong.redrive-log')).toEqual([
        'Describe',
        'DescribeConfigs',
        'Write',
      ]);
      expect(allowed(grants, agency, 'cluster', 'kafka-cluster')).toEqual(['IdempotentWrite']);
      // Its quarantine groups are its own prefix: no agency can join another's.
      expect(own.filter((g) => g.resource === 'group')).toEqual([
        expect.objectContaining({ name: `lienthong-quarantine-${agency}-`, pattern: 'prefixed' }),
      ]);
    }
  });

  it('lets sharing and lookup read the domain topics but write only their own', () => {
    for (const topic of ['dossier', 'tax', 'business-registration', 'vehicle']) {
      expect(allowed(grants, 'sharing', 'topic', topic)).toEqual(['Describe', 'DescribeConfigs', 'Read']);
      expect(allowed(grants, 'lookup', 'topic', topic)).toEqual(['Describe', 'Read']);
    }
    expect(allowed(grants, 'sharing', 'topic', 'sharing.dead-letter')).toContain('Write');
    // Lookup reads its own copy back: verify compares the store with it.
    expect(allowed(grants, 'lookup', 'topic', 'lookup.audit')).toEqual(
      expect.arrayContaining(['Read', 'Write']),
    );
    const writes = grants.filter((g) => g.resource === 'topic' && g.operations.includes('Write'));
    expect(writes.filter((g) => g.principal === 'sharing').map((g) => g.name)).toEqual([
      'sharing.dead-letter',
      'sharing.changes',
    ]);
    // Its internal topic of changes is its own: it writes and reads it, and nobody else touches it.
    expect(allowed(grants, 'sharing', 'topic', 'sharing.changes')).toEqual(
      expect.arrayContaining(['Read', 'Write']),
    );
    expect(grants.filter((g) => g.name === 'sharing.changes').map((g) => g.principal)).toEqual(['sharing']);
    expect(writes.filter((g) => g.principal === 'lookup').map((g) => g.name)).toEqual(['lookup.audit']);
    // Lineage uses short-lived groups: a prefix, not a name.
    expect(grants.find((g) => g.principal === 'lookup' && g.resource === 'group')).toMatchObject({
      name: 'lienthong-lineage-',
      pattern: 'prefixed',
    });
  });

  it("lets an agreement's consumer agency alone read its derived topic, which the subscriptions service alone writes", () => {
    const consumed = grants.filter((g) => g.resource === 'topic' && g.name.startsWith('agreement.'));
    for (const topic of ['agreement.tax-new-enterprises', 'agreement.tax-vehicle-transfers']) {
      const on = consumed.filter((g) => g.name === topic);
      expect(on.map((g) => g.principal).sort()).toEqual(['subscriptions', 'tax']);
      expect(allowed(grants, 'tax', 'topic', topic)).toEqual(['Describe', 'DescribeConfigs', 'Read']);
      // It reads its own writes back for the webhooks.
      expect(allowed(grants, 'subscriptions', 'topic', topic)).toEqual([
        'Describe',
        'DescribeConfigs',
        'Read',
        'Write',
      ]);
      expect(grants).toContainEqual(
        expect.objectContaining({
          principal: 'tax',
          resource: 'group',
          name: `${topic}.`,
          pattern: 'prefixed',
        }),
      );
    }
    // The subscriptions service reads every domain topic and writes only derived topics.
    for (const topic of ['dossier', 'tax', 'business-registration', 'vehicle'])
      expect(allowed(grants, 'subscriptions', 'topic', topic)).toEqual([
        'Describe',
        'DescribeConfigs',
        'Read',
      ]);
    const writes = grants.filter(
      (g) => g.principal === 'subscriptions' && g.resource === 'topic' && g.operations.includes('Write'),
    );
    expect(writes.map((g) => g.name)).toEqual([
      'agreement.tax-new-enterprises',
      'agreement.tax-vehicle-transfers',
    ]);
  });

  it('gives the registry its state topic and nothing of the domain', () => {
    const registry = grants.filter((g) => g.principal === 'registry' && g.resource === 'topic');
    expect(registry.map((g) => g.name)).toEqual(['_schemas']);
    expect(allowed(grants, 'registry', 'topic', '_schemas')).toEqual([
      'Describe',
      'DescribeConfigs',
      'Read',
      'Write',
    ]);
  });

  it('grants the operator nothing: it is a super user, used for administration only', () => {
    expect(grants.some((g) => g.principal === OPERATOR_PRINCIPAL)).toBe(false);
  });

  it('grants no principal Create, Alter, Delete on a topic, or All', () => {
    for (const g of grants) {
      expect(g.operations).not.toContain('Create');
      if (g.resource === 'topic') expect(g.operations).not.toContain('Delete');
    }
  });
});

describe('ACL entries', () => {
  const grants = agencyGrants('tax', 'it-tax-1', 'it-tax-1.quarantine', {
    quarantineGroupPrefix: 'lienthong-quarantine-tax-',
    redriveLogTopic: 'lienthong.redrive-log',
  });
  const entries = aclEntries(grants);

  it('are one ALLOW entry per operation, for User:<principal> from any host', () => {
    expect(entries).toHaveLength(14);
    expect(entries[0]).toEqual({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: 'it-tax-1',
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:tax',
      host: '*',
      operation: AclOperationTypes.WRITE,
      permissionType: 3,
    });
    expect(describeAcl(entries[0] as (typeof entries)[0])).toBe('User:tax may Write on topic it-tax-1');
  });

  it('are missing when the broker lacks them, and only once', () => {
    const [first, ...rest] = entries;
    expect(missingAcls([...entries, ...entries], rest)).toEqual([first]);
    expect(missingAcls(entries, entries)).toEqual([]);
  });
});
