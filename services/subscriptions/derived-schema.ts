import type { Type, types } from 'avsc';
import { payloadOf } from '../../schemas/envelope';
import { type LienthongEvent } from '../../schemas/generated/events';
import { type TopicName } from '../../schemas/topics';
import { uuidV5 } from '../../connectors/runtime/event-id';
import { masked, type Mask } from '../lookup/field-policy';
import { parseAvroSchema } from '../platform/avro';
import { type Agreement } from './agreement';
import { type AvroSchemaJson, type Contracts, inlineSchema } from './contracts';

/**
 * The namespace of derived event ids: the v5 UUID of the URL
 * `https://lienthong.hanoi.gov.vn/ns/derived-event-id` in RFC 9562's URL namespace. Never change it:
 * every derived id already delivered depends on it.
 */
export const DERIVED_EVENT_NAMESPACE = '9d88ed4b-ce0f-59dc-b36f-aaf701ad4079';

/**
 * The id of the event that `sourceEventId` becomes under one version of one agreement: a v5 UUID of
 * the JSON array `[agreementId, version, sourceEventId]`. Deriving the same source event again (a
 * redelivery after a crash, a backfill over events already sent) gives the same id, which the
 * webhook carries as its idempotency key and a Kafka consumer deduplicates on; a changed agreement
 * gives new ids, since what it delivers differs.
 */
export function derivedEventId(agreement: Pick<Agreement, 'id' | 'version'>, sourceEventId: string): string {
  return uuidV5(DERIVED_EVENT_NAMESPACE, JSON.stringify([agreement.id, agreement.version, sourceEventId]));
}

/** The Avro namespace of an agreement's own records. */
export function agreementNamespace(agreementId: string): string {
  return `vn.hanoi.lienthong.agreement.${agreementId.replace(/-/g, '_')}`;
}

/** An agreement's derived contract: its Avro schema and how it makes a derived event of a source event. */
export interface DerivedContract {
  agreement: Agreement;
  /** The schema registered under the derived topic's value subject. */
  schema: Readonly<Record<string, unknown>>;
  type: Type;
  /**
   * The derived event of a source event of `topic`, with only the allowed fields, masked; undefined
   * when the agreement does not cover the event's type.
   */
  derive(topic: TopicName, event: LienthongEvent): DerivedEvent | undefined;
  /**
   * What this version of the agreement lets go out of a derived value, whichever version it was
   * derived under: its payload record, or undefined when its event type is no longer covered. A
   * value derived under another version loses the fields no longer allowed and is masked again as
   * now declared, so that a narrowed agreement never sends a field it no longer allows, even from
   * events derived before it narrowed.
   */
  reproject(value: DerivedValue): Record<string, unknown> | undefined;
}

/** A derived event: the value to encode, and what a delivery record says of it. */
export interface DerivedEvent {
  value: DerivedValue;
  /** The payload record, as the value holds it, unwrapped from its union. */
  record: Record<string, unknown>;
  /** The payload fields it carries, sorted. */
  fields: string[];
}

/** The envelope of a derived event, as its Avro schema declares it. */
export interface DerivedValue {
  eventId: string;
  eventType: string;
  occurredAt: number;
  sourceAgency: string;
  sourceEventId: string;
  agreementId: string;
  agreementVersion: string;
  payload: unknown;
}

const ENVELOPE_FIELDS = [
  {
    name: 'eventId',
    type: { type: 'string', logicalType: 'uuid' },
    doc: 'A v5 UUID of [agreement id, agreement version, source eventId]: the same source event delivered again under the same agreement has the same id, which is the idempotency key.',
  },
  { name: 'eventType', type: 'string', doc: 'The source event type, the name of the payload record.' },
  {
    name: 'occurredAt',
    type: { type: 'long', logicalType: 'timestamp-millis' },
    doc: "When the change happened in the source agency's system.",
  },
  { name: 'sourceAgency', type: 'string', doc: 'The agency that published the source event.' },
  {
    name: 'sourceEventId',
    type: { type: 'string', logicalType: 'uuid' },
    doc: 'The eventId of the source event, for lineage.',
  },
  { name: 'agreementId', type: 'string', doc: 'The sharing agreement this delivery is made under.' },
  {
    name: 'agreementVersion',
    type: 'string',
    doc: "The SHA-256 of the agreement's canonical JSON when the event was derived.",
  },
] as const;

/**
 * The derived contract of `agreement`: one record per event type it covers, holding only the
 * allowed fields, each nullable with a null default so that widening and narrowing the agreement
 * are both compatible changes of the subject. A field keeps its contract type, but for `year`,
 * which makes a timestamp an int. Fields keep the contract's order, whatever the
 * order of the agreement's JSON.
 */
export function deriveContract(agreement: Agreement, contracts: Contracts): DerivedContract {
  const namespace = agreementNamespace(agreement.id);
  const emitted = new Set<string>();
  const branches: Record<string, unknown>[] = [];
  const plans = new Map<string, { branch: string; fields: { name: string; mask: Mask }[] }>();
  // Event type names are unique across the contracts, so a derived value's type finds its plan.
  const byEventType = new Map<string, { branch: string; fields: { name: string; mask: Mask }[] }>();
  for (const source of agreement.sources) {
    const contract = contracts[source.topic];
    for (const [eventType, rules] of Object.entries(source.events)) {
      const record = contract.events.get(eventType);
      if (!record) continue;
      const fields = [...record.fields.values()]
        .filter((f) => Object.hasOwn(rules, f.name))
        .map((f) => {
          const mask = rules[f.name] as Mask;
          // `last4` keeps the type: it masks the strings of a string, or of a record of strings.
          const type = mask === 'year' ? 'int' : inlineSchema(f.type, record.namespace, contract, emitted);
          return {
            name: f.name,
            type: nullable(type),
            default: null,
            ...(f.doc === undefined ? {} : { doc: mask === 'clear' ? f.doc : `${f.doc} Masked: ${mask}.` }),
          };
        });
      branches.push({
        type: 'record',
        name: `${namespace}.${eventType}`,
        doc: `${eventType} of ${source.topic}, as agreement ${agreement.id} shares it.`,
        fields,
      });
      const plan = {
        branch: `${namespace}.${eventType}`,
        fields: fields.map((f) => ({ name: f.name, mask: rules[f.name] as Mask })),
      };
      plans.set(`${source.topic}/${eventType}`, plan);
      byEventType.set(eventType, plan);
    }
  }
  const schema = {
    type: 'record',
    name: `${namespace}.SharedEvent`,
    doc: `What ${agreement.consumer} receives under agreement ${agreement.id}: ${agreement.purpose}`,
    fields: [...ENVELOPE_FIELDS, { name: 'payload', type: branches }],
  };
  const type = parseAvroSchema(schema);
  const payloadType = (type as types.RecordType).field('payload')?.type;
  // avsc holds a union of one record bare, and a union of several as `{ fullName: record }`.
  const wrapped = payloadType?.typeName === 'union:wrapped';
  return {
    agreement,
    schema,
    type,
    derive(topic, event) {
      const plan = plans.get(`${topic}/${event.eventType}`);
      if (!plan) return undefined;
      const source = payloadOf(event) as unknown as Record<string, unknown>;
      const record: Record<string, unknown> = {};
      for (const { name, mask } of plan.fields) record[name] = maskValue(source[name] ?? null, mask);
      return {
        value: {
          eventId: derivedEventId(agreement, event.eventId),
          eventType: event.eventType,
          occurredAt: event.occurredAt,
          sourceAgency: event.sourceAgency,
          sourceEventId: event.eventId,
          agreementId: agreement.id,
          agreementVersion: agreement.version,
          payload: wrapped ? { [plan.branch]: record } : record,
        },
        record,
        fields: plan.fields.map((f) => f.name).sort(),
      };
    },
    reproject(value) {
      const plan = byEventType.get(value.eventType);
      if (!plan) return undefined;
      const record = unwrapPayload(value.payload);
      if (value.agreementVersion === agreement.version) return record;
      const out: Record<string, unknown> = {};
      for (const { name, mask } of plan.fields)
        if (Object.hasOwn(record, name)) out[name] = remask(record[name] ?? null, mask);
      return out;
    },
  };
}

/** A payload record, out of its union's wrapper when it has one (a one-key object named by a full name). */
function unwrapPayload(payload: unknown): Record<string, unknown> {
  const p = payload as Record<string, unknown>;
  const keys = Object.keys(p);
  // Avro field names hold no dots; a union branch's full name does.
  return (keys.length === 1 && keys[0]?.includes('.') ? p[keys[0]] : p) as Record<string, unknown>;
}

/** `maskValue` over a value that may have been masked already: `last4` twice is `last4`, a year stays. */
function remask(value: unknown, mask: Mask): unknown {
  if (mask === 'year' && typeof value === 'number' && value < 10_000) return value;
  return maskValue(value, mask);
}

/** The payload record of a derived value, whether its union is wrapped or not. */
export function derivedPayload(value: Pick<DerivedValue, 'payload'>): Record<string, unknown> {
  return unwrapPayload(value.payload);
}

function maskValue(value: unknown, mask: Mask): unknown {
  if (value === null || mask === 'clear') return value;
  // Timestamps are epoch milliseconds here; the lookup's `year` reads a Date.
  return masked(mask === 'year' ? new Date(value as number) : value, mask);
}

function nullable(type: AvroSchemaJson): AvroSchemaJson {
  const branches = Array.isArray(type) ? (type as AvroSchemaJson[]) : [type];
  return ['null', ...branches.filter((b) => b !== 'null')];
}
