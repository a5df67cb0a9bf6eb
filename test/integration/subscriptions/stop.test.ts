import { derivationGroupOf } from '../../../services/subscriptions/derived-topics';
import { type Derivation } from '../../../services/subscriptions/deriver';
import { until } from '../../support/fixtures';
import { storyEvents, T0 } from '../../support/story';
import { agreementEntry, subscriptionsHarness } from '../../support/subscriptions';

/**
 * A stop that comes while a batch is being derived: the batch is sent and committed all the same,
 * so the next start does not derive it again. kafkajs drops `consumer.commitOffsets` once the
 * consumer is stopping; the batch's own commit (`commitOffsetsIfNecessary`) goes through.
 */
it('commits the batch in hand when the service stops', async () => {
  const transfers = agreementEntry({
    id: 'tax-vehicle-transfers',
    sources: [
      {
        topic: 'vehicle',
        events: { OwnershipTransferred: { plate: 'clear', newOwner: 'clear', previousOwner: 'last4' } },
      },
    ],
  });
  const harness = subscriptionsHarness([transfers]);
  await harness.setUp();
  try {
    await harness.domain.publish(storyEvents());
    const derived: Derivation[] = [];
    let stopped: Promise<void> | undefined;
    await harness.start(() => T0, harness.agreements(), {
      onDerived(derivations) {
        derived.push(...derivations);
        // The stop begins within the first batch, before its derived events are sent.
        stopped ??= harness.stop();
      },
    });
    await until('the stop begun', async () => stopped !== undefined, 60_000);
    await stopped;
    expect(derived.length).toBeGreaterThan(0);

    const admin = harness.domain.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({
        groupId: derivationGroupOf('tax-vehicle-transfers', `${harness.prefix}subscriptions`),
        topics: [harness.domain.topics.vehicle],
      });
      const committed = new Map(offsets?.partitions.map((p) => [p.partition, Number(p.offset)]));
      const behind = derived.filter(
        ({ source }) => (committed.get(source.partition) ?? -1) <= Number(source.offset),
      );
      expect(behind).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  } finally {
    await harness.tearDown();
  }
}, 180_000);
