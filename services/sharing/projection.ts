import { type LienthongEvent } from '../../schemas/generated/events';

/** The four materialized views, each a MongoDB collection of the same name. */
export const VIEW_NAMES = ['citizens', 'enterprises', 'vehicles', 'dossiers'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/**
 * Where a section's content came from: enough for an auditor to fetch the source event from Kafka
 * (topic, partition, offset), to follow its trace, and to tell versions of one record apart.
 */
export interface Provenance {
  agency: string;
  topic: string;
  partition: number;
  /** Kafka offsets are int64; kept as the decimal string kafkajs gives. */
  offset: string;
  eventId: string;
  eventType: string;
  sourceRecordId: string;
  sourceVersion: number;
  occurredAt: Date;
  /** When the sharing service applied the event: the only field a replay does not reproduce. */
  ingestedAt: Date;
  /** The W3C trace id from the event's `traceparent` header; null when it had none. */
  traceId: string | null;
}

/**
 * A part of a view document that one source record owns, stamped with the event that last set it.
 * An object holding `source` is a section; any other plain object in a document is a container.
 */
export interface Section {
  source: Provenance;
  [field: string]: unknown;
}

/** A view document: an `_id` and its sections, containers and plain derived values. */
export interface ViewDoc {
  _id: string;
  [key: string]: unknown;
}

/** Every section of a document (an object holding `source`), depth first, in key order. */
export function sectionsOf(doc: ViewDoc): { path: string; section: Record<string, unknown> }[] {
  const out: { path: string; section: Record<string, unknown> }[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const key of Object.keys(node).sort()) {
      if (prefix === '' && key === '_id') continue;
      const value = node[key];
      if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date)
        continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const child = value as Record<string, unknown>;
      if (Object.hasOwn(child, 'source')) out.push({ path, section: child });
      else walk(child, path);
    }
  };
  walk(doc, '');
  return out;
}

/** A decoded event with where it was read from. */
export interface SourcedEvent {
  event: LienthongEvent;
  source: Provenance;
}

/**
 * A decoded event stamped with where it was read: the provenance its sections will carry. The one
 * place a message's coordinates become a {@link Provenance}, for the consumer and for the lookup
 * service's replay of an answer alike.
 */
export function sourcedEvent(
  event: LienthongEvent,
  at: { topic: string; partition: number; offset: string },
  ingestedAt: Date,
  traceId: string | null,
): SourcedEvent {
  return {
    event,
    source: {
      agency: event.sourceAgency,
      topic: at.topic,
      partition: at.partition,
      offset: at.offset,
      eventId: event.eventId,
      eventType: event.eventType,
      sourceRecordId: event.sourceRecordId,
      sourceVersion: event.sourceVersion,
      occurredAt: new Date(event.occurredAt),
      ingestedAt,
      traceId,
    },
  };
}

/**
 * Read access to the current documents of every view while a batch is applied: documents as
 * they are before the event at hand, including the batch's earlier events. `null` means the
 * document does not exist.
 */
export interface ViewReader {
  get(view: ViewName, id: string): ViewDoc | null;
}

/**
 * A view's projection: which documents an event changes, and how. Both functions are pure.
 *
 * `ids` may read other views, but only documents named by the event's subjects, which are loaded
 * before it runs. `evolve` returns `current` itself when the event changes nothing, which is how
 * duplicates and late events are counted as no-ops.
 */
export interface Projection {
  view: ViewName;
  handles: ReadonlySet<LienthongEvent['eventType']>;
  ids(sourced: SourcedEvent, read: ViewReader): string[];
  evolve(current: ViewDoc | null, sourced: SourcedEvent, id: string, read: ViewReader): ViewDoc | null;
}

/**
 * Whether `incoming` may replace a section stamped `existing`: only a newer version of the same
 * source record does. A different record (an entity re-registered under a new record id, say)
 * wins when its event is later, with the event id as the tie-break so that every replica and
 * every replay choose the same.
 */
export function supersedes(existing: Provenance | undefined, incoming: Provenance): boolean {
  if (existing === undefined) return true;
  if (existing.sourceRecordId === incoming.sourceRecordId && existing.agency === incoming.agency) {
    return incoming.sourceVersion > existing.sourceVersion;
  }
  const a = existing.occurredAt.getTime();
  const b = incoming.occurredAt.getTime();
  return b > a || (b === a && incoming.eventId > existing.eventId);
}

/**
 * A map key for an identifier. MongoDB field names cannot hold `.` nor start with `$`, and plates
 * and dossier ids hold dots, so `%`, `.` and `$` are percent-encoded; the raw id stays inside the
 * section.
 */
export function sectionKey(id: string): string {
  return id.replace(/[%.$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A source version, zero-padded so that keys sort. */
export function versionKey(version: number): string {
  return `v${String(version).padStart(12, '0')}`;
}

/**
 * The key of a history or timeline entry: the source record, then its version. Two records of one
 * entity (a plate issued again to another vehicle, whose record counts versions from 1 again) never
 * share a key, a replay rewrites the same entry, and one record's entries sort by version. The
 * version key has a fixed width, so the key splits at its last `@` whatever the record id holds.
 */
export function entryKey(source: Pick<Provenance, 'sourceRecordId' | 'sourceVersion'>): string {
  return `${sectionKey(source.sourceRecordId)}@${versionKey(source.sourceVersion)}`;
}

function sectionAt(doc: ViewDoc | null, path: readonly string[]): Section | undefined {
  let node: unknown = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node as Section | undefined;
}

function withValueAt(
  node: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) return { ...node, [head]: value };
  const child = node[head];
  const container = typeof child === 'object' && child !== null ? (child as Record<string, unknown>) : {};
  return { ...node, [head]: withValueAt(container, rest, value) };
}

/**
 * Where the fields a late version filled in came from, by that version's key: a section keeps the
 * stamp of its newest version, and this says which of its values an older one gave.
 */
export interface FilledFrom {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
  fields: string[];
}

function sameRecord(a: Provenance | undefined, b: Provenance): boolean {
  return a?.sourceRecordId === b.sourceRecordId && a.agency === b.agency;
}

/**
 * Merges `fields` into the section at `path` and stamps it with the event, if the event supersedes
 * the section's current stamp. Fields the event does not carry keep their values if the section
 * came from the same source record, so an event that changes a status keeps the name a
 * registration set; a section from another record is replaced whole.
 *
 * The merge rule for late versions: an older version of the section's own record (one quarantined
 * at the connector, fixed and resent after a newer one was applied) fills the fields the section
 * lacks, and never overwrites a field the section holds, whatever its value (a newer `null` is a
 * value). The section keeps the newer stamp; `filledFrom` says which fields the older event gave,
 * and a newer version that sets such a field takes it out of `filledFrom`. An older event of
 * another record, and an older version with nothing the section lacks, change nothing: `doc`
 * itself is returned.
 */
export function mergeSection(
  doc: ViewDoc,
  path: readonly string[],
  fields: Record<string, unknown>,
  sourced: SourcedEvent,
): ViewDoc {
  const existing = sectionAt(doc, path);
  const incoming = sourced.source;
  if (!supersedes(existing?.source, incoming)) {
    if (existing === undefined || !sameRecord(existing.source, incoming)) return doc;
    if (incoming.sourceVersion >= existing.source.sourceVersion) return doc;
    const lacking = Object.keys(fields)
      .filter((f) => f !== 'source' && f !== 'filledFrom' && !Object.hasOwn(existing, f))
      .sort();
    if (lacking.length === 0) return doc;
    const filled: FilledFrom = {
      eventId: incoming.eventId,
      topic: incoming.topic,
      partition: incoming.partition,
      offset: incoming.offset,
      fields: lacking,
    };
    const filledFrom = {
      ...(existing.filledFrom as Record<string, FilledFrom> | undefined),
      [versionKey(incoming.sourceVersion)]: filled,
    };
    const added = Object.fromEntries(lacking.map((f) => [f, fields[f]]));
    return withValueAt(doc, path, { ...existing, ...added, filledFrom }) as ViewDoc;
  }
  // Fields are kept only from the same source record: a plate re-registered to another vehicle
  // must not inherit the old vehicle's deregistration.
  if (!existing || !sameRecord(existing.source, incoming)) {
    return withValueAt(doc, path, { ...fields, source: incoming }) as ViewDoc;
  }
  const { source: _previous, filledFrom: previousFills, ...kept } = existing;
  const section: Record<string, unknown> = { ...kept, ...fields, source: incoming };
  const fills = withoutFields(previousFills as Record<string, FilledFrom> | undefined, Object.keys(fields));
  if (fills) section.filledFrom = fills;
  return withValueAt(doc, path, section) as ViewDoc;
}

/** `filledFrom` without the fields a newer version has set; undefined when nothing is left. */
function withoutFields(
  fills: Record<string, FilledFrom> | undefined,
  set: readonly string[],
): Record<string, FilledFrom> | undefined {
  if (fills === undefined) return undefined;
  const out: Record<string, FilledFrom> = {};
  for (const [key, fill] of Object.entries(fills)) {
    const fields = fill.fields.filter((f) => !set.includes(f));
    if (fields.length > 0) out[key] = fields.length === fill.fields.length ? fill : { ...fill, fields };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The section at `path`, or undefined. */
export function readSection(doc: ViewDoc | null, path: readonly string[]): Section | undefined {
  return sectionAt(doc, path);
}

/** Sets a plain (unstamped) value, such as a summary derived from sections; no-op when equal. */
export function withDerived(doc: ViewDoc, key: string, value: Record<string, unknown>): ViewDoc {
  const current = doc[key];
  if (
    typeof current === 'object' &&
    current !== null &&
    shallowEqual(current as Record<string, unknown>, value)
  ) {
    return doc;
  }
  return { ...doc, [key]: value };
}

function shallowEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    return x instanceof Date && y instanceof Date ? x.getTime() === y.getTime() : x === y;
  });
}

/** An empty document to evolve from. */
export function blankDoc(id: string): ViewDoc {
  return { _id: id };
}

/** The party union of the contracts, unwrapped: which view it lives in and its id. */
export function partyOf(
  party:
    | { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: string } }
    | {
        'vn.hanoi.lienthong.common.EnterpriseParty': { enterpriseCode: string };
      },
): { view: 'citizens'; id: string } | { view: 'enterprises'; id: string } {
  if ('vn.hanoi.lienthong.common.CitizenParty' in party) {
    return { view: 'citizens', id: party['vn.hanoi.lienthong.common.CitizenParty'].citizenId };
  }
  return { view: 'enterprises', id: party['vn.hanoi.lienthong.common.EnterpriseParty'].enterpriseCode };
}

/**
 * The MongoDB `$set` that turns `before` into `after`, section by section: a section or a plain
 * value that changed is set whole at its dotted path; containers are walked, so two consumers
 * changing different sections of one document never overwrite each other. Projections only add
 * or replace sections; what the map bounds take out is in {@link removedPaths}.
 */
export function changedPaths(before: ViewDoc | null, after: ViewDoc): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  const walk = (a: unknown, b: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(b)) {
      if (prefix === '' && key === '_id') continue;
      const old = typeof a === 'object' && a !== null ? (a as Record<string, unknown>)[key] : undefined;
      if (old === value) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      // Containers are walked even when new: setting `vehicles` whole would erase a sibling
      // section another consumer added since this one read the document.
      if (isContainer(value)) walk(isContainer(old) ? old : undefined, value, path);
      else if (!(old instanceof Date && value instanceof Date && old.getTime() === value.getTime()))
        set[path] = value;
    }
  };
  walk(before, after, '');
  return set;
}

function isContainer(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !Object.hasOwn(value, 'source')
  );
}

/**
 * The dotted paths of the entries in `before`'s containers that `after` no longer holds: the
 * entries the map bounds moved to the archive, for a `$unset`. Sections are not walked into: they
 * are set whole.
 */
export function removedPaths(before: ViewDoc | null, after: ViewDoc): string[] {
  const out: string[] = [];
  const walk = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string): void => {
    for (const [key, old] of Object.entries(a)) {
      if (prefix === '' && key === '_id') continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const now = b[key];
      if (!Object.hasOwn(b, key)) out.push(path);
      else if (old !== now && isContainer(old) && isContainer(now)) walk(old, now, path);
    }
  };
  if (before) walk(before, after, '');
  return out;
}
