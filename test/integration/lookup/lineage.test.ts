import { recreateTopic } from '../../support/kafka';
import { type Answer, lookupHarness } from '../../support/lookup';
import { envelope, STORY, storyEvents } from '../../support/story';

/**
 * Lineage after the vehicle topic was deleted and created again: the coordinates a view recorded
 * now hold another event, which lineage must not show as the section's source.
 */
const harness = lookupHarness();
const [registered] = storyEvents().filter((e) => e.topic === 'vehicle');
if (!registered) throw new Error('the story has no vehicle event');
const auditor = () => harness.token('auditor', 'TT-0001', 'HN-TTRA');
const lineageUrl = `/v1/audit/lineage/vehicles/${encodeURIComponent(STORY.plate)}`;

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish([registered]);
  await harness.sharing.waitForEvents(1);
});

afterAll(async () => {
  await harness.tearDown();
});

const sectionsOf = (answer: Answer) => answer.json().sections as ReturnType<Answer['json']>[];

it('says an event is not found when the message at its coordinates is another event', async () => {
  const before = sectionsOf(await harness.get(lineageUrl, { token: auditor() }));
  const registration = before.find((s) => s.path === 'registration');
  expect(registration?.event).toMatchObject({ found: true, decoded: { eventId: registered.event.eventId } });

  // The service is stopped so that it does not apply the new topic's event to the same document.
  await harness.sharing.stop();
  await recreateTopic(harness.sharing.kafka, harness.sharing.topics.vehicle);
  // Another record of the same plate, same key: it lands on the same partition, at offset 0 again.
  const impostor = {
    ...registered,
    event: {
      ...registered.event,
      ...envelope('vehicle', 'DKX-2026-999999', 1, registered.event.occurredAt, registered.event.subjects),
    },
  };
  expect(impostor.event.eventId).not.toBe(registered.event.eventId);
  await harness.sharing.publish([impostor]);

  const response = await harness.get(lineageUrl, { token: auditor() });
  expect(response.statusCode).toBe(200);
  for (const section of sectionsOf(response)) {
    expect(section.source).toMatchObject({ eventId: registered.event.eventId, offset: '0' });
    expect(section.event).toEqual({
      found: false,
      code: 'EVENT_REPLACED',
      reason: expect.stringMatching(/another event/i),
    });
  }
}, 120_000);
