import { type TopicEvents } from '../../../schemas/generated/events';
import { uniqueName } from '../../support/fixtures';
import { type StoryEvent } from '../../support/story';
import {
  agreementEntry,
  operatorRegistry,
  readDerived,
  subscriptionsHarness,
} from '../../support/subscriptions';
import { citizen, eventOf } from '../../unit/sharing/events';

const IN_FORCE = Date.UTC(2030, 0, 1);
const EXPIRED = Date.UTC(2040, 0, 1);

/** A vehicle changing hands, keyed by its plate. */
function transfer(plate: string): StoryEvent {
  const event: TopicEvents['vehicle'] = eventOf(
    'OwnershipTransferred',
    { record: `DKX-${plate}`, version: 2, occurredAt: IN_FORCE, subjects: { plates: [plate] } },
    {
      plate,
      previousOwner: citizen('001089012345'),
      newOwner: citizen('001195004321'),
      transferredAt: IN_FORCE,
    },
  );
  return { topic: 'vehicle', key: plate, event };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an agreement from a chosen time, until it expires, and narrowed', () => {
  const sources = (fields: Record<string, string>) => [
    { topic: 'vehicle', events: { OwnershipTransferred: fields } },
  ];
  const entry = agreementEntry({
    id: 'tax-transfers',
    sources: sources({ plate: 'clear', newOwner: 'clear', transferredAt: 'year' }),
  });
  const harness = subscriptionsHarness([entry]);
  const topic = harness.derivedTopic('tax-transfers');
  const plates = ['29A-001.01', '29A-001.02', '29A-001.03', '29A-001.04'].map(
    (p) => `${p}${uniqueName('').slice(-1)}`,
  );
  let now = IN_FORCE;
  let deliverFrom = '';

  beforeAll(async () => {
    await harness.setUp();
    await harness.domain.publish([transfer(plates[0] as string), transfer(plates[1] as string)]);
    await sleep(50);
    deliverFrom = new Date(Date.now()).toISOString();
    await sleep(50);
    await harness.domain.publish([transfer(plates[2] as string)]);
    await harness.start(() => now, harness.agreements([{ ...entry, deliverFrom }]));
  });
  afterAll(() => harness.tearDown());

  const decoded = async (count: number) => {
    const registry = operatorRegistry();
    const messages = await readDerived('tax', topic, count);
    return Promise.all(
      messages.map(async (m) => ({
        key: m.key,
        value: (await registry.decode(m.rawValue as Buffer)) as { payload: Record<string, unknown> },
      })),
    );
  };

  it('starts a new agreement at its deliverFrom: what the topics got before is not delivered', async () => {
    const [only] = await decoded(1);
    expect(only?.key).toBe(plates[2]);
    expect(only?.value.payload).toEqual({
      plate: plates[2],
      newOwner: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: '001195004321' } },
      transferredAt: 2030,
    });
  });

  it('stops delivery once the agreement has expired', async () => {
    now = EXPIRED;
    for (let i = 0; harness.service().stats()['tax-transfers']?.running; i += 1) {
      if (i > 100) throw new Error('delivery did not stop');
      await sleep(100);
    }
    const before = harness.service().stats()['tax-transfers']?.derived;
    await harness.domain.publish([transfer(plates[3] as string)]);
    // Nothing can be awaited for what must not happen: a few checks of the validity pass.
    await sleep(1_000);
    expect(harness.service().stats()['tax-transfers']?.derived).toBe(before);
    const admin = harness.domain.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
  });

  it('never sends a field the agreement no longer allows once narrowed', async () => {
    await harness.stop();
    now = IN_FORCE;
    const narrowed = harness.agreements([
      { ...entry, deliverFrom, sources: sources({ plate: 'clear', transferredAt: 'year' }) },
    ]);
    await harness.start(() => now, narrowed);
    // The event held back at expiry goes out now, under the narrowed agreement.
    const next = (await decoded(2)).find((m) => m.key === plates[3]);
    expect(next?.value.payload).toEqual({ plate: plates[3], transferredAt: 2030 });
    expect(next?.value).toMatchObject({ agreementVersion: narrowed[0]?.version });
  });
});
