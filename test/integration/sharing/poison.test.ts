import { randomBytes } from 'node:crypto';
import { toConfluentWire } from '../../../services/platform/avro';
import { DEAD_LETTER_HEADERS } from '../../../services/sharing/dead-letters';
import { readMessages } from '../../support/kafka';
import { generateEventStream, type StreamEvent } from '../../support/event-stream';
import { sharingHarness } from '../../support/sharing';

const TOTAL = 10_000;
// Each unknown schema id is asked for again for a second, not the five minutes of production.
const harness = sharingHarness({ partitions: 6, batchSize: 250, service: { unknownSchemaRetryMs: 1_000 } });

beforeAll(() => harness.setUp());
afterAll(() => harness.tearDown());

/** One kind of garbage in three: random bytes, a schema id nobody registered, a valid frame of noise. */
function garbage(i: number): Buffer {
  if (i % 3 === 0) return randomBytes(1 + (i % 40));
  if (i % 3 === 1) return toConfluentWire(900_000 + i, randomBytes(12));
  return toConfluentWire(1, randomBytes(20));
}

it('dead-letters all of 1% garbage among 10,000 events, applies every good one, and no partition stalls', async () => {
  const good = generateEventStream(TOTAL - TOTAL / 100, 23);
  const stream: (StreamEvent & { raw?: Buffer })[] = [];
  const poison: Buffer[] = [];
  good.forEach((item, i) => {
    stream.push(item);
    if (i % 99 === 98) {
      const raw = garbage(poison.length);
      poison.push(raw);
      // Same key as a good event: the garbage sits in the middle of an entity's partition.
      stream.push({ ...item, raw });
    }
  });
  expect(stream).toHaveLength(TOTAL);
  await harness.publish(stream);
  await harness.start();
  await harness.waitForEvents(TOTAL, 600_000);

  expect(harness.service().stats()).toMatchObject({
    applied: good.length,
    noop: 0,
    deadLettered: poison.length,
  });
  const { committed, total } = await harness.progress();
  expect({ committed, total }).toEqual({ committed: TOTAL, total: TOTAL });

  {
    const letters = await readMessages(harness.kafka, harness.deadLetterTopic, poison.length);
    const values = new Set(letters.map((l) => l.rawValue?.toString('hex')));
    for (const raw of poison) expect(values.has(raw.toString('hex'))).toBe(true);
    const codes = new Set(letters.map((l) => l.headers[DEAD_LETTER_HEADERS.errorCode]));
    expect([...codes].sort()).toEqual(expect.arrayContaining(['EVENT_UNDECODABLE', 'SCHEMA_UNKNOWN']));
  }
}, 900_000);
