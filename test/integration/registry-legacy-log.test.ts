import { createProducer, ensureTopics } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import { type Registry } from '../../services/registry/registry';
import { registryHarness } from '../support/registry';
import { testKafka } from '../support/kafka';

/**
 * A schema log written before schemas were stored in canonical form: the same schema in two
 * spellings, which the registry of the time gave two ids (the Go client's duplicate). A registry
 * of this code must serve every version with the id it had, and register anew without a third id.
 */
describe('a schema log written before the canonical form', () => {
  const harness = registryHarness();
  let registry: Registry;
  const subject = 'legacy-taxpayer-value';
  const javaSpelling = JSON.stringify({
    type: 'record',
    name: 'Taxpayer',
    namespace: 'vn.hanoi.lienthong.test',
    fields: [{ name: 'taxCode', type: 'string' }],
  });
  const goSpelling =
    '{"fields":[{"type":"string","name":"taxCode"}],"namespace":"vn.hanoi.lienthong.test","type":"record","name":"Taxpayer"}';
  const canonical =
    '{"type":"record","name":"Taxpayer","namespace":"vn.hanoi.lienthong.test","fields":[{"name":"taxCode","type":"string"}]}';

  beforeAll(async () => {
    const logger = createLogger({ name: 'it-legacy-log', level: 'silent' });
    const kafka = testKafka('it-legacy', { logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [
      {
        topic: harness.topic,
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ]);
    await admin.disconnect();
    const producer = createProducer(kafka);
    await producer.connect();
    const record = (version: number, id: number, schema: string) => ({
      key: JSON.stringify({ keytype: 'SCHEMA', subject, version, magic: 1 }),
      value: JSON.stringify({ subject, version, id, schema, deleted: false, agency: 'HN-CUCTHUE' }),
    });
    // Records as the registry before this change wrote them: compact JSON in the sender's key order.
    await producer.send({
      topic: harness.topic,
      messages: [record(1, 1, javaSpelling), record(2, 2, goSpelling)],
    });
    await producer.disconnect();
    registry = await harness.start();
  });
  afterAll(() => harness.stopAll());

  it('serves every version with the id it had, each schema in canonical form', async () => {
    for (const [version, id] of [
      [1, 1],
      [2, 2],
    ] as const) {
      const answer = await harness.http(
        registry,
        'reader',
        'GET',
        `/subjects/${subject}/versions/${version}`,
      );
      expect(answer).toMatchObject({ status: 200, body: { subject, version, id, schema: canonical } });
    }
    expect(await harness.http(registry, 'reader', 'GET', '/schemas/ids/2')).toMatchObject({
      status: 200,
      body: { schema: canonical },
    });
  });

  it('finds the first id for either spelling, and a new subject reuses it rather than take a third', async () => {
    const lookup = await harness.http(registry, 'reader', 'POST', `/subjects/${subject}`, {
      schema: goSpelling,
    });
    expect(lookup).toMatchObject({ status: 200, body: { version: 1, id: 1 } });
    const again = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
      schema: goSpelling,
    });
    expect(again).toMatchObject({ status: 200, body: { version: 1, id: 1 } });
    const elsewhere = await harness.http(
      registry,
      'HN-CUCTHUE',
      'POST',
      '/subjects/legacy-copy-value/versions',
      {
        schema: goSpelling,
      },
    );
    expect(elsewhere).toMatchObject({ status: 200, body: { version: 1, id: 1 } });
    expect(await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions`)).toMatchObject({
      body: [1, 2],
    });
  });
});
