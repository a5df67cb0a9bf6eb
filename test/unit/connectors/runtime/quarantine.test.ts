import {
  createQuarantine,
  quarantineTopicDeclaration,
  quarantineTopicFor,
} from '../../../../connectors/runtime/quarantine';
import { type OutgoingRecord } from '../../../../connectors/runtime/publisher';

function fakePublisher() {
  const published: OutgoingRecord[][] = [];
  return {
    published,
    publisher: {
      async publish(records: readonly OutgoingRecord[]) {
        published.push([...records]);
        return records.map((r, i) => ({ topic: r.topic, partition: 0, offset: String(10 + i) }));
      },
    },
  };
}

describe('quarantine', () => {
  it('names the topic after the one the record was meant for', () => {
    expect(quarantineTopicFor('tax')).toBe('tax.quarantine');
    expect(quarantineTopicDeclaration('tax')).toEqual({
      topic: 'tax.quarantine',
      kind: 'quarantine',
      numPartitions: 1,
    });
  });

  it('publishes the original record and its issues as JSON, keyed by agency and record id', async () => {
    const { publisher, published } = fakePublisher();
    const quarantine = createQuarantine({ publisher, topic: 'tax' });
    const row = { ma_so_thue: '0108912348', ten: 'CÔNG TY X' };
    const where = await quarantine.quarantine({
      agency: 'HN-CUCTHUE',
      source: 'import',
      importId: 'imp-1',
      sourceRecordId: 'DKT-1',
      record: row,
      issues: [
        { path: '$.ma_so_thue', code: 'INVALID_TAX_CODE', message: 'Bad check digit' },
        { path: '$.ten', code: 'TOO_LONG', message: 'Too long' },
      ],
      receivedAt: Date.UTC(2024, 2, 12, 2, 15),
    });

    expect(where).toEqual({ topic: 'tax.quarantine', partition: 0, offset: '10' });
    const record = published[0]?.[0];
    expect(record).toMatchObject({
      topic: 'tax.quarantine',
      key: 'HN-CUCTHUE/DKT-1',
      headers: { 'lienthong-error-code': 'INVALID_TAX_CODE', 'content-type': 'application/json' },
    });
    expect(JSON.parse(record?.value.toString('utf8') ?? 'null')).toEqual({
      agency: 'HN-CUCTHUE',
      source: 'import',
      importId: 'imp-1',
      sourceRecordId: 'DKT-1',
      topic: 'tax',
      record: row,
      issues: [
        { path: '$.ma_so_thue', code: 'INVALID_TAX_CODE', message: 'Bad check digit' },
        { path: '$.ten', code: 'TOO_LONG', message: 'Too long' },
      ],
      receivedAt: '2024-03-12T02:15:00.000Z',
    });
  });

  it('keys by the agency alone when the record id is unknown', async () => {
    const { publisher, published } = fakePublisher();
    await createQuarantine({ publisher, topic: 'vehicle' }).quarantine({
      agency: 'HN-PC08',
      source: 'http',
      record: 'not an object',
      issues: [],
      receivedAt: 0,
    });
    const record = published[0]?.[0];
    expect(record?.key).toBe('HN-PC08');
    expect(record?.headers?.['lienthong-error-code']).toBe('VALIDATION_FAILED');
    expect(JSON.parse(record?.value.toString() ?? 'null')).not.toHaveProperty('importId');
  });

  it('fails when the publisher does', async () => {
    const publisher = { publish: async () => Promise.reject(new Error('Kafka is unavailable')) };
    await expect(
      createQuarantine({ publisher, topic: 'tax' }).quarantine({
        agency: 'HN-CUCTHUE',
        source: 'http',
        record: {},
        issues: [{ path: '$', code: 'X', message: 'x' }],
        receivedAt: 0,
      }),
    ).rejects.toThrow('Kafka is unavailable');
  });
});
