import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createAvroEncoder } from '../../../../connectors/runtime/avro-encoder';
import {
  decodeAvro,
  encodeAvro,
  fromConfluentWire,
  parseAvroSchema,
  toConfluentWire,
  ValidationError,
} from '../../../../services/platform';
import { createConfluentEncoder } from '../../../../services/platform/avro';

const ROOT = path.resolve(__dirname, '../../../..');
const TAX_SCHEMA = readFileSync(path.join(ROOT, 'schemas/tax.avsc'), 'utf8');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/avro/tax/v1', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;

/** The two requests the encoder makes, answered from memory and counted. */
function fakeRegistry(answer: { id?: number; schema?: unknown; schemaType?: string } = {}) {
  const calls = { latest: 0, find: 0 };
  const registry = {
    async getLatestSchemaId(subject: string) {
      calls.latest += 1;
      if (subject !== 'tax-value') throw new Error(`Subject '${subject}' not found.`);
      return answer.id ?? 42;
    },
    api: {
      Schema: {
        async find({ id }: { id: number }) {
          calls.find += 1;
          const data = {
            schema: answer.schema ?? TAX_SCHEMA,
            id,
            ...(answer.schemaType ? { schemaType: answer.schemaType } : {}),
          };
          return { data: () => data };
        },
      },
    },
  } as unknown as SchemaRegistry;
  return { registry, calls };
}

describe('createAvroEncoder', () => {
  it('fetches the schema once, then frames every value with its id, decimals included', async () => {
    const { registry, calls } = fakeRegistry({ id: 42 });
    const encoder = createAvroEncoder({ registry, subject: 'tax-value' });
    await Promise.all([encoder.start(), encoder.start()]);
    await encoder.start();
    const type = parseAvroSchema(TAX_SCHEMA);

    for (const name of ['TaxpayerRegistered', 'TaxDebtUpdated', 'TaxpayerStatusChanged']) {
      const value = fixture(name);
      const { schemaId, payload } = fromConfluentWire(encoder.encode(value));
      expect(schemaId).toBe(42);
      expect(decodeAvro(type, payload)).toEqual(value);
    }
    expect(encoder.schemaId()).toBe(42);
    expect(calls).toEqual({ latest: 1, find: 1 });
  });

  it('refuses an invalid value with a ValidationError naming each bad field', async () => {
    const { registry } = fakeRegistry();
    const encoder = createAvroEncoder({ registry, subject: 'tax-value' });
    await encoder.start();
    const value = fixture('TaxDebtUpdated');
    const payload = value.payload as Record<string, Record<string, unknown>>;
    Object.assign(payload['vn.hanoi.lienthong.tax.TaxDebtUpdated'] ?? {}, { amount: 12.5 });
    value.sourceVersion = 'seventeen';

    const err = (() => {
      try {
        encoder.encode(value);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['payload["vn.hanoi.lienthong.tax.TaxDebtUpdated"].amount', 'sourceVersion']);
    expect((err as ValidationError).issues.every((i) => i.code === 'AVRO_VALUE_INVALID')).toBe(true);
  });

  it('refuses to encode before start', () => {
    const { registry } = fakeRegistry();
    expect(() => createAvroEncoder({ registry, subject: 'tax-value' }).encode({})).toThrow(/not started/);
  });

  it('fails start, retriably, when the subject cannot be read, and tries again on the next start', async () => {
    const { registry, calls } = fakeRegistry();
    const missing = createAvroEncoder({ registry, subject: 'nope-value' });
    await expect(missing.start()).rejects.toMatchObject({ code: 'INTERNAL', retriable: true });
    await expect(missing.start()).rejects.toThrow(/nope-value/);
    expect(calls.latest).toBe(2);
  });

  it('refuses a subject whose latest schema is not Avro', async () => {
    const { registry } = fakeRegistry({ schemaType: 'JSON', schema: '{"type":"object"}' });
    await expect(createAvroEncoder({ registry, subject: 'tax-value' }).start()).rejects.toThrow(/not AVRO/);
  });
});

describe('createConfluentEncoder', () => {
  const type = parseAvroSchema(TAX_SCHEMA);
  const values = ['TaxpayerRegistered', 'TaxDebtUpdated', 'TaxpayerStatusChanged'].map(fixture);

  it('writes each message once into a shared slab, byte for byte what framing a copy gives', () => {
    const encode = createConfluentEncoder(7, type, 4_096);
    const messages = [...values, ...values].map((v) => encode(v));
    messages.forEach((m, i) =>
      expect(m.equals(toConfluentWire(7, encodeAvro(type, values[i % values.length])))).toBe(true),
    );
    // Views of one slab, one after the other, none overlapping: no buffer of its own per message.
    expect(new Set(messages.map((m) => m.buffer)).size).toBe(1);
    for (let i = 1; i < messages.length; i += 1) {
      const [before, after] = [messages[i - 1] as Buffer, messages[i] as Buffer];
      expect(after.byteOffset).toBe(before.byteOffset + before.length);
    }
  });

  it('starts a new slab when one is full, and gives a message larger than a slab its own buffer', () => {
    const size = toConfluentWire(7, encodeAvro(type, values[0])).length;
    const encode = createConfluentEncoder(7, type, size + 10);
    const [a, b] = [encode(values[0]), encode(values[0])];
    expect(a.buffer).not.toBe(b.buffer);
    const tiny = createConfluentEncoder(7, type, 16);
    const big = tiny(values[0]);
    expect(big.equals(toConfluentWire(7, encodeAvro(type, values[0])))).toBe(true);
    expect(big.length).toBe(size);
    // The first message's bytes are left alone by the later ones.
    expect(decodeAvro(type, fromConfluentWire(a).payload)).toEqual(values[0]);
  });

  it('refuses an invalid value before writing anything', () => {
    const encode = createConfluentEncoder(7, type, 4_096);
    expect(() => encode({ ...values[0], eventId: 12 })).toThrow(ValidationError);
    const next = encode(values[1]);
    expect(next.byteOffset).toBe(0);
  });
});
