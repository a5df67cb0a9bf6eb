import { canonicalAvroSchema } from './avro-canonical';
import { type CompatibilityLevel, isCompatibilityLevel } from './compatibility';

/** One registered version of a subject, as the log records it. */
export interface SchemaVersion {
  subject: string;
  version: number;
  id: number;
  /**
   * The schema text. Records written by this registry hold Confluent's canonical form (see
   * {@link canonicalAvroSchema}); older records may hold other spellings, which the state reads in
   * canonical form too.
   */
  schema: string;
  deleted: boolean;
  /** The agency whose credential registered it; the first version's agency owns the subject. */
  agency?: string;
}

/**
 * Keys and values of the registry's compacted topic, in the shape Confluent's `_schemas` uses
 * (`keytype`, `magic`), so that an operator who knows one can read the other.
 * A null value is a tombstone: a permanent delete.
 */
export type LogKey =
  | { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 }
  | { keytype: 'CONFIG'; subject: string | null; magic: 0 };

export type LogValue = SchemaVersion | { compatibilityLevel: CompatibilityLevel } | null;

/** Which versions a read sees: live ones, live and soft-deleted ones, or soft-deleted ones only. */
export type LookupFilter = 'live' | 'all' | 'deleted';

/** Whether a record took effect. A write that lost a race to another instance is `ignored`. */
export type ApplyOutcome = 'applied' | 'ignored';

/**
 * The registry's state, rebuilt by applying the log in order.
 *
 * Every instance applies the same records in the same order with this same code, so they all
 * agree without talking to each other. Concurrent writers are settled by the log itself: a
 * record that claims a version or an id that an earlier record took is ignored, and its writer,
 * which waits to read its own record back, sees that and tries again.
 */
export class RegistryState {
  private readonly subjects = new Map<string, Map<number, SchemaVersion>>();
  /** Versions only grow, even past permanent deletes, so a version number never means two schemas. */
  private readonly highestVersion = new Map<string, number>();
  /** Each id's schema, in canonical form. */
  private readonly schemasById = new Map<number, string>();
  /** The first id given to each canonical form: what a new registration of it reuses. */
  private readonly idsByCanonical = new Map<string, number>();
  /**
   * The id of each schema text as written in the log. Racing writers of one schema write the same
   * canonical text, so the second claim of a new id for it is refused here; an older log that
   * gave two spellings of one schema two ids is still read as it was written.
   */
  private readonly idsByText = new Map<string, number>();
  /** How many versions, soft-deleted or not, use each id: an id none uses is gone. */
  private readonly uses = new Map<number, number>();
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private highestId = 0;
  globalLevel: CompatibilityLevel | undefined;

  /** @param canonical - The canonical form of a schema text; a text it cannot read stays as it is. */
  constructor(private readonly canonical: (text: string) => string = canonicalText) {}

  apply(key: LogKey, value: LogValue): ApplyOutcome {
    if (key.keytype === 'CONFIG') return this.applyConfig(key.subject, value);
    if (value === null) return this.applyTombstone(key.subject, key.version);
    if (!('schema' in value)) return 'ignored';
    return this.applySchema(value);
  }

  private applyConfig(subject: string | null, value: LogValue): ApplyOutcome {
    const level = value && 'compatibilityLevel' in value ? value.compatibilityLevel : undefined;
    if (level !== undefined && !isCompatibilityLevel(level)) return 'ignored';
    if (subject === null) this.globalLevel = level;
    else if (level === undefined) this.subjectLevels.delete(subject);
    else this.subjectLevels.set(subject, level);
    return 'applied';
  }

  private applySchema(record: SchemaVersion): ApplyOutcome {
    const { subject, version, id } = record;
    const schema = this.canonical(record.schema);
    const versions = this.subjects.get(subject);
    const existing = versions?.get(version);
    if (existing) {
      // Only the deleted flag of a version may change.
      if (existing.id !== id || existing.schema !== schema) return 'ignored';
      existing.deleted = record.deleted;
      return 'applied';
    }
    if (version !== (this.highestVersion.get(subject) ?? 0) + 1) return 'ignored';
    const knownSchema = this.schemasById.get(id);
    if (knownSchema === undefined ? id !== this.highestId + 1 : knownSchema !== schema) return 'ignored';
    if (knownSchema === undefined && this.idsByText.has(record.schema)) return 'ignored';

    this.schemasById.set(id, schema);
    if (!this.idsByCanonical.has(schema)) this.idsByCanonical.set(schema, id);
    if (!this.idsByText.has(record.schema)) this.idsByText.set(record.schema, id);
    this.highestId = Math.max(this.highestId, id);
    this.uses.set(id, (this.uses.get(id) ?? 0) + 1);
    this.highestVersion.set(subject, version);
    const entry: SchemaVersion = { subject, version, id, schema, deleted: record.deleted };
    if (record.agency !== undefined) entry.agency = record.agency;
    if (versions) versions.set(version, entry);
    else this.subjects.set(subject, new Map([[version, entry]]));
    return 'applied';
  }

  private applyTombstone(subject: string, version: number): ApplyOutcome {
    const versions = this.subjects.get(subject);
    const target = versions?.get(version);
    if (!versions || !target?.deleted) return 'ignored';
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    this.uses.set(target.id, (this.uses.get(target.id) ?? 1) - 1);
    return 'applied';
  }

  /**
   * Subjects with at least one version, sorted: live ones (with a version not soft-deleted), and
   * soft-deleted ones too when asked, or only those.
   */
  subjectNames(filter: LookupFilter = 'live'): string[] {
    return [...this.subjects]
      .filter(([, versions]) => {
        const live = [...versions.values()].some((v) => !v.deleted);
        return filter === 'all' || (filter === 'live') === live;
      })
      .map(([subject]) => subject)
      .sort();
  }

  /** A subject's versions, oldest first: live ones, with soft-deleted ones, or those only. */
  versions(subject: string, filter: LookupFilter = 'live'): SchemaVersion[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()]
      .filter((v) => filter === 'all' || (filter === 'live') === !v.deleted)
      .sort((a, b) => a.version - b.version);
  }

  /** Every version of every subject, subjects sorted, versions oldest first. */
  allVersions(filter: LookupFilter = 'live'): SchemaVersion[] {
    return [...this.subjects.keys()].sort().flatMap((subject) => this.versions(subject, filter));
  }

  hasSubject(subject: string): boolean {
    return this.subjects.has(subject);
  }

  /** Schema `id` in canonical form, while some version (soft-deleted or not) still uses it. */
  schemaById(id: number): string | undefined {
    return (this.uses.get(id) ?? 0) > 0 ? this.schemasById.get(id) : undefined;
  }

  /** The highest id given so far. */
  maxId(): number {
    return this.highestId;
  }

  /** The id and version the next registration of `schema`, in canonical form, would claim. */
  nextClaim(subject: string, schema: string): { id: number; version: number } {
    return {
      id: this.idsByCanonical.get(schema) ?? this.highestId + 1,
      version: (this.highestVersion.get(subject) ?? 0) + 1,
    };
  }

  subjectLevel(subject: string): CompatibilityLevel | undefined {
    return this.subjectLevels.get(subject);
  }

  /** Every subject and version that uses schema `id`, subjects sorted. */
  usesOf(id: number, filter: LookupFilter = 'live'): { subject: string; version: number }[] {
    return this.allVersions(filter)
      .filter((v) => v.id === id)
      .map(({ subject, version }) => ({ subject, version }));
  }
}

/** A schema text in canonical form; a text that is not an Avro schema's JSON stays as it is. */
function canonicalText(text: string): string {
  try {
    return canonicalAvroSchema(JSON.parse(text));
  } catch {
    return text;
  }
}
