import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { type TaxNativeRecord } from '../../../connectors/tax/native-record';
import { AVRO_LOGICAL_TYPES } from '../../../services/platform/avro';
import { createLogger } from '../../../services/platform/logger';
import { connectorHarness, registryKey, send } from '../../support/connector';
import { endpoint } from '../../support/fixtures';
import { readTopic, startTestProxy, testKafka } from '../../support/kafka';
import { attemptsPerSend, faultEpisodes, produceFaultQueue, totalInjected } from '../../support/kafka-proxy';

/**
 * An acknowledged record is never lost, whatever happens to the produce requests on the way: the
 * connector's Kafka connections go through a proxy that swallows the broker's answers after it
 * wrote the batch, resets connections and delays answers beyond the send timeout.
 */

const SEND_TIMEOUT_MS = 1_000;
const ATTEMPTS = attemptsPerSend(SEND_TIMEOUT_MS);
const json = 'application/json';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A valid tax code per entity, from the demo generator. */
const TAX_CODES = [...new Set(generateRecords('tax', 60, 7).map((r) => r.mst))].slice(0, 5);

/** A tax debt update of `entity`, version `version`; the amount is the version, to tell records apart. */
function debtRecord(entity: number, version: number): TaxNativeRecord {
  return {
    loaiBanGhi: 'CAP_NHAT_NO',
    maBanGhi: `ACK-${entity}`,
    mst: TAX_CODES[entity % TAX_CODES.length] as string,
    loaiNnt: 'DOANH_NGHIEP',
    phienBan: version,
    soTienNo: String(version),
    ngayChotNo: '2024-03-01T08:00:00+07:00',
  } as TaxNativeRecord;
}

interface Accepted {
  eventId: string;
  partition: number;
  offset: string;
  amount: string;
}

describe('the connector, with its Kafka answers lost, reset and delayed', () => {
  const proxy = startTestProxy();
  const harness = connectorHarness(taxConnector, {
    socketFactory: proxy.socketFactory,
    sendTimeoutMs: SEND_TIMEOUT_MS,
  });
  const faults = produceFaultQueue(proxy);
  let version = 0;
  let kafka: Kafka;

  beforeAll(async () => {
    await harness.start();
    kafka = testKafka('it-acknowledged-read', {
      logger: createLogger({ name: 'it', level: 'silent' }),
    });
  });
  afterAll(async () => {
    await harness.dispose();
    await proxy.close();
  });

  /** Posts `records`; the accepted ones, or the status of a refusal. */
  const post = async (records: TaxNativeRecord[]): Promise<Accepted[] | number> => {
    const answer = await send(harness.url(), '/v1/records', {
      apiKey: harness.apiKey,
      contentType: json,
      body: JSON.stringify(records),
    });
    if (answer.status !== 200) return answer.status;
    return (answer.body.records as { eventId: string; partition: number; offset: string }[]).map((r, i) => ({
      eventId: r.eventId,
      partition: r.partition,
      offset: r.offset,
      amount: (records[i] as { soTienNo: string }).soTienNo,
    }));
  };

  /** Posts `records` again after each 503, as an agency system does, up to 20 times. */
  const postUntilAccepted = async (records: TaxNativeRecord[]): Promise<Accepted[] | number> => {
    let answer: Accepted[] | number = 503;
    for (let tries = 0; tries < 20 && answer === 503; tries += 1) answer = await post(records);
    return answer;
  };

  /** Checks every accepted record against what the topic holds at its answered place. */
  const expectInTopic = async (accepted: readonly Accepted[]): Promise<void> => {
    const registry = new SchemaRegistry(
      {
        host: endpoint('SCHEMA_REGISTRY_URL'),
        auth: { username: 'lienthong-reader', password: registryKey('lienthong-reader') },
      },
      { [SchemaType.AVRO]: { logicalTypes: AVRO_LOGICAL_TYPES } },
    );
    const held = new Map<string, { eventId: string; amount: string | undefined }>();
    for (const m of await readTopic(kafka, harness.topic)) {
      const event = (await registry.decode(m.rawValue as Buffer)) as {
        eventId: string;
        payload: Record<string, { amount?: string }>;
      };
      // The payload union is wrapped by its branch's name.
      const [debt] = Object.values(event.payload);
      held.set(`${m.partition}/${m.offset}`, { eventId: event.eventId, amount: debt?.amount });
    }
    const places = new Set<string>();
    for (const a of accepted) {
      const place = `${a.partition}/${a.offset}`;
      // No answer points at a place another answer named.
      expect(places.has(place)).toBe(false);
      places.add(place);
      expect({ place, ...held.get(place) }).toEqual({ place, eventId: a.eventId, amount: a.amount });
    }
  };

  it('never answers a record with the place of one whose acknowledgement was lost', async () => {
    const accepted: Accepted[] = [];
    const first = await postUntilAccepted([debtRecord(0, ++version)]);
    expect(first).toEqual([expect.objectContaining({ amount: String(version) })]);
    accepted.push(...(first as Accepted[]));

    // Every attempt of the next send is written by the broker, but its answer never comes back.
    for (let i = 0; i < ATTEMPTS; i += 1) faults.push({ kind: 'swallow', then: 'reset' });
    expect(await post([debtRecord(0, ++version)])).toBe(503);

    // The same entity's next record, as many records as the lost batch: an agency resends until 200.
    const answer = await postUntilAccepted([debtRecord(0, ++version)]);
    expect(answer).toEqual([expect.objectContaining({ amount: String(version) })]);
    accepted.push(...(answer as Accepted[]));
    expect(faults).toEqual([]);

    await expectInTopic(accepted);
  });

  it('answers 503 while Kafka cannot be reached, and 200 again once it can, without a restart', async () => {
    proxy.refuse(true);
    try {
      expect(await post([debtRecord(1, ++version)])).toBe(503);
      expect(await post([debtRecord(1, ++version)])).toBe(503);
    } finally {
      proxy.refuse(false);
    }
    const answer = await postUntilAccepted([debtRecord(1, ++version)]);
    expect(answer).toEqual([expect.objectContaining({ amount: String(version) })]);
    await expectInTopic(answer as Accepted[]);
  });

  it('over more than 50 faults, keeps every acknowledged record at its answered place', async () => {
    const accepted: Accepted[] = [];
    const refusals = new Map<number, number>();
    let running = true;
    let okAfter = 0;

    // Four agency systems posting 1 to 3 records of five entities, as fast as answers come.
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; running; n += 1) {
        const records = Array.from({ length: 1 + ((n + w) % 3) }, (_, i) => debtRecord(w + n + i, ++version));
        const answer = await post(records);
        if (typeof answer === 'number') refusals.set(answer, (refusals.get(answer) ?? 0) + 1);
        else {
          accepted.push(...answer);
          okAfter += 1;
        }
        await sleep(2);
      }
    };

    // 58 episodes: 30 that kafkajs's retries get over, 28 that end a send in doubt; 86 faults.
    const episodes = faultEpisodes({ attempts: ATTEMPTS, timeoutMs: SEND_TIMEOUT_MS, quick: 10, slow: 7 });
    const before = totalInjected(proxy.injected());

    const writers = [0, 1, 2, 3].map(writer);
    for (const episode of episodes) {
      faults.push(...episode);
      while (faults.length > 0) await sleep(10);
      // The next episode once the connector answered 200 again.
      const answered = okAfter;
      while (okAfter === answered) await sleep(10);
    }
    running = false;
    await Promise.all(writers);

    const injected = proxy.injected();
    expect(totalInjected(injected) - before).toBeGreaterThanOrEqual(50);
    expect(Object.keys(injected).sort()).toEqual([
      'delay',
      'hold',
      'reset',
      'swallow-reset',
      'swallow-stall',
    ]);
    // Refusals are retriable 503s only, never a 5xx of another kind.
    expect([...refusals.keys()].filter((status) => status !== 503)).toEqual([]);
    expect(accepted.length).toBeGreaterThan(100);
    await expectInTopic(accepted);
    process.stdout.write(
      `faults ${JSON.stringify(injected)}; accepted ${accepted.length}; refused ${JSON.stringify([...refusals])}\n`,
    );
  }, 120_000);
});
