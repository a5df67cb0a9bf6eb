import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { taxCodeCheckDigit } from '../../connectors/runtime/identifiers';
import { type TaxEvent } from '../../schemas/generated/events';
import { TOPICS } from '../../schemas/topics';
import { traceparentFor } from '../support/sharing';
import { DAY, T0, envelope } from '../support/story';

/**
 * A subject's three schemas for the registry calls: a first version, a compatible evolution (an
 * optional field with a default) and a change no compatibility level allows (a field's type).
 * Their namespace is the run's own, so that no other run's subject shares their ids.
 */
export function probeSchemas(namespace: string) {
  const probe = (fields: unknown[]): string =>
    JSON.stringify({ type: 'record', name: 'Probe', namespace, fields });
  return {
    v1: probe([{ name: 'id', type: 'string' }]),
    v2: probe([
      { name: 'id', type: 'string' },
      { name: 'note', type: ['null', 'string'], default: null },
    ]),
    incompatible: probe([{ name: 'id', type: 'long' }]),
  } as const;
}

/**
 * The key-order case: Python registers this text; Go sends it with every object's keys
 * reversed, and its serializer sends it as hamba/avro prints it (`name`, `type`, `fields`).
 * No docs or defaults, which hamba's printing drops, so that only the key order differs.
 */
function keyOrderSchema(namespace: string) {
  return {
    type: 'record',
    name: `${namespace}.KeyOrder`,
    fields: [
      { type: 'string', name: 'id' },
      { type: { type: 'long', logicalType: 'timestamp-millis' }, name: 'at' },
    ],
  };
}

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  );
}

export function keyOrderCase(subjectTopic: string, namespace: string) {
  const schema = keyOrderSchema(namespace);
  return {
    topic: subjectTopic,
    subject: `${subjectTopic}-value`,
    schema: JSON.stringify(schema),
    reordered: JSON.stringify(reversedKeys(schema)),
    value: { id: 'key-order', at: T0 },
  };
}

/** The first valid 10-digit tax code from a 9-digit prefix on. */
export function taxCodeFrom(prefix: number): string {
  for (let p = prefix; ; p += 1) {
    const first9 = String(p).padStart(9, '0');
    const check = taxCodeCheckDigit(first9);
    if (check !== undefined) return `${first9}${check}`;
  }
}

/** The serializer modes a driver produces with, one event each, in this order. */
export const SERIALIZER_MODES = ['auto-register', 'lookup', 'use-latest-version'] as const;

/**
 * Three events of the tax department about one enterprise: its registration as a taxpayer, then
 * two debt updates. Each is produced with the next serializer mode.
 */
export function taxEvents(taxCode: string): { key: string; event: TaxEvent }[] {
  const record = `MST-${taxCode}`;
  const subjects = { enterpriseCodes: [taxCode] };
  return [
    {
      key: taxCode,
      event: {
        ...envelope('tax', record, 1, T0, subjects),
        eventType: 'TaxpayerRegistered',
        payload: {
          'vn.hanoi.lienthong.tax.TaxpayerRegistered': {
            taxCode,
            kind: 'ENTERPRISE',
            name: 'Công ty Cổ phần Liên Thông Đa Ngữ',
            citizenId: null,
            enterpriseCode: taxCode,
            managingTaxOffice: 'Chi cục Thuế khu vực Cầu Giấy',
            registeredAt: T0,
          },
        },
      },
    },
    ...[2, 3].map((version) => ({
      key: taxCode,
      event: {
        ...envelope('tax', record, version, T0 + version * DAY, subjects),
        eventType: 'TaxDebtUpdated' as const,
        payload: {
          'vn.hanoi.lienthong.tax.TaxDebtUpdated': {
            taxCode,
            amount: String(version * 1_250_000),
            asOf: T0 + version * DAY,
          },
        },
      },
    })),
  ];
}

/** What a driver is asked to do. */
export interface InteropPlan {
  registry: { url: string; user: string; key: string };
  bootstrapServers: string;
  /**
   * librdkafka properties besides `bootstrap.servers`: the SASL_SSL settings of the test broker
   * (`security.protocol`, `sasl.mechanisms`, `sasl.username`, `sasl.password`, `ssl.ca.location`),
   * none for a broker without security. Everything else stays at the client's defaults.
   */
  kafkaConfig: Record<string, string>;
  registryCalls: {
    subject: string;
    /** Another agency's subject, which this plan's credential may read but not write. */
    foreignSubject: string;
    schemas: ReturnType<typeof probeSchemas>;
  };
  keyOrder: ReturnType<typeof keyOrderCase>;
  produce: {
    topic: string;
    schema: string;
    events: { mode: string; key: string; traceparent: string; event: TaxEvent }[];
  };
  consume: { topic: string; group: string; count: number };
}

/** The tax contract as the repository holds it: what an integrator's producer is given. */
export function taxContract(): string {
  return readFileSync(join(__dirname, '..', '..', TOPICS.tax.schemaPath), 'utf8');
}

export function producedEvents(taxCode: string): InteropPlan['produce']['events'] {
  return taxEvents(taxCode).map(({ key, event }, i) => ({
    mode: SERIALIZER_MODES[i] ?? 'auto-register',
    key,
    traceparent: traceparentFor(event.eventId),
    event,
  }));
}
