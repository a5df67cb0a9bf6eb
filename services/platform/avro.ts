import { Type, types } from 'avsc';
import { ValidationError, type ValidationIssue } from './errors';

/**
 * Machine-readable reasons carried in {@link ValidationIssue.code} by this module's errors, next to
 * the error's own `VALIDATION_FAILED`. Like error codes, they are never renamed once released.
 */
export const AVRO_ISSUE_CODES = {
  /** The schema text is not JSON. */
  SCHEMA_NOT_JSON: 'SCHEMA_NOT_JSON',
  /** The schema is JSON but not a valid Avro schema (unknown type, bad name, bad default...). */
  SCHEMA_INVALID: 'SCHEMA_INVALID',
  /** A value does not match its Avro type. */
  VALUE_INVALID: 'AVRO_VALUE_INVALID',
  /** The bytes cannot be decoded with the writer's schema. */
  UNDECODABLE: 'AVRO_UNDECODABLE',
  /** A Confluent-framed message shorter than its 5-byte header. */
  WIRE_TOO_SHORT: 'WIRE_TOO_SHORT',
  /** A Confluent-framed message whose first byte is not the magic byte 0. */
  WIRE_BAD_MAGIC: 'WIRE_BAD_MAGIC',
  /** A Confluent-framed message whose schema id is negative: no registry hands those out. */
  WIRE_BAD_SCHEMA_ID: 'WIRE_BAD_SCHEMA_ID',
} as const;

export type AvroIssueCode = (typeof AVRO_ISSUE_CODES)[keyof typeof AVRO_ISSUE_CODES];

/** Avro's `decimal` schema attributes; `scale` defaults to 0, as the specification says. */
interface DecimalSchema {
  type: 'bytes' | 'fixed';
  logicalType: 'decimal';
  precision?: unknown;
  scale?: unknown;
  size?: number;
}

/** A schema as avsc takes it: JSON-like object, type name, or an already built type. */
type AvscSchema = Parameters<typeof Type.forSchema>[0];

const DECIMAL_PATTERN = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Avro's `decimal` logical type whose JavaScript value is a decimal string, such as `"1250000000"`,
 * or `"-12.50"` with scale 2. Decoded strings always have exactly `scale` fractional digits.
 *
 * Strings, not numbers or `bigint`: an amount of money must never pass through a binary float, and
 * a string survives JSON (HTTP bodies, MongoDB views, logs) unchanged. Encoding accepts a plain
 * decimal numeral only (optional `-`, digits, optional `.` and digits); it refuses numbers,
 * exponents, separators and any value needing more than `precision` digits or `scale` decimals,
 * so nothing is ever rounded silently.
 *
 * The bytes are the unscaled value in two's-complement big-endian order: minimal length for
 * `bytes`, sign-extended to `size` for `fixed`.
 *
 * @see https://avro.apache.org/docs/1.11.1/specification/#decimal
 */
export class DecimalType extends types.LogicalType {
  /** The largest number of significant decimal digits a value may have. */
  readonly precision: number;
  /** The number of digits after the decimal point. */
  readonly scale: number;

  constructor(schema: AvscSchema, opts?: object) {
    super(schema, opts);
    const { precision, scale = 0, type, size } = schema as DecimalSchema;
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
      throw new Error(`decimal precision must be a positive integer, got ${JSON.stringify(precision)}`);
    }
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error(`decimal scale must be an integer from 0 to precision, got ${JSON.stringify(scale)}`);
    }
    if (type === 'fixed' && size !== undefined && precision > maxFixedPrecision(size)) {
      throw new Error(`decimal precision ${precision} does not fit in fixed(${size})`);
    }
    if (type !== 'bytes' && type !== 'fixed') {
      throw new Error(`decimal must annotate bytes or fixed, got ${JSON.stringify(type)}`);
    }
    this.precision = precision;
    this.scale = scale;
  }

  /** What a valid value looks like, for validation messages. */
  describe(): string {
    return this.scale === 0
      ? `a decimal string of at most ${this.precision} digits`
      : `a decimal string of at most ${this.precision} digits with at most ${this.scale} decimal${this.scale === 1 ? '' : 's'}`;
  }

  protected override _fromValue(buf: Buffer): string {
    let unscaled = buf.length === 0 ? 0n : BigInt.asIntN(buf.length * 8, BigInt(`0x${buf.toString('hex')}`));
    const negative = unscaled < 0n;
    if (negative) unscaled = -unscaled;
    const digits = unscaled.toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale);
    return `${negative ? '-' : ''}${whole}${this.scale > 0 ? `.${fraction}` : ''}`;
  }

  /** Returns undefined for an invalid value, which is how avsc learns that a value is invalid. */
  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== 'string') return undefined;
    const match = DECIMAL_PATTERN.exec(value);
    if (match === null) return undefined;
    const [, sign, whole = '', fraction = ''] = match;
    if (fraction.length > this.scale) return undefined;
    const digits = `${whole}${fraction.padEnd(this.scale, '0')}`.replace(/^0+(?=\d)/, '');
    if (digits.length > this.precision) return undefined;
    const unscaled = sign === '-' ? -BigInt(digits) : BigInt(digits);
    const underlying = this.underlyingType as Type & { size?: number };
    return toTwosComplement(unscaled, underlying.typeName === 'fixed' ? underlying.size : undefined);
  }

  /**
   * Schema resolution: a writer's decimal of the same scale and no greater precision reads as is
   * (its reader already produced the string); plain bytes are taken as an unscaled value.
   */
  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof DecimalType) {
      return writer.scale === this.scale && writer.precision <= this.precision ? (v) => v : undefined;
    }
    if (Type.isType(writer, 'bytes')) return (v) => this._fromValue(v as Buffer);
    return undefined;
  }

  /** Keeps `precision` and `scale` in `type.schema()`, so a registered schema round-trips. */
  protected override _export(schema: AvscSchema): void {
    Object.assign(schema, { precision: this.precision, scale: this.scale });
  }
}

/** The most decimal digits a signed two's-complement number of `size` bytes always holds. */
function maxFixedPrecision(size: number): number {
  return Math.floor(Math.log10(2 ** (8 * size - 1) - 1));
}

function toTwosComplement(value: bigint, size: number | undefined): Buffer | undefined {
  // Minimal length: enough bytes that the top bit of the first one is the sign.
  let length = 1;
  while (value >= 1n << BigInt(8 * length - 1) || value < -(1n << BigInt(8 * length - 1))) length += 1;
  if (size !== undefined) {
    if (length > size) return undefined;
    length = size;
  }
  const hex = BigInt.asUintN(length * 8, value)
    .toString(16)
    .padStart(length * 2, '0');
  return Buffer.from(hex, 'hex');
}

/**
 * The logical types lienthong implements. Avro's other logical types keep their underlying type:
 * `timestamp-millis` is a `number` of milliseconds since the Unix epoch (UTC), safe to the year
 * 287396; `uuid` is a `string` whose format is checked where it is made, not by the codec.
 */
export const AVRO_LOGICAL_TYPES = { decimal: DecimalType } as const;

/**
 * Parses an Avro schema, given as JSON text or as an already parsed object, into an avsc type
 * with {@link AVRO_LOGICAL_TYPES}.
 *
 * Unions are represented as avsc's `wrapUnions: 'auto'` does:
 * - a union whose branches map to distinct JavaScript kinds, such as `["null", "string"]`, holds the
 *   bare value (`null` or `"x"`);
 * - a union of two or more records, such as an envelope's `payload`, holds a one-key object naming
 *   the branch by its full name: `{ "vn.hanoi.lienthong.tax.TaxDebtUpdated": { ... } }` (and `null`
 *   stays bare). Records with overlapping fields could otherwise only be told apart by guessing.
 *
 * Invalid logical type attributes, such as a decimal without precision, are refused rather than
 * silently read as their underlying type as the specification allows: a contract must mean what
 * it says.
 *
 * @throws {ValidationError} with an issue coded `SCHEMA_NOT_JSON` or `SCHEMA_INVALID`
 * @see https://github.com/mtth/avsc/wiki/API#typeforschemaschema-opts
 */
export function parseAvroSchema(schemaJson: string | object): Type {
  let schema: unknown = schemaJson;
  if (typeof schemaJson === 'string') {
    try {
      schema = JSON.parse(schemaJson);
    } catch (err) {
      throw schemaError(AVRO_ISSUE_CODES.SCHEMA_NOT_JSON, (err as Error).message, err);
    }
  }
  try {
    return Type.forSchema(schema as AvscSchema, {
      logicalTypes: AVRO_LOGICAL_TYPES,
      assertLogicalTypes: true,
      wrapUnions: 'auto',
    });
  } catch (err) {
    throw schemaError(AVRO_ISSUE_CODES.SCHEMA_INVALID, (err as Error).message, err);
  }
}

function schemaError(code: AvroIssueCode, message: string, cause: unknown): ValidationError {
  return new ValidationError(`Invalid Avro schema: ${message}`, [{ path: '', code, message }], { cause });
}

/** One reason a value does not match its Avro type. */
export interface AvroValueIssue {
  /**
   * Where the value is, JSON-path-like and relative to the root without a leading `$`:
   * `payload["vn.hanoi.lienthong.tax.TaxDebtUpdated"].amount`, `subjects.citizenIds[0]`.
   * Union branch names contain dots, so they are bracketed; the root itself is `""`.
   */
  path: string;
  message: string;
}

/**
 * Every place where `value` does not match `type`, empty when it is valid. Paths are collected
 * with avsc's `errorHook`, as `@kafkajs/confluent-schema-registry` does, so a rejected record
 * names each bad field instead of failing on the first. Undeclared fields are reported too: a
 * misspelt optional field would otherwise be dropped silently.
 *
 * @see https://github.com/kafkajs/confluent-schema-registry/blob/master/src/SchemaRegistry.ts (`collectInvalidPaths`)
 */
export function validationErrors(type: Type, value: unknown): AvroValueIssue[] {
  const issues: AvroValueIssue[] = [];
  type.isValid(value, {
    errorHook: (path, val, at) => issues.push({ path: formatPath(path), message: describeMismatch(val, at) }),
  });
  // avsc stops at a record with undeclared fields without checking its fields, so undeclared
  // fields get a pass of their own, after every type mismatch has been found.
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path, val, at) => {
      const extra = undeclaredFields(val, at);
      if (extra.length > 0) {
        const s = extra.length === 1 ? '' : 's';
        issues.push({
          path: formatPath(path),
          message: `Undeclared field${s} in ${at.name}: ${extra.join(', ')}`,
        });
      }
    },
  });
  return issues;
}

function undeclaredFields(value: unknown, type: Type): string[] {
  if (!(type instanceof types.RecordType) || typeof value !== 'object' || value === null) return [];
  const declared = new Set(type.fields.map((f) => f.name));
  return Object.keys(value).filter((k) => !declared.has(k));
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(segments: readonly string[]): string {
  let out = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function describeMismatch(value: unknown, type: Type): string {
  const got = describeValue(value);
  if (type instanceof DecimalType) return `Expected ${type.describe()}, got ${got}`;
  if (type instanceof types.RecordType) return `Expected a ${type.name} record, got ${got}`;
  if (type instanceof types.EnumType) return `Expected one of ${type.symbols.join(', ')}, got ${got}`;
  if (type.typeName === 'union:wrapped') {
    const branches = (type as Type & { types: Type[] }).types.map((b) => b.branchName);
    return `Expected null or an object with one key among ${branches.filter((b) => b !== 'null').join(', ')}, got ${got}`;
  }
  if (type.typeName === 'union:unwrapped') {
    const branches = (type as Type & { types: Type[] }).types.map((b) => describeType(b));
    return `Expected ${branches.join(' or ')}, got ${got}`;
  }
  return `Expected ${describeType(type)}, got ${got}`;
}

function describeType(type: Type): string {
  if (type instanceof DecimalType) return type.describe();
  if (type.typeName === 'long' || type.typeName === 'int') return `an integer (${type.typeName})`;
  if (type.typeName === 'null') return 'null';
  return `${/^[aeiou]/.test(type.typeName) ? 'an' : 'a'} ${type.name ?? type.typeName}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'bytes';
  if (typeof value === 'object') return 'an object';
  // Short values are quoted to help the sender; long ones are cut, as they may be personal data.
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

/**
 * Encodes `value` to Avro binary.
 *
 * @throws {ValidationError} listing every mismatch (coded `AVRO_VALUE_INVALID`) with its path
 */
export function encodeAvro(type: Type, value: unknown): Buffer {
  checkAvroValue(type, value);
  return type.toBuffer(value);
}

/**
 * Throws unless `value` is one of `type`'s, with no field the schema does not declare.
 *
 * @throws {ValidationError} listing every mismatch (coded `AVRO_VALUE_INVALID`) with its path
 */
function checkAvroValue(type: Type, value: unknown): void {
  // One check on the hot path; the slower walk that names every issue only for a bad value.
  if (type.isValid(value, { noUndeclaredFields: true })) return;
  const issues = validationErrors(type, value);
  if (issues.length > 0) {
    throw new ValidationError(
      `Value does not match ${type.name ?? type.typeName}`,
      issues.map((i): ValidationIssue => ({ ...i, code: AVRO_ISSUE_CODES.VALUE_INVALID })),
    );
  }
}

/** The size of the slabs {@link createConfluentEncoder} cuts messages from. */
export const WIRE_SLAB_BYTES = 64 * 1_024;

/**
 * An encoder of `type`'s values in Confluent's wire format ({@link toConfluentWire}) that writes
 * each message once, straight into a slab it shares with the messages encoded before it, and
 * returns it as a view of that slab: no buffer is allocated or copied per message, where
 * `toConfluentWire(id, encodeAvro(type, value))` allocates and copies twice. A slab is freed once
 * every message cut from it is.
 *
 * @throws {RangeError} if `schemaId` is not an integer from 0 to 2^31 - 1
 */
export function createConfluentEncoder(
  schemaId: number,
  type: Type,
  slabBytes = WIRE_SLAB_BYTES,
): (value: unknown) => Buffer {
  // The framing is checked once, as toConfluentWire checks it.
  const header = toConfluentWire(schemaId, Buffer.alloc(0));
  let slab = Buffer.allocUnsafeSlow(slabBytes);
  let used = 0;
  return (value) => {
    checkAvroValue(type, value);
    for (;;) {
      if (slab.length - used > CONFLUENT_HEADER_LENGTH) {
        header.copy(slab, used);
        // avsc's encode answers the end of what it wrote, or minus the bytes it lacked.
        const end = type.encode(value, slab, used + CONFLUENT_HEADER_LENGTH);
        if (end >= 0) {
          const message = slab.subarray(used, end);
          used = end;
          return message;
        }
        if (used === 0) {
          // Larger than a slab: one buffer of its own, its exact size.
          const own = Buffer.allocUnsafe(slab.length - end);
          header.copy(own, 0);
          type.encode(value, own, CONFLUENT_HEADER_LENGTH);
          return own;
        }
      }
      // What is left of this slab is too small: a new one (the old lives on in its messages).
      slab = Buffer.allocUnsafeSlow(slabBytes);
      used = 0;
    }
  };
}

/**
 * Decodes Avro binary written with `type`. Bytes that do not decode, or leave bytes over, are a
 * {@link ValidationError} (never retriable: the same bytes fail the same way, so a consumer
 * dead-letters them).
 *
 * @throws {ValidationError} with an issue coded `AVRO_UNDECODABLE`
 */
export function decodeAvro(type: Type, payload: Buffer): unknown {
  try {
    return type.fromBuffer(payload);
  } catch (err) {
    const message = (err as Error).message;
    throw new ValidationError(
      `Cannot decode Avro ${type.name ?? type.typeName}: ${message}`,
      [{ path: '', code: AVRO_ISSUE_CODES.UNDECODABLE, message }],
      { cause: err },
    );
  }
}

/** What avsc's `createResolver` returns: opaque, passed back to `fromBuffer`/`decode`. */
export type AvroResolver = ReturnType<Type['createResolver']>;

/**
 * A resolver that reads data written with `writer` as values of `reader`, following Avro's schema
 * resolution rules (added fields take their defaults, removed ones are skipped...).
 *
 * Use this rather than `reader.createResolver(writer)`. avsc 5.7 remembers the resolver of every
 * (reader record, writer record) pair it tries, including pairs that fail: resolving a union of
 * records tries each reader branch in turn, and a failed pair, met again in a later union of the
 * same records (`previousOwner`, then `newOwner`), is reused as if it had succeeded and breaks the
 * read with "typeResolver._read is not a function". This forgets whatever a failed attempt
 * remembered. The patch is installed only for the duration of this synchronous call.
 *
 * @throws {Error} if `writer`'s data cannot be read as `reader` (avsc's message)
 * @see https://avro.apache.org/docs/1.11.1/specification/#schema-resolution
 */
export function createAvroResolver(reader: Type, writer: Type): AvroResolver {
  const proto = Type.prototype as unknown as { createResolver: ResolverFactory };
  const original = proto.createResolver;
  proto.createResolver = function (this: Type, type, opts = {}) {
    opts.registry ??= {};
    const before = new Set(Object.keys(opts.registry));
    try {
      return original.call(this, type, opts);
    } catch (err) {
      for (const key of Object.keys(opts.registry))
        if (!before.has(key)) Reflect.deleteProperty(opts.registry, key);
      throw err;
    }
  };
  try {
    return reader.createResolver(writer);
  } finally {
    proto.createResolver = original;
  }
}

type ResolverFactory = (
  this: Type,
  type: Type,
  opts?: { registry?: Record<string, unknown> },
) => AvroResolver;

/** The magic byte that starts every Confluent-framed message: the framing format's version. */
export const CONFLUENT_MAGIC_BYTE = 0;
/** Magic byte plus a 4-byte schema id. */
export const CONFLUENT_HEADER_LENGTH = 5;

/**
 * Frames Avro binary in Confluent's wire format: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the Avro binary.
 *
 * @throws {RangeError} if `schemaId` is not an integer from 0 to 2^31 - 1 (the registry's ids are
 *   Java ints)
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
export function toConfluentWire(schemaId: number, avroBuffer: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new RangeError(`Schema id must be an integer from 0 to 2147483647, got ${schemaId}`);
  }
  const header = Buffer.alloc(CONFLUENT_HEADER_LENGTH);
  header.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avroBuffer]);
}

/** A Confluent-framed message taken apart. */
export interface ConfluentWireMessage {
  schemaId: number;
  /** The Avro binary; a view of the given buffer, not a copy. */
  payload: Buffer;
}

/**
 * Takes a Confluent-framed message apart. It does not decode the payload: that needs the schema
 * the id names.
 *
 * @throws {ValidationError} with an issue coded `WIRE_TOO_SHORT`, `WIRE_BAD_MAGIC` or
 *   `WIRE_BAD_SCHEMA_ID`
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
export function fromConfluentWire(buf: Buffer): ConfluentWireMessage {
  if (buf.length < CONFLUENT_HEADER_LENGTH) {
    const message = `Message is ${buf.length} bytes, shorter than the ${CONFLUENT_HEADER_LENGTH}-byte Confluent header`;
    throw new ValidationError(message, [{ path: '', code: AVRO_ISSUE_CODES.WIRE_TOO_SHORT, message }]);
  }
  const magic = buf.readUInt8(0);
  if (magic !== CONFLUENT_MAGIC_BYTE) {
    const message = `Message starts with byte ${magic}, not the Confluent magic byte ${CONFLUENT_MAGIC_BYTE}`;
    throw new ValidationError(message, [{ path: '', code: AVRO_ISSUE_CODES.WIRE_BAD_MAGIC, message }]);
  }
  const schemaId = buf.readInt32BE(1);
  // Garbage that happens to start with 0 is refused here rather than asked of the registry, which
  // a consumer would go on asking for minutes (a registry restored from older state may learn an
  // unknown positive id again; it never learns a negative one).
  if (schemaId < 0) {
    const message = `Message names schema id ${schemaId}; schema ids are not negative`;
    throw new ValidationError(message, [{ path: '', code: AVRO_ISSUE_CODES.WIRE_BAD_SCHEMA_ID, message }]);
  }
  return { schemaId, payload: buf.subarray(CONFLUENT_HEADER_LENGTH) };
}
