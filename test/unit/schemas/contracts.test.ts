import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Type, type types } from 'avsc';
import {
  AVRO_ISSUE_CODES,
  createAvroResolver,
  fromConfluentWire,
  parseAvroSchema,
  toConfluentWire,
} from '../../../services/platform/avro';
import { ValidationError } from '../../../services/platform/errors';
import { envelopeErrors, payloadOf } from '../../../schemas/envelope';
import { EVENT_PAYLOAD_BRANCHES, type LienthongEvent } from '../../../schemas/generated/events';
import { TOPIC_NAMES, TOPICS, resolveSchemaPath, type TopicName } from '../../../schemas/topics';
import { FIXTURES, goldenEvents, readText, ROOT, schemaVersions } from './avro-fixtures';

interface JsonSchema {
  type: unknown;
  name?: string;
  namespace?: string;
  doc?: string;
  symbols?: string[];
  fields?: JsonField[];
  items?: unknown;
  values?: unknown;
  logicalType?: string;
  precision?: number;
  scale?: number;
}
interface JsonField {
  name: string;
  type: unknown;
  doc?: string;
  default?: unknown;
}

const schemaJson = (topic: TopicName): JsonSchema =>
  JSON.parse(readText(TOPICS[topic].schemaPath)) as JsonSchema;
const current = new Map(TOPIC_NAMES.map((t) => [t, parseAvroSchema(readText(TOPICS[t].schemaPath))]));
const currentType = (topic: TopicName): Type => current.get(topic) as Type;

/** Calls `visit` on every schema object in `schema` with the path that leads to it. */
function walk(
  schema: unknown,
  at: string,
  visit: (s: JsonSchema, at: string, field?: JsonField) => void,
): void {
  if (Array.isArray(schema)) {
    schema.forEach((branch, i) => walk(branch, `${at}[${i}]`, visit));
    return;
  }
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as JsonSchema;
  visit(s, at);
  for (const field of s.fields ?? []) {
    visit(s, `${at}.${field.name}`, field);
    walk(field.type, `${at}.${field.name}`, visit);
  }
  walk(s.items, `${at}[]`, visit);
  walk(s.values, `${at}{}`, visit);
  if (typeof s.type === 'object') walk(s.type, at, visit);
}

function payloadBranches(topic: TopicName): types.RecordType[] {
  const union = currentType(topic) as types.RecordType;
  return (union.field('payload').type as Type & { types: types.RecordType[] }).types;
}

describe.each(TOPIC_NAMES)('topic %s', (topic) => {
  const contract = TOPICS[topic];
  const json = schemaJson(topic);

  it('has a value subject, an owner and an envelope named as the table says', () => {
    expect(contract.topic).toBe(topic);
    expect(contract.valueSubject).toBe(`${topic}-value`);
    expect(contract.owner).toMatch(/^HN-[A-Z0-9]+$/);
    expect(resolveSchemaPath(topic)).toBe(path.join(ROOT, contract.schemaPath));
    expect(currentType(topic).name).toBe(contract.envelope);
    expect(json.namespace).toBe(`vn.hanoi.lienthong.${topic.replace(/-/g, '_')}`);
  });

  it('has the envelope fields of the design, in order', () => {
    expect((json.fields ?? []).map((f) => f.name)).toEqual([
      'eventId',
      'eventType',
      'occurredAt',
      'sourceAgency',
      'sourceRecordId',
      'sourceVersion',
      'subjects',
      'payload',
    ]);
    const subjects = (json.fields ?? []).find((f) => f.name === 'subjects')?.type as JsonSchema;
    expect(subjects.fields?.map((f) => [f.name, f.default])).toEqual([
      ['citizenIds', []],
      ['enterpriseCodes', []],
      ['plates', []],
      ['dossierIds', []],
    ]);
  });

  it('keys every event by the same payload field, a string', () => {
    for (const branch of payloadBranches(topic)) {
      expect(branch.field(contract.keyField)?.type.typeName).toBe('string');
    }
  });

  it('documents every record, enum and field, and explains every enum symbol', () => {
    const undocumented: string[] = [];
    walk(json, json.name ?? '', (s, at, field) => {
      if (field !== undefined) {
        if (!field.doc?.trim()) undocumented.push(at);
        const type = (typeof field.type === 'object' ? field.type : {}) as JsonSchema;
        for (const symbol of type.type === 'enum' ? (type.symbols ?? []) : []) {
          if (!field.doc?.includes(`${symbol}:`)) undocumented.push(`${at} (symbol ${symbol})`);
        }
      } else if (['record', 'enum', 'fixed'].includes(s.type as string) && !s.doc?.trim()) {
        undocumented.push(at);
      }
    });
    expect(undocumented).toEqual([]);
  });

  it('follows the conventions for money, time and nullable fields', () => {
    const broken: string[] = [];
    walk(json, json.name ?? '', (s, at, field) => {
      if (field === undefined) {
        if (s.logicalType === 'decimal' && !(s.type === 'bytes' && s.precision === 18 && s.scale === 0)) {
          broken.push(`${at}: money is bytes decimal(18, 0)`);
        }
        return;
      }
      const t = field.type;
      if (/At$|^asOf$/.test(field.name)) {
        const ts = t as JsonSchema;
        if (ts.type !== 'long' || ts.logicalType !== 'timestamp-millis')
          broken.push(`${at}: long timestamp-millis`);
      }
      if (
        Array.isArray(t) &&
        t.includes('null') &&
        (t[0] !== 'null' || t.length !== 2 || field.default !== null)
      ) {
        broken.push(`${at}: nullable is ["null", T] with default null`);
      }
    });
    expect(broken).toEqual([]);
  });

  it('keeps each schema version, the newest equal to the current schema', () => {
    const versions = schemaVersions(topic);
    expect(versions[0]).toBe('v1');
    const newest = readText(
      path.relative(ROOT, path.join(FIXTURES, topic, versions.at(-1) ?? '', 'schema.avsc')),
    );
    expect(parseAvroSchema(newest).equals(currentType(topic))).toBe(true);
  });

  it('has a golden event for every payload record in the newest version', () => {
    const newest = schemaVersions(topic).at(-1);
    const golden = goldenEvents()
      .filter((e) => e.topic === topic && e.version === newest)
      .map((e) => e.eventType);
    expect(golden.sort()).toEqual(
      payloadBranches(topic)
        .map((b) => b.name?.split('.').pop())
        .sort(),
    );
    expect(Object.keys(EVENT_PAYLOAD_BRANCHES[topic]).sort()).toEqual(golden);
  });
});

describe.each(goldenEvents().map((e) => [e.file, e] as const))('golden event %s', (_file, golden) => {
  const writer = parseAvroSchema(
    readText(path.relative(ROOT, path.join(FIXTURES, golden.topic, golden.version, 'schema.avsc'))),
  );
  const reader = currentType(golden.topic);
  const event = golden.value as unknown as LienthongEvent;

  it('is valid, and its eventType and file name name the payload record', () => {
    expect(envelopeErrors(writer, golden.value)).toEqual([]);
    expect(event.eventType).toBe(golden.eventType);
  });

  it('round-trips through Avro binary to an equal value and the same bytes', () => {
    const bytes = writer.toBuffer(golden.value);
    const decoded: unknown = writer.fromBuffer(bytes);
    expect(decoded).toEqual(golden.value);
    expect(writer.toBuffer(decoded).equals(bytes)).toBe(true);
  });

  it('round-trips through the Confluent wire format', () => {
    const framed = toConfluentWire(101, writer.toBuffer(golden.value));
    const { schemaId, payload } = fromConfluentWire(framed);
    expect(schemaId).toBe(101);
    expect(writer.fromBuffer(payload)).toEqual(golden.value);
  });

  it('is read by the current schema', () => {
    const bytes = writer.toBuffer(golden.value);
    expect(reader.fromBuffer(bytes, createAvroResolver(reader, writer))).toEqual(golden.value);
  });

  it('comes from the topic owner and lists its key among its subjects', () => {
    const contract = TOPICS[golden.topic];
    expect(event.sourceAgency).toBe(contract.owner);
    const key = (payloadOf(event) as unknown as Record<string, unknown>)[contract.keyField];
    expect(Object.values(event.subjects).flat()).toContain(key);
  });
});

describe('invalid schemas', () => {
  const dir = path.join(FIXTURES, 'invalid');
  // Why each must be refused, so that a schema refused for another reason fails the test.
  const reasons: Record<string, RegExp> = {
    'bad-default.avsc': /incompatible field default/,
    'bad-enum-symbol.avsc': /invalid .* symbol/,
    'bad-name.avsc': /invalid name/,
    'bad-nullable-default.avsc': /union defaults must match the first branch/,
    'decimal-scale-above-precision.avsc': /scale must be an integer from 0 to precision/,
    'decimal-without-precision.avsc': /precision must be a positive integer/,
    'duplicate-enum-symbol.avsc': /duplicate .* symbol/,
    'duplicate-field.avsc': /duplicate field name/,
    'malformed-json.avsc': /JSON/,
    'undefined-reference.avsc': /undefined type name/,
    'unknown-type.avsc': /undefined type name: vn\.hanoi\.lienthong\.invalid\.datetime/,
  };

  it('has a stated reason for every file', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(reasons).sort());
  });

  it.each(Object.entries(reasons))('refuses %s', (file, reason) => {
    let error: unknown;
    try {
      parseAvroSchema(readFileSync(path.join(dir, file), 'utf8'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const issue = (error as ValidationError).issues[0];
    expect(issue?.code).toBe(
      file === 'malformed-json.avsc' ? AVRO_ISSUE_CODES.SCHEMA_NOT_JSON : AVRO_ISSUE_CODES.SCHEMA_INVALID,
    );
    expect((error as Error).message).toMatch(reason);
  });
});

describe('envelopeErrors', () => {
  const tax = currentType('tax');
  const golden = goldenEvents().find((e) => e.eventType === 'TaxDebtUpdated');
  if (golden === undefined) throw new Error('TaxDebtUpdated fixture missing');
  const payload = golden.value.payload as Record<string, Record<string, unknown>>;
  const branch = 'vn.hanoi.lienthong.tax.TaxDebtUpdated';

  it('refuses an eventType that does not name the payload record', () => {
    expect(envelopeErrors(tax, { ...golden.value, eventType: 'TaxpayerRegistered' })).toEqual([
      {
        path: 'eventType',
        message: 'eventType is TaxpayerRegistered, but the payload holds a TaxDebtUpdated',
      },
    ]);
  });

  it('gives the field path of a bad amount', () => {
    const bad = { ...golden.value, payload: { [branch]: { ...payload[branch], amount: '12.5' } } };
    expect(envelopeErrors(tax, bad)).toEqual([
      {
        path: 'payload["vn.hanoi.lienthong.tax.TaxDebtUpdated"].amount',
        message: 'Expected a decimal string of at most 18 digits, got string "12.5"',
      },
    ]);
  });
});
