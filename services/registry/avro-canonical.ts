/**
 * The text Confluent Schema Registry stores, returns and compares an Avro schema by: the schema
 * parsed and printed again the way Avro's Java `Schema.toString()` prints it. Two texts that differ
 * only in white space, in the order of the standard attributes, in a namespace spelled inside the
 * name rather than beside it, or in a named type written twice, print the same, so they are one
 * schema with one id. Custom attributes (`logicalType`, `connect.name`, ...) keep the order they
 * were written in, as Avro keeps them.
 *
 * @see https://github.com/apache/avro/blob/main/lang/java/avro/src/main/java/org/apache/avro/Schema.java (`toJson`)
 * @see https://github.com/confluentinc/schema-registry/blob/master/client/src/main/java/io/confluent/kafka/schemaregistry/avro/AvroSchema.java (`canonicalString`)
 */

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
// A name equal to one of these is always written with its namespace, so that it cannot read as a type.
const TYPE_NAMES = new Set([...PRIMITIVES, 'record', 'enum', 'array', 'map', 'union', 'fixed']);
const SCHEMA_RESERVED = new Set([
  'doc',
  'fields',
  'items',
  'name',
  'namespace',
  'size',
  'symbols',
  'values',
  'type',
  'aliases',
]);
const ENUM_RESERVED = new Set([...SCHEMA_RESERVED, 'default']);
const FIELD_RESERVED = new Set(['default', 'doc', 'name', 'order', 'type', 'aliases']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Name {
  short: string;
  /** `undefined` for the null namespace. */
  space: string | undefined;
  full: string;
}

/**
 * Prints `schema`, already checked to be valid Avro, in Confluent's canonical form.
 *
 * @param schema - The schema's JSON, as `JSON.parse` returns it.
 * @throws TypeError if `schema` is not shaped like an Avro schema.
 */
export function canonicalAvroSchema(schema: unknown): string {
  return print(schema as Json, undefined, new Set());
}

function print(schema: Json, space: string | undefined, known: Set<string>): string {
  if (typeof schema === 'string') {
    return PRIMITIVES.has(schema) ? JSON.stringify(schema) : nameReference(schema, space, known);
  }
  if (Array.isArray(schema)) return `[${schema.map((branch) => print(branch, space, known)).join(',')}]`;
  if (schema === null || typeof schema !== 'object') throw new TypeError('Not an Avro schema');
  const type = schema.type;
  if (typeof type !== 'string') {
    // `{"type": {...}}` wraps a schema; Avro reads the inner one.
    if (type !== undefined && type !== null && typeof type === 'object') return print(type, space, known);
    throw new TypeError('An Avro schema object needs a "type"');
  }
  if (PRIMITIVES.has(type)) {
    const props = properties(schema, SCHEMA_RESERVED);
    return props === '' ? JSON.stringify(type) : `{"type":${JSON.stringify(type)}${props}}`;
  }
  switch (type) {
    case 'record':
    case 'error':
      return printRecord(schema, type, space, known);
    case 'enum': {
      const name = nameOf(schema, space);
      if (known.has(name.full)) return JSON.stringify(qualified(name, space));
      known.add(name.full);
      const symbols = (schema.symbols as Json[]).map((s) => JSON.stringify(s)).join(',');
      const enumDefault =
        typeof schema.default === 'string' ? `,"default":${JSON.stringify(schema.default)}` : '';
      return (
        `{"type":"enum"${nameAttributes(name, space)}${doc(schema)},"symbols":[${symbols}]${enumDefault}` +
        `${properties(schema, ENUM_RESERVED)}${aliases(schema, name)}}`
      );
    }
    case 'fixed': {
      const name = nameOf(schema, space);
      if (known.has(name.full)) return JSON.stringify(qualified(name, space));
      known.add(name.full);
      return (
        `{"type":"fixed"${nameAttributes(name, space)}${doc(schema)},"size":${JSON.stringify(schema.size)}` +
        `${properties(schema, SCHEMA_RESERVED)}${aliases(schema, name)}}`
      );
    }
    case 'array':
      return `{"type":"array","items":${print(schema.items as Json, space, known)}${properties(schema, SCHEMA_RESERVED)}}`;
    case 'map':
      return `{"type":"map","values":${print(schema.values as Json, space, known)}${properties(schema, SCHEMA_RESERVED)}}`;
    default:
      // `{"type": "Name"}` refers to a named type defined earlier; Avro drops the other attributes.
      return nameReference(type, space, known);
  }
}

function printRecord(
  schema: JsonObject,
  type: string,
  space: string | undefined,
  known: Set<string>,
): string {
  const name = nameOf(schema, space);
  if (known.has(name.full)) return JSON.stringify(qualified(name, space));
  known.add(name.full);
  // A record's fields resolve their names in the record's own namespace.
  const fields = (schema.fields as JsonObject[]).map((field) => {
    let out = `{"name":${JSON.stringify(field.name)},"type":${print(field.type as Json, name.space, known)}`;
    if (typeof field.doc === 'string') out += `,"doc":${JSON.stringify(field.doc)}`;
    if (Object.hasOwn(field, 'default')) out += `,"default":${JSON.stringify(field.default)}`;
    const order = typeof field.order === 'string' ? field.order.toLowerCase() : 'ascending';
    if (order !== 'ascending') out += `,"order":${JSON.stringify(order)}`;
    if (Array.isArray(field.aliases) && field.aliases.length > 0) {
      out += `,"aliases":${JSON.stringify(field.aliases)}`;
    }
    return `${out}${properties(field, FIELD_RESERVED)}}`;
  });
  return (
    `{"type":${JSON.stringify(type)}${nameAttributes(name, space)}${doc(schema)},"fields":[${fields.join(',')}]` +
    `${properties(schema, SCHEMA_RESERVED)}${aliases(schema, name)}}`
  );
}

/** A named type's name: a dotted name carries its namespace; else its own, else the enclosing one. */
function nameOf(schema: JsonObject, enclosing: string | undefined): Name {
  const written = String(schema.name);
  const dot = written.lastIndexOf('.');
  if (dot >= 0) return makeName(written.slice(dot + 1), written.slice(0, dot));
  const space = typeof schema.namespace === 'string' ? schema.namespace : enclosing;
  return makeName(written, space);
}

function makeName(short: string, space: string | undefined): Name {
  const ns = space === undefined || space === '' ? undefined : space;
  return { short, space: ns, full: ns === undefined ? short : `${ns}.${short}` };
}

/** `"name"`, then `"namespace"` only where it differs from the enclosing one. */
function nameAttributes(name: Name, enclosing: string | undefined): string {
  let out = `,"name":${JSON.stringify(name.short)}`;
  if (name.space !== undefined) {
    if (name.space !== enclosing) out += `,"namespace":${JSON.stringify(name.space)}`;
  } else if (enclosing !== undefined) {
    out += ',"namespace":""';
  }
  return out;
}

/** The name as a reference from `space`: short when it lives there, full otherwise. */
function qualified(name: Name, space: string | undefined): string {
  return name.space !== undefined && name.space === space && !TYPE_NAMES.has(name.short)
    ? name.short
    : name.full;
}

/** A name used as a type: resolved in the enclosing namespace first, then in the null namespace. */
function nameReference(written: string, space: string | undefined, known: Set<string>): string {
  const inSpace = written.includes('.') ? written : space ? `${space}.${written}` : written;
  const full = known.has(inSpace) ? inSpace : written;
  const dot = full.lastIndexOf('.');
  const name = dot >= 0 ? makeName(full.slice(dot + 1), full.slice(0, dot)) : makeName(full, undefined);
  return JSON.stringify(qualified(name, space));
}

function doc(schema: JsonObject): string {
  return typeof schema.doc === 'string' ? `,"doc":${JSON.stringify(schema.doc)}` : '';
}

function aliases(schema: JsonObject, name: Name): string {
  if (!Array.isArray(schema.aliases) || schema.aliases.length === 0) return '';
  const names = schema.aliases.map((alias) => {
    const text = String(alias);
    const dot = text.lastIndexOf('.');
    const aliasName =
      dot >= 0 ? makeName(text.slice(dot + 1), text.slice(0, dot)) : makeName(text, name.space);
    return qualified(aliasName, name.space);
  });
  return `,"aliases":${JSON.stringify(names)}`;
}

/** The attributes Avro keeps as properties, in the order they were written. */
function properties(schema: JsonObject, reserved: ReadonlySet<string>): string {
  return Object.keys(schema)
    .filter((key) => !reserved.has(key))
    .map((key) => `,${JSON.stringify(key)}:${JSON.stringify(schema[key])}`)
    .join('');
}
