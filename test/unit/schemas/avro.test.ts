import { encode as confluentEncode } from '@kafkajs/confluent-schema-registry/dist/wireEncoder';
import { Type } from 'avsc';
import {
  AVRO_ISSUE_CODES,
  createAvroResolver,
  decodeAvro,
  DecimalType,
  encodeAvro,
  fromConfluentWire,
  parseAvroSchema,
  toConfluentWire,
  validationErrors,
} from '../../../services/platform/avro';
import { ValidationError } from '../../../services/platform/errors';

function decimal(precision: number, scale: number): Type {
  return parseAvroSchema({ type: 'bytes', logicalType: 'decimal', precision, scale });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('Expected a throw');
}

describe('DecimalType', () => {
  const vnd = decimal(18, 0);

  it.each([
    // The bytes Java's BigDecimal.unscaledValue().toByteArray() gives: minimal two's complement.
    ['0', '00'],
    ['1', '01'],
    ['-1', 'ff'],
    ['127', '7f'],
    ['128', '0080'],
    ['-128', '80'],
    ['-129', 'ff7f'],
    ['1250000000', '4a817c80'],
    ['999999999999999999', '0de0b6b3a763ffff'],
    ['-999999999999999999', 'f21f494c589c0001'],
  ])('encodes %s as the unscaled value %s', (value, hex) => {
    // Avro bytes are a zig-zag length then the bytes; skip the one-byte length.
    expect(vnd.toBuffer(value).subarray(1).toString('hex')).toBe(hex);
    expect(vnd.fromBuffer(vnd.toBuffer(value))).toBe(value);
  });

  it('decodes to exactly `scale` decimals', () => {
    const money = decimal(6, 2);
    expect(money.fromBuffer(money.toBuffer('-12.5'))).toBe('-12.50');
    expect(money.fromBuffer(money.toBuffer('0.07'))).toBe('0.07');
    expect(money.fromBuffer(money.toBuffer('3'))).toBe('3.00');
    expect(money.fromBuffer(money.toBuffer('-0.5'))).toBe('-0.50');
  });

  it('canonicalises leading zeros and negative zero', () => {
    expect(vnd.fromBuffer(vnd.toBuffer('0007'))).toBe('7');
    expect(vnd.fromBuffer(vnd.toBuffer('-0'))).toBe('0');
  });

  it.each([
    ['a number', 1250000000],
    ['a bigint', 5n],
    ['an empty string', ''],
    ['an exponent', '1e9'],
    ['thousands separators', '1.250.000.000'],
    ['a plus sign', '+5'],
    ['spaces', ' 5'],
    ['decimals beyond the scale', '12.5'],
    ['more digits than the precision', '1000000000000000000'],
    ['text', 'một tỷ'],
  ])('refuses %s', (_what, value) => {
    expect(vnd.isValid(value)).toBe(false);
    expect(() => vnd.toBuffer(value)).toThrow();
  });

  it('counts precision without leading zeros', () => {
    expect(decimal(3, 2).isValid('0.99')).toBe(true);
    expect(decimal(3, 2).isValid('9.99')).toBe(true);
    expect(decimal(3, 2).isValid('10.00')).toBe(false);
  });

  it('supports fixed, sign-extended to its size', () => {
    const type = parseAvroSchema({
      type: 'fixed',
      name: 'Amount',
      size: 4,
      logicalType: 'decimal',
      precision: 9,
    });
    expect(type.toBuffer('-1').toString('hex')).toBe('ffffffff');
    expect(type.toBuffer('1').toString('hex')).toBe('00000001');
    expect(type.fromBuffer(type.toBuffer('-123456789'))).toBe('-123456789');
  });

  it('keeps precision and scale in the exported schema', () => {
    expect(decimal(18, 0).schema({ exportAttrs: true })).toEqual({
      type: 'bytes',
      logicalType: 'decimal',
      precision: 18,
      scale: 0,
    });
  });

  it('reads a decimal of the same scale and lower precision, and refuses another scale', () => {
    const writer = decimal(10, 2);
    const buf = writer.toBuffer('-12345678.90');
    const reader = decimal(18, 2);
    expect(reader.fromBuffer(buf, reader.createResolver(writer))).toBe('-12345678.90');
    expect(() => decimal(18, 3).createResolver(writer)).toThrow();
  });

  it('is a DecimalType instance, so callers can read precision and scale', () => {
    expect(vnd).toBeInstanceOf(DecimalType);
    expect(vnd).toMatchObject({ precision: 18, scale: 0 });
  });
});

describe('parseAvroSchema', () => {
  it('accepts JSON text and objects alike', () => {
    const schema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    expect(parseAvroSchema(JSON.stringify(schema)).equals(parseAvroSchema(schema))).toBe(true);
  });

  it('keeps timestamp-millis as a number of epoch milliseconds and uuid as a string', () => {
    const type = parseAvroSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
      ],
    });
    const value = { at: Date.UTC(2024, 9, 15, 1, 30), id: '8fab760c-01d8-5469-afd3-4a8ed21d7f14' };
    expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
    expect(type.isValid({ ...value, at: new Date(value.at) })).toBe(false);
  });

  it('reports JSON errors and schema errors with distinct issue codes', () => {
    const notJson = thrown(() => parseAvroSchema('{"type": "record",'));
    expect(notJson).toBeInstanceOf(ValidationError);
    expect((notJson as ValidationError).issues[0]?.code).toBe(AVRO_ISSUE_CODES.SCHEMA_NOT_JSON);

    const invalid = thrown(() => parseAvroSchema({ type: 'datetime' }));
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', retriable: false });
    expect((invalid as ValidationError).issues[0]?.code).toBe(AVRO_ISSUE_CODES.SCHEMA_INVALID);
    expect((invalid as Error).message).toMatch(/unknown type/);
  });
});

describe('validationErrors', () => {
  const type = parseAvroSchema({
    type: 'record',
    name: 'Event',
    namespace: 'vn.hanoi.lienthong.test',
    fields: [
      { name: 'ids', type: { type: 'array', items: 'string' } },
      { name: 'note', type: ['null', 'string'], default: null },
      {
        name: 'payload',
        type: [
          {
            type: 'record',
            name: 'Debt',
            fields: [{ name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 18 } }],
          },
          {
            type: 'record',
            name: 'Status',
            fields: [{ name: 'status', type: { type: 'enum', name: 'S', symbols: ['A', 'B'] } }],
          },
        ],
      },
    ],
  });
  const debt = 'vn.hanoi.lienthong.test.Debt';

  it('is empty for a valid value', () => {
    expect(validationErrors(type, { ids: ['x'], note: null, payload: { [debt]: { amount: '10' } } })).toEqual(
      [],
    );
  });

  it('names every bad field by its path', () => {
    const issues = validationErrors(type, { ids: ['x', 7], note: 3, payload: { [debt]: { amount: 12.5 } } });
    expect(issues).toEqual([
      { path: 'ids[1]', message: 'Expected a string, got number 7' },
      { path: 'note', message: 'Expected null or a string, got number 3' },
      {
        path: 'payload["vn.hanoi.lienthong.test.Debt"].amount',
        message: 'Expected a decimal string of at most 18 digits, got number 12.5',
      },
    ]);
  });

  it('reports missing fields, bad enum symbols and unknown union branches', () => {
    expect(validationErrors(type, { ids: [], payload: { [debt]: {} } })).toEqual([
      {
        path: 'payload["vn.hanoi.lienthong.test.Debt"].amount',
        message: 'Expected a decimal string of at most 18 digits, got nothing (the field is missing)',
      },
    ]);
    expect(
      validationErrors(type, { ids: [], payload: { 'vn.hanoi.lienthong.test.Status': { status: 'C' } } }),
    ).toEqual([
      {
        path: 'payload["vn.hanoi.lienthong.test.Status"].status',
        message: 'Expected one of A, B, got string "C"',
      },
    ]);
    const [unknownBranch] = validationErrors(type, { ids: [], payload: { amount: '10' } });
    expect(unknownBranch?.path).toBe('payload');
    expect(unknownBranch?.message).toMatch(
      /one key among vn\.hanoi\.lienthong\.test\.Debt, vn\.hanoi\.lienthong\.test\.Status/,
    );
  });

  it('reports undeclared fields, which encoding would drop silently', () => {
    expect(validationErrors(type, { ids: [], payload: { [debt]: { amount: '1' } }, notes: 'typo' })).toEqual([
      { path: '', message: 'Undeclared field in vn.hanoi.lienthong.test.Event: notes' },
    ]);
  });

  it('cuts long values out of messages', () => {
    const [issue] = validationErrors(type, { ids: [], note: 'x'.repeat(100), payload: 1 });
    expect(issue?.message.length).toBeLessThan(160);
  });
});

describe('encodeAvro and decodeAvro', () => {
  const type = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }] });

  it('round-trips a valid value', () => {
    expect(decodeAvro(type, encodeAvro(type, { n: 5 }))).toEqual({ n: 5 });
  });

  it('refuses an invalid value with every issue coded AVRO_VALUE_INVALID', () => {
    const err = thrown(() => encodeAvro(type, { n: 'five' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      {
        path: 'n',
        code: AVRO_ISSUE_CODES.VALUE_INVALID,
        message: 'Expected an integer (long), got string "five"',
      },
    ]);
  });

  it('refuses undecodable and trailing bytes as non-retriable', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from([0x02, 0x00])]) {
      const err = thrown(() => decodeAvro(type, bytes));
      expect(err).toMatchObject({ code: 'VALIDATION_FAILED', retriable: false });
      expect((err as ValidationError).issues[0]?.code).toBe(AVRO_ISSUE_CODES.UNDECODABLE);
    }
  });
});

describe('createAvroResolver', () => {
  const party = (extra: object[] = []): object[] => [
    { type: 'record', name: 'Citizen', fields: [{ name: 'citizenId', type: 'string' }, ...extra] },
    { type: 'record', name: 'Enterprise', fields: [{ name: 'enterpriseCode', type: 'string' }] },
  ];
  // The same union of records twice, as in OwnershipTransferred's previousOwner and newOwner.
  const schema = (extra: object[] = []): object => ({
    type: 'record',
    name: 'Transfer',
    fields: [
      { name: 'from', type: party(extra) },
      { name: 'to', type: ['Citizen', 'Enterprise'] },
    ],
  });
  const value = {
    from: { Citizen: { citizenId: '001085012345' } },
    to: { Enterprise: { enterpriseCode: '0108912347' } },
  };

  it('resolves a union of records met twice, where avsc alone breaks', () => {
    const writer = parseAvroSchema(schema());
    const reader = parseAvroSchema(schema());
    const bytes = writer.toBuffer(value);
    expect(() => reader.fromBuffer(bytes, reader.createResolver(writer))).toThrow(/_read is not a function/);
    expect(reader.fromBuffer(bytes, createAvroResolver(reader, writer))).toEqual(value);
  });

  it('applies defaults for added fields and leaves avsc unpatched afterwards', () => {
    const original = Type.prototype.createResolver;
    const reader = parseAvroSchema(schema([{ name: 'note', type: ['null', 'string'], default: null }]));
    const writer = parseAvroSchema(schema());
    const decoded: unknown = reader.fromBuffer(writer.toBuffer(value), createAvroResolver(reader, writer));
    expect(decoded).toEqual({ ...value, from: { Citizen: { citizenId: '001085012345', note: null } } });
    expect(Type.prototype.createResolver).toBe(original);
  });

  it('refuses an incompatible writer', () => {
    const reader = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }] });
    const writer = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'string' }] });
    expect(() => createAvroResolver(reader, writer)).toThrow();
  });
});

describe('Confluent wire format', () => {
  const avro = Buffer.from('0a68656c6c6f', 'hex');

  it('is magic byte 0, a big-endian schema id, then the Avro binary', () => {
    const framed = toConfluentWire(0x01020304, avro);
    expect(framed.toString('hex')).toBe(`0001020304${avro.toString('hex')}`);
    expect(framed).toEqual(confluentEncode(0x01020304, avro));
  });

  it('takes apart what it frames, and what kafkajs/confluent-schema-registry frames', () => {
    expect(fromConfluentWire(toConfluentWire(42, avro))).toEqual({ schemaId: 42, payload: avro });
    expect(fromConfluentWire(confluentEncode(2147483647, avro))).toEqual({
      schemaId: 2147483647,
      payload: avro,
    });
    expect(fromConfluentWire(toConfluentWire(7, Buffer.alloc(0)))).toEqual({
      schemaId: 7,
      payload: Buffer.alloc(0),
    });
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0), AVRO_ISSUE_CODES.WIRE_TOO_SHORT],
    ['a 4-byte buffer', Buffer.from([0, 0, 0, 1]), AVRO_ISSUE_CODES.WIRE_TOO_SHORT],
    ['magic byte 1', Buffer.from([1, 0, 0, 0, 1, 2]), AVRO_ISSUE_CODES.WIRE_BAD_MAGIC],
    ['plain JSON', Buffer.from('{"eventId":"x"}'), AVRO_ISSUE_CODES.WIRE_BAD_MAGIC],
    [
      'a negative schema id',
      Buffer.from([0, 0x9f, 0x14, 0x1f, 0x5b, 2]),
      AVRO_ISSUE_CODES.WIRE_BAD_SCHEMA_ID,
    ],
    ['schema id -1', Buffer.from([0, 0xff, 0xff, 0xff, 0xff]), AVRO_ISSUE_CODES.WIRE_BAD_SCHEMA_ID],
  ])('refuses %s with a stable code', (_what, buf, code) => {
    const err = thrown(() => fromConfluentWire(buf));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', retriable: false, issues: [{ code }] });
  });

  it('refuses a schema id that is not a Java int', () => {
    for (const id of [-1, 1.5, 2 ** 31, Number.NaN])
      expect(() => toConfluentWire(id, avro)).toThrow(RangeError);
  });
});
