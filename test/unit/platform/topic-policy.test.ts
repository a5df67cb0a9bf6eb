import {
  expectationFor,
  expectationOf,
  policyTopicSpec,
  replicationPolicy,
  TOPIC_POLICY,
  topicDrift,
  topicReadiness,
} from '../../../services/platform/topic-policy';

describe('the topic policy', () => {
  it('replicates to min(3, brokers) and acknowledges on all replicas but one', () => {
    expect([1, 2, 3, 5].map((brokers) => replicationPolicy(brokers))).toEqual([
      {
        replicationFactor: 1,
        configs: { 'min.insync.replicas': '1', 'unclean.leader.election.enable': 'false' },
      },
      {
        replicationFactor: 2,
        configs: { 'min.insync.replicas': '1', 'unclean.leader.election.enable': 'false' },
      },
      {
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' },
      },
      {
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' },
      },
    ]);
  });

  it('keeps domain topics forever, quarantines and dead letters 30 days, the audit 10 years', () => {
    expect(TOPIC_POLICY.domain['retention.ms']).toBe('-1');
    expect(TOPIC_POLICY.quarantine['retention.ms']).toBe('2592000000');
    expect(TOPIC_POLICY['dead-letter']['retention.ms']).toBe('2592000000');
    expect(TOPIC_POLICY.audit['retention.ms']).toBe(String(3660 * 86_400_000));
    expect(TOPIC_POLICY['registry-state']['cleanup.policy']).toBe('compact');
  });

  it('creates a topic with every setting of its row and the replication of the cluster', () => {
    expect(policyTopicSpec({ topic: 'tax', kind: 'domain', numPartitions: 6 }, 3)).toEqual({
      topic: 'tax',
      numPartitions: 6,
      replicationFactor: 3,
      configEntries: [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: '-1' },
        { name: 'min.insync.replicas', value: '2' },
        { name: 'unclean.leader.election.enable', value: 'false' },
      ],
    });
  });
});

describe('topicDrift', () => {
  const expected = expectationOf({ topic: 'tax', kind: 'domain', numPartitions: 6 }, 1);
  const onPolicy = {
    'cleanup.policy': 'delete',
    'retention.ms': '-1',
    'min.insync.replicas': '1',
    'unclean.leader.election.enable': 'false',
    'segment.bytes': '1073741824',
  };

  it('finds nothing on a topic as the policy wants it, whatever else it sets', () => {
    expect(topicDrift(expected, { configs: onPolicy, replicationFactor: 1 })).toEqual([]);
  });

  it('names the topic, the setting, the value wanted and the value found', () => {
    const drift = topicDrift(expected, {
      configs: { ...onPolicy, 'retention.ms': '604800000', 'unclean.leader.election.enable': 'true' },
      replicationFactor: 1,
    });
    expect(drift).toEqual([
      { topic: 'tax', setting: 'retention.ms', expected: '-1', found: '604800000' },
      { topic: 'tax', setting: 'unclean.leader.election.enable', expected: 'false', found: 'true' },
    ]);
  });

  it('reports a replication factor below the policy, a missing setting, and a missing topic', () => {
    const onThree = expectationOf({ topic: 'tax', kind: 'domain', numPartitions: 6 }, 3);
    const { 'unclean.leader.election.enable': _unclean, ...rest } = onPolicy;
    expect(
      topicDrift(onThree, { configs: { ...rest, 'min.insync.replicas': '2' }, replicationFactor: 1 }),
    ).toEqual([
      { topic: 'tax', setting: 'replication.factor', expected: '3', found: '1' },
      { topic: 'tax', setting: 'unclean.leader.election.enable', expected: 'false', found: '(unset)' },
    ]);
    expect(topicDrift(expected, undefined)).toEqual([
      { topic: 'tax', setting: 'topic', expected: 'present', found: 'absent' },
    ]);
  });
});

describe('expectationFor', () => {
  const tax = { topic: 'tax', kind: 'domain', numPartitions: 6 } as const;
  const onThree = {
    'cleanup.policy': 'delete',
    'retention.ms': '-1',
    'min.insync.replicas': '2',
    'unclean.leader.election.enable': 'false',
  };

  it('measures a topic of three replicas against three brokers while one of them is down', () => {
    const described = { configs: onThree, replicationFactor: 3 };
    expect(expectationFor(tax, 2, described)).toEqual(expectationOf(tax, 3));
    expect(topicDrift(expectationFor(tax, 2, described), described)).toEqual([]);
  });

  it('still finds a topic with fewer replicas than the live cluster wants', () => {
    const described = { configs: { ...onThree, 'min.insync.replicas': '1' }, replicationFactor: 1 };
    expect(topicDrift(expectationFor(tax, 3, described), described)).toEqual([
      { topic: 'tax', setting: 'replication.factor', expected: '3', found: '1' },
      { topic: 'tax', setting: 'min.insync.replicas', expected: '2', found: '1' },
    ]);
  });

  it('takes more replicas than the policy asks for as no drift', () => {
    const described = { configs: onThree, replicationFactor: 3 };
    expect(
      topicDrift(expectationOf(tax, 2), {
        ...described,
        configs: { ...onThree, 'min.insync.replicas': '1' },
      }),
    ).toEqual([]);
  });
});

describe('topicReadiness', () => {
  it('follows the start without drift, and is held with one reason per drifted setting', () => {
    const drift = [{ topic: 'tax', setting: 'retention.ms', expected: '-1', found: '604800000' }];
    expect(topicReadiness(false, [])).toBe(false);
    expect(topicReadiness(true, [])).toBe(true);
    expect(topicReadiness(false, drift)).toEqual(topicReadiness(true, drift));
    expect(topicReadiness(true, drift)).toEqual({
      reasons: [
        {
          path: '/topics/tax/retention.ms',
          message: 'topic tax: retention.ms is 604800000, the topic policy wants -1',
        },
      ],
    });
  });
});
