import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import { ConfigError, type ConfigIssue } from '../platform/errors';
import {
  type FilledFrom,
  type Provenance,
  VIEW_NAMES,
  type ViewDoc,
  type ViewName,
} from '../sharing/projection';
import { type AnswerEvent } from './audit-chain';
import { type Exposure, ExposureCollector } from './exposures';
import { VIEW_SECTIONS } from './view-sections';

/**
 * How a value is shown:
 * - `clear`: as it is;
 * - `last4`: every character but the last four replaced by `*` (`********2345`), in every string
 *   the value holds, so an owner `{ citizenId }` is masked too;
 * - `year`: a date reduced to its year.
 */
export const MASKS = ['clear', 'last4', 'year'] as const;
export type Mask = (typeof MASKS)[number];

// An agency code, or a prefix ending in `*` for every agency under it (each district's committee).
const AGENCY = '^HN-[A-Z0-9]+(-[A-Z0-9]+)*(-\\*)?$';
const PROCEDURE = '^\\d\\.\\d{6}$';

const ViewRules = Type.Record(
  Type.String(),
  Type.Record(Type.String(), Type.Union(MASKS.map((m) => Type.Literal(m)))),
);

export const FieldPolicyFile = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    policies: Type.Array(
      Type.Object(
        {
          procedureCode: Type.String({ pattern: PROCEDURE }),
          agency: Type.String({ pattern: AGENCY }),
          /** Why this procedure needs these fields: the text a reviewer checks the grant against. */
          purpose: Type.String({ minLength: 10 }),
          views: Type.Partial(Type.Object(Object.fromEntries(VIEW_NAMES.map((v) => [v, ViewRules]))), {
            additionalProperties: false,
          }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type FieldPolicyFile = Static<typeof FieldPolicyFile>;

/** One procedure's grant to one agency: per view, per section, the visible fields and their masks. */
export interface FieldPolicy {
  procedureCode: string;
  agency: string;
  purpose: string;
  views: Partial<Record<ViewName, Readonly<Record<string, Readonly<Record<string, Mask>>>>>>;
}

/** The policies by procedure and agency. */
export interface FieldPolicies {
  /** The SHA-256 of the policy file's bytes, hex: the version each audit record names. */
  version: string;
  /** The file's text, whose UTF-8 bytes `version` is the digest of: kept to cut old answers again. */
  text: string;
  find(procedureCode: string, agency: string): FieldPolicy | undefined;
  all(): readonly FieldPolicy[];
}

/**
 * Reads and checks the policy file. Besides its JSON schema, every section and field it names
 * must exist in {@link VIEW_SECTIONS}, and a procedure and agency pair is granted once. Every
 * problem is reported at once, so a reviewer fixes the file in one pass.
 *
 * @throws ConfigError naming the file and each bad entry
 */
export function loadFieldPolicies(path: string): FieldPolicies {
  let parsed: unknown;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ConfigError([{ variable: 'LOOKUP_POLICY_FILE', message: `${path} cannot be read as JSON` }], {
      cause: err,
    });
  }
  return fieldPolicies(
    parsed,
    path,
    createHash('sha256').update(bytes).digest('hex'),
    bytes.toString('utf8'),
  );
}

/**
 * Checks parsed policy-file content; see {@link loadFieldPolicies}. `version` is the digest of the
 * file's bytes; content given without a file is versioned by the digest of its JSON.
 */
export function fieldPolicies(
  content: unknown,
  source = 'the field policy file',
  version = createHash('sha256').update(JSON.stringify(content)).digest('hex'),
  text = JSON.stringify(content),
): FieldPolicies {
  const issue = (message: string): ConfigIssue => ({
    variable: 'LOOKUP_POLICY_FILE',
    message: `${source}: ${message}`,
  });
  const validate = new Ajv({ allErrors: true, strict: false }).compile(FieldPolicyFile);
  const issues: ConfigIssue[] = [];
  if (!validate(content)) {
    for (const e of validate.errors ?? []) {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const allowed = (e.params as { allowedValue?: unknown }).allowedValue;
      // A union of literals fails once per literal: one issue for the mask names them all.
      if (e.keyword === 'const' && allowed !== undefined) continue;
      const message =
        extra !== undefined
          ? `has an unknown property ${extra}`
          : e.keyword === 'anyOf' && e.instancePath.split('/').length === 7
            ? `must be one of ${MASKS.join(', ')}`
            : (e.message ?? 'is invalid');
      issues.push(issue(`${e.instancePath || '/'} ${message}`));
    }
  }
  // Sections, fields and duplicates are checked too, as far as the structure allows, so that every
  // problem is reported in one pass.
  const entries = (content as { policies?: unknown }).policies;
  const byKey = new Map<string, FieldPolicy>();
  (Array.isArray(entries) ? entries : []).forEach((entry: unknown, index: number) => {
    if (typeof entry !== 'object' || entry === null) return;
    const policy = entry as FieldPolicy;
    const key = `${policy.procedureCode} ${policy.agency}`;
    if (byKey.has(key)) issues.push(issue(`/policies/${index} grants ${key} a second time`));
    const views = typeof policy.views === 'object' && policy.views !== null ? policy.views : {};
    for (const [view, sections] of Object.entries(views)) {
      const shapes = Object.hasOwn(VIEW_SECTIONS, view) ? VIEW_SECTIONS[view as ViewName] : undefined;
      if (!shapes || typeof sections !== 'object' || sections === null) continue;
      for (const [section, fields] of Object.entries(sections)) {
        const shape = Object.hasOwn(shapes, section) ? shapes[section] : undefined;
        if (!shape) {
          issues.push(issue(`/policies/${index}/views/${view} has no section ${section}`));
          continue;
        }
        for (const field of Object.keys(typeof fields === 'object' && fields !== null ? fields : {})) {
          if (!shape.fields.includes(field))
            issues.push(issue(`/policies/${index}/views/${view}/${section} has no field ${field}`));
        }
      }
    }
    byKey.set(key, policy);
  });
  if (issues.length > 0) throw new ConfigError(issues);
  const all = Object.freeze([...byKey.values()]);
  const wildcards = all.filter((p) => p.agency.endsWith('*'));
  return {
    version,
    text,
    // An exact grant wins over a prefix one.
    find: (procedureCode, agency) =>
      byKey.get(`${procedureCode} ${agency}`) ??
      wildcards.find((p) => p.procedureCode === procedureCode && agency.startsWith(p.agency.slice(0, -1))),
    all: () => all,
  };
}

/** What a lookup returns of a document, with what the audit records of it. */
export interface Projected {
  data: Record<string, unknown>;
  /** The fields returned, as `section.field` or `section[].field`, sorted. */
  fields: string[];
  /** The agencies whose events produced the returned sections, sorted. */
  sources: string[];
  /** The mask each returned field was shown through, in the order of `fields`. */
  masks: { field: string; mask: Mask }[];
  /** The citizens the returned fields name (an owner, a representative, an applicant), with full ids. */
  exposures: Exposure[];
  /**
   * The events every returned section was built from, in answer order: its own, those that filled
   * it late, and those of the sections a returned derived value was computed from.
   */
  events: AnswerEvent[];
}

/** The events of a section: the one it is stamped with, then those that filled it late. */
function eventsOf(
  section: Record<string, unknown>,
  path: string,
  role: 'section' | 'derived',
): AnswerEvent[] {
  const source = section.source as Provenance | undefined;
  if (!source) return [];
  const { agency, topic, partition, offset, eventId } = source;
  const fills = Object.values((section.filledFrom ?? {}) as Record<string, FilledFrom>);
  return [
    { path, role, agency, topic, partition, offset, eventId },
    ...fills.map((f) => ({
      path,
      role: 'filled' as const,
      // A fill is an older version of the section's own record: the same agency.
      agency,
      topic: f.topic,
      partition: f.partition,
      offset: f.offset,
      eventId: f.eventId,
    })),
  ];
}

/**
 * The part of `doc` that `rules` lets an officer see, masked. Map sections come back as arrays in
 * key order, so that no identifier leaks through a key that the policy would mask as a value.
 * Provenance is never returned to officers: lineage is for auditors.
 */
export function projectDocument(
  doc: ViewDoc,
  view: ViewName,
  rules: Readonly<Record<string, Readonly<Record<string, Mask>>>>,
): Projected {
  const data: Record<string, unknown> = {};
  const fields = new Map<string, Mask>();
  const sources = new Set<string>();
  const exposed = new ExposureCollector();
  const events: AnswerEvent[] = [];
  for (const [section, allowed] of Object.entries(rules)) {
    const shape = VIEW_SECTIONS[view][section];
    const value = doc[section];
    if (!shape || !isObject(value)) continue;
    const pick = (entry: Record<string, unknown>, path: string, at: string): Record<string, unknown> => {
      // Even an entry shown empty is there because of its event.
      events.push(...eventsOf(entry, at, 'section'));
      const out: Record<string, unknown> = {};
      for (const [field, mask] of Object.entries(allowed)) {
        if (!Object.hasOwn(entry, field)) continue;
        out[field] = masked(entry[field], mask);
        fields.set(`${path}.${field}`, mask);
        // From the value before its mask: a masked id still tells whom the answer concerns.
        exposed.walk({ [field]: entry[field] }, path, mask);
      }
      const source = entry.source as Provenance | undefined;
      if (source && Object.keys(out).length > 0) sources.add(source.agency);
      for (const [field, from] of Object.entries(shape.derived ?? {})) {
        const map = doc[from];
        if (!Object.hasOwn(out, field) || !isObject(map)) continue;
        for (const key of Object.keys(map).sort()) {
          const item = map[key];
          if (isObject(item)) events.push(...eventsOf(item, `${from}.${key}`, 'derived'));
        }
      }
      return out;
    };
    if (shape.kind === 'single') {
      data[section] = pick(value, `${section}`, section);
    } else {
      data[section] = Object.keys(value)
        .sort()
        .filter((key) => isObject(value[key]))
        .map((key) => pick(value[key] as Record<string, unknown>, `${section}[]`, `${section}.${key}`));
    }
  }
  const names = [...fields.keys()].sort();
  return {
    data,
    fields: names,
    sources: [...sources].sort(),
    masks: names.map((field) => ({ field, mask: fields.get(field) as Mask })),
    exposures: exposed.exposures(),
    events,
  };
}

/**
 * The top-level sections of a `view` document that {@link projectDocument} reads under `rules`:
 * those the rules name, and the maps that a derived field they allow is computed from. What a
 * lookup projects its read of the subject to.
 */
export function sectionsRead(
  view: ViewName,
  rules: Readonly<Record<string, Readonly<Record<string, Mask>>>>,
): string[] {
  const sections = new Set<string>();
  for (const [section, allowed] of Object.entries(rules)) {
    const shape = VIEW_SECTIONS[view][section];
    if (!shape) continue;
    sections.add(section);
    for (const [field, from] of Object.entries(shape.derived ?? {}))
      if (Object.hasOwn(allowed, field)) sections.add(from);
  }
  return [...sections].sort();
}

/** `value` shown through `mask`. */
export function masked(value: unknown, mask: Mask): unknown {
  switch (mask) {
    case 'clear':
      return value;
    case 'year':
      return value instanceof Date ? value.getUTCFullYear() : value;
    case 'last4':
      if (typeof value === 'string') return '*'.repeat(Math.max(0, value.length - 4)) + value.slice(-4);
      if (Array.isArray(value)) return value.map((v) => masked(v, mask));
      if (isObject(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, mask)]));
      }
      return value;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
