import { SERVICE_PRINCIPALS } from '../../../deploy/local/topics';
import { consumerGroupPrefixOf } from '../../../services/subscriptions/derived-topics';
import { uniqueName } from '../../support/fixtures';
import { aclsEnforced, readTopic, testKafka } from '../../support/kafka';
import { STORY, storyEvents, T0 } from '../../support/story';
import {
  agreementEntry,
  operatorRegistry,
  readDerived,
  subscriptionsHarness,
} from '../../support/subscriptions';

/** Every `type` and `name` along an error's causes. */
function errorKinds(error: unknown, depth = 0): string[] {
  if (depth > 6 || typeof error !== 'object' || error === null) return [];
  const e = error as { type?: unknown; name?: unknown; cause?: unknown };
  const own = [e.type, e.name].filter((v): v is string => typeof v === 'string');
  return [...own, ...(e.cause === undefined ? [] : errorKinds(e.cause, depth + 1))];
}

describe('delivery over Kafka under a sharing agreement', () => {
  const enterprises = agreementEntry({
    id: 'tax-new-enterprises',
    sources: [
      {
        topic: 'business-registration',
        events: {
          EnterpriseRegistered: {
            enterpriseCode: 'clear',
            name: 'clear',
            legalRepresentativeCitizenId: 'last4',
            registeredAt: 'year',
          },
        },
      },
    ],
  });
  const transfers = agreementEntry({
    id: 'tax-vehicle-transfers',
    sources: [
      {
        topic: 'vehicle',
        events: { OwnershipTransferred: { plate: 'clear', newOwner: 'clear', previousOwner: 'last4' } },
      },
    ],
  });
  const harness = subscriptionsHarness([enterprises, transfers]);

  beforeAll(async () => {
    await harness.setUp();
    await harness.domain.publish(storyEvents());
    await harness.start(() => T0);
  });
  afterAll(() => harness.tearDown());

  it('gives the consumer agency exactly the allowed fields, masked as declared, decoded through the registry', async () => {
    const registry = operatorRegistry();
    const [registered] = await readDerived('tax', harness.derivedTopic('tax-new-enterprises'), 1);
    const [transferred] = await readDerived('tax', harness.derivedTopic('tax-vehicle-transfers'), 1);
    const enterprise = (await registry.decode(registered?.rawValue as Buffer)) as Record<string, unknown>;
    const transfer = (await registry.decode(transferred?.rawValue as Buffer)) as Record<string, unknown>;
    expect(enterprise).toMatchObject({
      eventType: 'EnterpriseRegistered',
      sourceAgency: 'HN-DKKD',
      agreementId: 'tax-new-enterprises',
      payload: {
        enterpriseCode: STORY.enterprise,
        name: 'Công ty TNHH Liên Thông Xanh',
        legalRepresentativeCitizenId: '********2345',
        registeredAt: 2026,
      },
    });
    expect(Object.keys(enterprise.payload as object).sort()).toEqual(
      ['enterpriseCode', 'legalRepresentativeCitizenId', 'name', 'registeredAt'].sort(),
    );
    expect(transfer.payload).toEqual({
      plate: STORY.plate,
      newOwner: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: STORY.buyer } },
      previousOwner: { 'vn.hanoi.lienthong.common.EnterpriseParty': { enterpriseCode: '******2347' } },
    });
    // Nothing else of the source travels: no subjects, no founder in clear, no address.
    expect(registered?.rawValue?.includes(Buffer.from(STORY.founder))).toBe(false);
    expect(JSON.stringify(enterprise)).not.toContain('Nguyễn Văn Cừ');
    // Keyed by the entity, in the partition its source event was in, with its trace.
    // The plate's second event is the transfer; its registration is not shared.
    const source = (await readTopic(harness.domain.kafka, harness.domain.topics.vehicle))
      .filter((m) => m.key === STORY.plate)
      .at(-1);
    expect(transferred).toMatchObject({ key: STORY.plate, partition: source?.partition });
    expect(transferred?.headers.traceparent).toBe(source?.headers.traceparent);
  });

  it("refuses the derived topic to another agency's principal, and to the deriving service's own reads", async () => {
    if (!aclsEnforced()) return;
    const topic = harness.derivedTopic('tax-vehicle-transfers');
    for (const principal of ['vehicle', SERVICE_PRINCIPALS.sharing]) {
      const consumer = testKafka('it-subscriptions-foreign', { principal, retry: { retries: 0 } }).consumer({
        groupId: `${consumerGroupPrefixOf(topic)}${uniqueName('it')}`,
        retry: { retries: 0 },
      });
      try {
        await consumer.connect();
        const refused = await consumer.subscribe({ topic, fromBeginning: true }).then(
          () => [] as string[],
          (err: unknown) => errorKinds(err),
        );
        expect(refused).toContain('TOPIC_AUTHORIZATION_FAILED');
      } finally {
        await consumer.disconnect();
      }
    }
  });
});
