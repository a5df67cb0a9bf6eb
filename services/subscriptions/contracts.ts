import { readFileSync } from 'node:fs';
import { resolveSchemaPath, TOPIC_NAMES, type TopicName } from '../../schemas/topics';

/** An Avro schema as JSON: a name, a union (array) or a type object. */
export type AvroSchemaJson = string | readonly AvroSchemaJson[] | { readonly [key: string]: unknown };

/** One field of a contract's record, as the `.avsc` declares it. */
export interface ContractField {
  name: string;
  type: AvroSchemaJson;
  doc?: string;
}

/** One event type of a topic: its payload record. */
export interface EventContract {
  /** The record's full name, e.g. `vn.hanoi.lienthong.tax.TaxpayerRegistered`. */
  fullName: string;
  namespace: string;
  fields: ReadonlyMap<string, ContractField>;
}

/** One topic's contract as the agreements read it: its event types and every named type it defines. */
export interface Contract {
  /** By event type, the payload record's name without namespace (the envelope's `eventType`). */
  events: ReadonlyMap<string, EventContract>;
  /** Every named type (record, enum, fixed) the `.avsc` defines, by full name, with its namespace. */
  named: ReadonlyMap<string, { namespace: string; schema: Readonly<Record<string, unknown>> }>;
}

export type Contracts = Readonly<Record<TopicName, Contract>>;

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/**
 * The four topics' contracts, read from the `.avsc` files in `schemas/` that the sharing service
 * decodes events with, kept as JSON so that a derived schema keeps their logical types and docs.
 */
export function loadContracts(rootDir?: string): Contracts {
  return Object.fromEntries(
    TOPIC_NAMES.map((topic) => [
      topic,
      contractOf(
        JSON.parse(readFileSync(resolveSchemaPath(topic, rootDir), 'utf8')) as Record<string, unknown>,
      ),
    ]),
  ) as Record<TopicName, Contract>;
}

/** The contract of one parsed `.avsc` envelope. */
export function contractOf(envelope: Readonly<Record<string, unknown>>): Contract {
  const named = new Map<string, { namespace: string; schema: Readonly<Record<string, unknown>> }>();
  collectNamed(envelope, '', named);
  const events = new Map<string, EventContract>();
  const payload = (envelope.fields as { name: string; type: AvroSchemaJson }[]).find(
    (f) => f.name === 'payload',
  );
  const branches = Array.isArray(payload?.type) ? payload.type : payload ? [payload.type] : [];
  const envelopeNamespace = typeof envelope.namespace === 'string' ? envelope.namespace : '';
  for (const branch of branches as AvroSchemaJson[]) {
    const resolved = resolveNamed(branch, envelopeNamespace, named);
    if (!resolved || resolved.schema.type !== 'record') continue;
    const fullName = fullNameOf(resolved.schema, resolved.namespace);
    const fields = resolved.schema.fields as ContractField[];
    events.set(fullName.slice(fullName.lastIndexOf('.') + 1), {
      fullName,
      namespace: fullName.slice(0, fullName.lastIndexOf('.')),
      fields: new Map(fields.map((f) => [f.name, f])),
    });
  }
  return { events, named };
}

/** The full name of a named type's definition met in `namespace`. */
export function fullNameOf(schema: Readonly<Record<string, unknown>>, namespace: string): string {
  const name = String(schema.name);
  if (name.includes('.')) return name;
  const own = typeof schema.namespace === 'string' ? schema.namespace : namespace;
  return own ? `${own}.${name}` : name;
}

function collectNamed(schema: unknown, namespace: string, into: Contract['named']): void {
  const named = into as Map<string, { namespace: string; schema: Readonly<Record<string, unknown>> }>;
  if (Array.isArray(schema)) {
    for (const s of schema) collectNamed(s, namespace, into);
    return;
  }
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Record<string, unknown>;
  let inner = namespace;
  if (typeof s.type === 'string' && NAMED.has(s.type)) {
    const full = fullNameOf(s, namespace);
    inner = full.slice(0, Math.max(0, full.lastIndexOf('.')));
    named.set(full, { namespace: inner, schema: s });
  }
  if (Array.isArray(s.fields))
    for (const f of s.fields as { type: unknown }[]) collectNamed(f.type, inner, into);
  if (s.items !== undefined) collectNamed(s.items, inner, into);
  if (s.values !== undefined) collectNamed(s.values, inner, into);
  if (typeof s.type === 'object') collectNamed(s.type, inner, into);
}

/** A named type's definition, from its definition or a reference to it. */
function resolveNamed(
  schema: AvroSchemaJson,
  namespace: string,
  named: Contract['named'],
): { namespace: string; schema: Readonly<Record<string, unknown>> } | undefined {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return undefined;
    return named.get(schema.includes('.') ? schema : `${namespace}.${schema}`) ?? named.get(schema);
  }
  if (Array.isArray(schema) || typeof schema !== 'object') return undefined;
  const s = schema as Readonly<Record<string, unknown>>;
  if (typeof s.type !== 'string' || !NAMED.has(s.type)) return undefined;
  return named.get(fullNameOf(s, namespace));
}

/** Whether a field holds a `timestamp-millis`, or null or one: what `year` masks. */
export function isTimestamp(type: AvroSchemaJson): boolean {
  const branches = (Array.isArray(type) ? type : [type]).filter((b) => b !== 'null');
  const [only] = branches as AvroSchemaJson[];
  if (branches.length !== 1 || typeof only !== 'object' || Array.isArray(only)) return false;
  const o = only as Readonly<Record<string, unknown>>;
  return o.type === 'long' && o.logicalType === 'timestamp-millis';
}

/**
 * Whether every value a field can hold is null, a plain string, or records and unions of those
 * (a `CitizenParty`): what `last4` masks, string by string, without changing the field's type.
 * An enum or a `uuid` would no longer be valid once masked.
 */
export function holdsOnlyStrings(type: AvroSchemaJson, namespace: string, contract: Contract): boolean {
  if (type === 'string') return true;
  if (Array.isArray(type)) {
    const branches = (type as AvroSchemaJson[]).filter((b) => b !== 'null');
    return branches.length > 0 && branches.every((b) => holdsOnlyStrings(b, namespace, contract));
  }
  const named = resolveNamed(type, namespace, contract.named);
  if (named) {
    const fields = named.schema.fields;
    return (
      named.schema.type === 'record' &&
      Array.isArray(fields) &&
      (fields as ContractField[]).every((f) => holdsOnlyStrings(f.type, named.namespace, contract))
    );
  }
  if (typeof type !== 'object') return false;
  const o = type as Readonly<Record<string, unknown>>;
  return o.type === 'string' && o.logicalType === undefined;
}

/**
 * `schema` made self-contained for a schema of its own: each named type it uses is defined in
 * full, under its full name, the first time the new schema meets it (tracked in `emitted`), and
 * referred to by that name after, as Avro wants; logical types and docs are kept.
 */
export function inlineSchema(
  schema: AvroSchemaJson,
  namespace: string,
  contract: Contract,
  emitted: Set<string>,
): AvroSchemaJson {
  if (Array.isArray(schema)) return schema.map((s) => inlineSchema(s, namespace, contract, emitted));
  const named = resolveNamed(schema, namespace, contract.named);
  if (named) {
    const full = fullNameOf(named.schema, named.namespace);
    if (emitted.has(full)) return full;
    emitted.add(full);
    const { namespace: _ns, ...definition } = named.schema;
    const inner = full.slice(0, full.lastIndexOf('.'));
    const out: Record<string, unknown> = { ...definition, name: full };
    if (Array.isArray(definition.fields))
      out.fields = (definition.fields as ContractField[]).map((f) => ({
        ...f,
        type: inlineSchema(f.type, inner, contract, emitted),
      }));
    return out;
  }
  if (typeof schema === 'string') return schema;
  const s = schema as Readonly<Record<string, unknown>>;
  if (s.type === 'array')
    return { ...s, items: inlineSchema(s.items as AvroSchemaJson, namespace, contract, emitted) };
  if (s.type === 'map')
    return { ...s, values: inlineSchema(s.values as AvroSchemaJson, namespace, contract, emitted) };
  if (typeof s.type === 'object')
    return { ...s, type: inlineSchema(s.type as AvroSchemaJson, namespace, contract, emitted) };
  return s;
}
