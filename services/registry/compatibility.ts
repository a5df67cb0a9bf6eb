/**
 * Avro schema compatibility, decided by the specification's schema resolution rules the way
 * Confluent Schema Registry decides it, with issues that name the field a developer has to fix.
 *
 * Issue paths are dotted paths into the reader schema, built from:
 * - a record field's name (`payload`, `amount`);
 * - the name of the union branch that was chosen (`TaxDebtUpdated`, `string`), but only in unions
 *   with more than one non-null branch, so an optional field `["null", "string"]` stays `note`;
 * - `[]` for an array's items and `{}` for a map's values (`lines[].amount`, `labels{}`).
 *
 * So `payload.TaxDebtUpdated.amount` is the field `amount` of the `TaxDebtUpdated` branch of the
 * field `payload`. The root of the schema is the empty path.
 *
 * @see https://avro.apache.org/docs/1.11.1/specification/#schema-resolution
 */

/** The compatibility levels of Confluent Schema Registry, in the order its documentation lists them. */
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** Whether `s` is one of {@link COMPATIBILITY_LEVELS}, spelled exactly (upper case). */
export function isCompatibilityLevel(s: unknown): s is CompatibilityLevel {
  return typeof s === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(s);
}

/**
 * The kinds of incompatibility, named as Avro's Java `SchemaCompatibility` and so Confluent name them.
 *
 * @see https://avro.apache.org/docs/1.11.1/api/java/org/apache/avro/SchemaCompatibility.SchemaIncompatibilityType.html
 */
export const INCOMPATIBILITY_TYPES = [
  'READER_FIELD_MISSING_DEFAULT_VALUE',
  'TYPE_MISMATCH',
  'MISSING_ENUM_SYMBOLS',
  'MISSING_UNION_BRANCH',
  'NAME_MISMATCH',
  'FIXED_SIZE_MISMATCH',
] as const;

export type IncompatibilityType = (typeof INCOMPATIBILITY_TYPES)[number];

/** One reason data written with one schema cannot be read with another. */
export interface CompatibilityIssue {
  /** One of {@link INCOMPATIBILITY_TYPES}. */
  errorType: string;
  /** Dotted path into the reading schema, as described at the top of this module; `''` is the root. */
  path: string;
  /** One sentence naming the field; forward-direction issues start with "The old schema cannot read". */
  description: string;
}

/** The outcome of {@link checkCompatibility}. */
export interface CompatibilityVerdict {
  compatible: boolean;
  issues: CompatibilityIssue[];
  /** Index in `existing` of the version the candidate was refused against. */
  comparedWith?: number;
}

/**
 * The issues that stop a reader with schema `reader` from reading data written with `writer`;
 * empty when it can. Descriptions call the reader "the new schema" and the writer "the old schema",
 * as in a backward check. Logical types are ignored, as the specification's resolution ignores them,
 * so a decimal resolves as its `bytes` or `fixed` and a change of precision or scale is not caught.
 *
 * @param reader - Parsed Avro schema JSON; names may rely on namespaces, which are resolved here.
 * @param writer - Parsed Avro schema JSON.
 * @throws TypeError if either is not a valid Avro schema (an unknown name, a record without fields)
 * @see https://avro.apache.org/docs/1.11.1/specification/#schema-resolution
 */
export function canRead(reader: unknown, writer: unknown): CompatibilityIssue[] {
  return resolveSchemas(parseAvro(reader), parseAvro(writer), BACKWARD_ROLES);
}

/**
 * Whether `candidate` may be registered after the `existing` versions (oldest first) under `level`.
 *
 * Transitive levels check the versions from newest to oldest and stop at the first that refuses, so
 * `issues` describe a single version, the one `comparedWith` points at. Under FULL levels the issues
 * of both directions against that version are reported.
 *
 * @throws TypeError if a schema is not a valid Avro schema
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html#compatibility-types
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  candidate: unknown,
  existing: readonly unknown[],
): CompatibilityVerdict {
  if (level === 'NONE' || existing.length === 0) return { compatible: true, issues: [] };
  const next = parseAvro(candidate);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const oldest = level.endsWith('_TRANSITIVE') ? 0 : existing.length - 1;
  // Newest first, as Confluent does: the latest version is the likeliest to explain the refusal.
  for (let index = existing.length - 1; index >= oldest; index -= 1) {
    const previous = parseAvro(existing[index]);
    const issues = [
      ...(backward ? resolveSchemas(next, previous, BACKWARD_ROLES) : []),
      ...(forward ? resolveSchemas(previous, next, FORWARD_ROLES) : []),
    ];
    if (issues.length > 0) return { compatible: false, issues, comparedWith: index };
  }
  return { compatible: true, issues: [] };
}

// ---------------------------------------------------------------------------------------------
// Parsing: schema JSON into a graph whose name references point at their definitions

const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const;
type Primitive = (typeof PRIMITIVES)[number];

interface NamedInfo {
  fullName: string;
  shortName: string;
  aliases: readonly string[];
}

interface Field {
  name: string;
  aliases: readonly string[];
  type: AvroNode;
  hasDefault: boolean;
}

type AvroNode =
  | { kind: 'primitive'; name: Primitive }
  | ({ kind: 'record'; fields: Field[] } & NamedInfo)
  | ({ kind: 'enum'; symbols: readonly string[]; default?: string } & NamedInfo)
  | ({ kind: 'fixed'; size: number } & NamedInfo)
  | { kind: 'array'; items: AvroNode }
  | { kind: 'map'; values: AvroNode }
  | { kind: 'union'; branches: AvroNode[] };

type NamedNode = Extract<AvroNode, { kind: 'record' | 'enum' | 'fixed' }>;

function isPrimitive(name: string): name is Primitive {
  return (PRIMITIVES as readonly string[]).includes(name);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAvro(schema: unknown): AvroNode {
  return parseNode(schema, '', new Map());
}

/** `namespace` is the enclosing one, `''` for the null namespace. */
function parseNode(schema: unknown, namespace: string, names: Map<string, NamedNode>): AvroNode {
  if (typeof schema === 'string') return lookUp(schema, namespace, names);
  if (Array.isArray(schema)) {
    return { kind: 'union', branches: schema.map((branch) => parseNode(branch, namespace, names)) };
  }
  if (!isObject(schema)) throw new TypeError(`Invalid Avro schema: ${JSON.stringify(schema)}`);
  const { type } = schema;
  // `{"type": "int", "logicalType": ...}`, `{"type": "Money"}` and `{"type": {...}}` wrap another schema.
  if (typeof type !== 'string' || !['record', 'error', 'enum', 'fixed', 'array', 'map'].includes(type)) {
    return parseNode(type, namespace, names);
  }
  if (type === 'array') return { kind: 'array', items: parseNode(schema.items, namespace, names) };
  if (type === 'map') return { kind: 'map', values: parseNode(schema.values, namespace, names) };

  const info = namedInfo(schema, namespace);
  const own = namespaceOf(info.fullName);
  let node: NamedNode;
  if (type === 'enum') {
    if (!Array.isArray(schema.symbols)) throw new TypeError(`Enum '${info.fullName}' has no symbols`);
    node = { kind: 'enum', ...info, symbols: schema.symbols.map(String) };
    if (typeof schema.default === 'string') node.default = schema.default;
  } else if (type === 'fixed') {
    node = { kind: 'fixed', ...info, size: Number(schema.size) };
  } else {
    if (!Array.isArray(schema.fields)) throw new TypeError(`Record '${info.fullName}' has no fields`);
    node = { kind: 'record', ...info, fields: [] };
  }
  // Registered before the fields are parsed, so a record can refer to itself.
  names.set(info.fullName, node);
  if (node.kind === 'record') {
    for (const field of schema.fields as unknown[]) {
      if (!isObject(field) || typeof field.name !== 'string') {
        throw new TypeError(`Record '${info.fullName}' has a field without a name`);
      }
      node.fields.push({
        name: field.name,
        aliases: stringList(field.aliases),
        type: parseNode(field.type, own, names),
        hasDefault: 'default' in field,
      });
    }
  }
  return node;
}

function namedInfo(schema: Record<string, unknown>, enclosing: string): NamedInfo {
  if (typeof schema.name !== 'string') throw new TypeError(`A ${String(schema.type)} needs a name`);
  const explicit = typeof schema.namespace === 'string' ? schema.namespace : undefined;
  const fullName = qualify(schema.name, explicit ?? enclosing);
  // Aliases without a dot take the namespace of the type they alias, not the enclosing one.
  const aliases = stringList(schema.aliases).map((alias) => qualify(alias, namespaceOf(fullName)));
  return { fullName, shortName: shortNameOf(fullName), aliases };
}

function lookUp(name: string, namespace: string, names: Map<string, NamedNode>): AvroNode {
  if (isPrimitive(name)) return { kind: 'primitive', name };
  // As Avro's Java parser does, an unqualified name not found in the namespace is tried in the null one.
  const found = names.get(qualify(name, namespace)) ?? names.get(name);
  if (!found) throw new TypeError(`Unknown Avro type '${name}'`);
  return found;
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}

function namespaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf('.');
  return dot < 0 ? '' : fullName.slice(0, dot);
}

function shortNameOf(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

// ---------------------------------------------------------------------------------------------
// Resolution

interface Roles {
  reader: 'new' | 'old';
  writer: 'new' | 'old';
  prefix: string;
}

const BACKWARD_ROLES: Roles = { reader: 'new', writer: 'old', prefix: '' };
const FORWARD_ROLES: Roles = {
  reader: 'old',
  writer: 'new',
  prefix: 'The old schema cannot read data written with the new schema: ',
};

type Segment = { field: string } | { branch: string } | '[]' | '{}';

interface Resolution {
  roles: Roles;
  issues: CompatibilityIssue[];
  /** Record pairs being resolved, reader to writers, so recursive records end instead of looping. */
  entered: Map<AvroNode, Set<AvroNode>>;
}

function resolveSchemas(reader: AvroNode, writer: AvroNode, roles: Roles): CompatibilityIssue[] {
  const resolution: Resolution = { roles, issues: [], entered: new Map() };
  resolve(resolution, reader, writer, []);
  return resolution.issues;
}

const PROMOTIONS: Readonly<Record<Primitive, readonly Primitive[]>> = {
  null: [],
  boolean: [],
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  double: [],
  bytes: ['string'],
  string: ['bytes'],
};

function resolve(r: Resolution, reader: AvroNode, writer: AvroNode, path: readonly Segment[]): void {
  // A writer union is read branch by branch: whichever branch the data took must be readable.
  if (writer.kind === 'union') {
    for (const branch of writer.branches) resolve(r, reader, branch, path);
    return;
  }
  if (reader.kind === 'union') {
    const index = chooseBranch(reader.branches, writer);
    if (index < 0) {
      report(r, 'MISSING_UNION_BRANCH', path, (subject, roles) => {
        return `${subject} in the ${roles.reader} schema is a union with no branch that can read ${describe(writer)} from the ${roles.writer} schema`;
      });
      return;
    }
    const chosen = reader.branches[index] as AvroNode;
    const alternatives = reader.branches.filter((b) => !(b.kind === 'primitive' && b.name === 'null'));
    const next = alternatives.length > 1 ? [...path, { branch: branchName(chosen) }] : path;
    resolve(r, chosen, writer, next);
    return;
  }

  if (reader.kind === 'primitive' && writer.kind === 'primitive') {
    if (reader.name !== writer.name && !PROMOTIONS[writer.name].includes(reader.name))
      typeMismatch(r, reader, writer, path);
    return;
  }
  if (reader.kind !== writer.kind) {
    typeMismatch(r, reader, writer, path);
    return;
  }
  switch (reader.kind) {
    case 'array':
      resolve(r, reader.items, (writer as Extract<AvroNode, { kind: 'array' }>).items, [...path, '[]']);
      return;
    case 'map':
      resolve(r, reader.values, (writer as Extract<AvroNode, { kind: 'map' }>).values, [...path, '{}']);
      return;
    case 'record':
    case 'enum':
    case 'fixed':
      resolveNamed(r, reader, writer as NamedNode, path);
      return;
    default:
      return;
  }
}

function resolveNamed(r: Resolution, reader: NamedNode, writer: NamedNode, path: readonly Segment[]): void {
  if (!namesMatch(reader, writer)) {
    report(r, 'NAME_MISMATCH', path, (subject, roles) => {
      return `${subject} is the ${reader.kind} '${reader.fullName}' in the ${roles.reader} schema but '${writer.fullName}' in the ${roles.writer} schema, and no alias joins them`;
    });
    return;
  }
  if (reader.kind === 'fixed' && writer.kind === 'fixed') {
    if (reader.size !== writer.size) {
      report(r, 'FIXED_SIZE_MISMATCH', path, (subject, roles) => {
        return `${subject} is a fixed of ${reader.size} bytes in the ${roles.reader} schema but of ${writer.size} bytes in the ${roles.writer} schema`;
      });
    }
    return;
  }
  if (reader.kind === 'enum' && writer.kind === 'enum') {
    // The reader's default symbol stands in for any symbol it does not know.
    if (reader.default !== undefined) return;
    const missing = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
    if (missing.length > 0) {
      const list = missing.map((symbol) => `'${symbol}'`).join(', ');
      report(r, 'MISSING_ENUM_SYMBOLS', path, (subject, roles) => {
        return `${subject} in the ${roles.reader} schema lacks the enum symbols ${list} that the ${roles.writer} schema can write, and its enum has no default`;
      });
    }
    return;
  }
  if (reader.kind === 'record' && writer.kind === 'record') resolveRecord(r, reader, writer, path);
}

function resolveRecord(
  r: Resolution,
  reader: Extract<AvroNode, { kind: 'record' }>,
  writer: Extract<AvroNode, { kind: 'record' }>,
  path: readonly Segment[],
): void {
  // Only pairs on the current descent are skipped: that ends recursion, while a type used at two
  // paths is still checked, and reported, at both.
  const entered = r.entered.get(reader) ?? new Set<AvroNode>();
  if (entered.has(writer)) return;
  r.entered.set(reader, entered.add(writer));
  // Fields only the writer has are skipped by the reader, so only the reader's fields are walked.
  for (const field of reader.fields) {
    const source =
      writer.fields.find((w) => w.name === field.name) ??
      writer.fields.find((w) => field.aliases.includes(w.name));
    const fieldPath = [...path, { field: field.name }];
    if (source) {
      resolve(r, field.type, source.type, fieldPath);
    } else if (!field.hasDefault) {
      report(r, 'READER_FIELD_MISSING_DEFAULT_VALUE', fieldPath, (subject, roles) => {
        return `${subject} in the ${roles.reader} schema has no default value and is missing in the ${roles.writer} schema`;
      });
    }
  }
  entered.delete(writer);
}

/**
 * The spec's "first schema in the reader's union that matches": the same type and full name (or an
 * alias) first, then the same unqualified name, then a promotion. Names decide before structure,
 * so a changed record is reported field by field rather than as a missing branch.
 */
function chooseBranch(branches: readonly AvroNode[], writer: AvroNode): number {
  const exact = branches.findIndex((branch) => {
    if (branch.kind !== writer.kind) return false;
    if (branch.kind === 'primitive') return writer.kind === 'primitive' && branch.name === writer.name;
    if (branch.kind === 'array' || branch.kind === 'map') return true;
    const named = writer as NamedNode;
    return (
      'fullName' in branch && (branch.fullName === named.fullName || branch.aliases.includes(named.fullName))
    );
  });
  if (exact >= 0) return exact;
  const unqualified = branches.findIndex(
    (branch) =>
      'shortName' in branch && branch.kind === writer.kind && namesMatch(branch, writer as NamedNode),
  );
  if (unqualified >= 0) return unqualified;
  if (writer.kind !== 'primitive') return -1;
  return branches.findIndex(
    (branch) => branch.kind === 'primitive' && PROMOTIONS[writer.name].includes(branch.name),
  );
}

/** Full names equal, a reader alias naming the writer, or, as the spec allows, equal unqualified names. */
function namesMatch(reader: NamedNode, writer: NamedNode): boolean {
  return (
    reader.fullName === writer.fullName ||
    reader.aliases.includes(writer.fullName) ||
    reader.shortName === writer.shortName
  );
}

// ---------------------------------------------------------------------------------------------
// Reporting

function typeMismatch(r: Resolution, reader: AvroNode, writer: AvroNode, path: readonly Segment[]): void {
  report(r, 'TYPE_MISMATCH', path, (subject, roles) => {
    return `${subject} has type ${describe(reader)} in the ${roles.reader} schema, which cannot read ${describe(writer)} from the ${roles.writer} schema`;
  });
}

function report(
  r: Resolution,
  errorType: IncompatibilityType,
  segments: readonly Segment[],
  sentence: (subject: string, roles: Roles) => string,
): void {
  const path = formatPath(segments);
  const text = sentence(subjectOf(segments, path), r.roles);
  const description = r.roles.prefix ? r.roles.prefix + text.charAt(0).toLowerCase() + text.slice(1) : text;
  r.issues.push({ errorType, path, description });
}

function formatPath(segments: readonly Segment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'string') path += segment;
    else path += (path ? '.' : '') + ('field' in segment ? segment.field : segment.branch);
  }
  return path;
}

/** Who the sentence is about: the innermost field, so that a developer can find it in the `.avsc`. */
function subjectOf(segments: readonly Segment[], path: string): string {
  if (segments.length === 0) return 'The schema root';
  const field = segments.findLast((segment) => typeof segment !== 'string' && 'field' in segment);
  return field
    ? `The field '${(field as { field: string }).field}' at path '${path}'`
    : `The type at path '${path}'`;
}

function branchName(node: AvroNode): string {
  return node.kind === 'primitive' ? node.name : 'shortName' in node ? node.shortName : node.kind;
}

function describe(node: AvroNode): string {
  switch (node.kind) {
    case 'primitive':
      return `'${node.name}'`;
    case 'array':
      return `an array of ${describe(node.items)}`;
    case 'map':
      return `a map of ${describe(node.values)}`;
    case 'union':
      return `a union of ${node.branches.map(describe).join(', ')}`;
    default:
      return `the ${node.kind} '${node.shortName}'`;
  }
}
