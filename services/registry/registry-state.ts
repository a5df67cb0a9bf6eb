import { type CompatibilityLevel, isCompatibilityLevel } from './compatibility';

/** One registered version of a subject, as the log records it. */
export interface SchemaVersion {
  subject: string;
  version: number;
  id: number;
  /** The schema in canonical form: parsed and printed again as compact JSON. */
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
  private readonly schemasById = new Map<number, string>();
  private readonly idsBySchema = new Map<string, number>();
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private highestId = 0;
  globalLevel: CompatibilityLevel | undefined;

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
    const { subject, version, id, schema } = record;
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
    if (knownSchema === undefined && this.idsBySchema.has(schema)) return 'ignored';

    this.schemasById.set(id, schema);
    this.idsBySchema.set(schema, id);
    this.highestId = Math.max(this.highestId, id);
    this.highestVersion.set(subject, version);
    const entry: SchemaVersion = { subject, version, id, schema, deleted: record.deleted };
    if (record.agency !== undefined) entry.agency = record.agency;
    if (versions) versions.set(version, entry);
    else this.subjects.set(subject, new Map([[version, entry]]));
    return 'applied';
  }

  private applyTombstone(subject: string, version: number): ApplyOutcome {
    const versions = this.subjects.get(subject);
    if (!versions?.get(version)?.deleted) return 'ignored';
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    return 'applied';
  }

  /** Subjects with at least one version; soft-deleted ones only when asked. */
  subjectNames(includeDeleted = false): string[] {
    return [...this.subjects]
      .filter(([, versions]) => includeDeleted || [...versions.values()].some((v) => !v.deleted))
      .map(([subject]) => subject)
      .sort();
  }

  /** A subject's versions, oldest first; soft-deleted ones only when asked. */
  versions(subject: string, includeDeleted = false): SchemaVersion[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()]
      .filter((v) => includeDeleted || !v.deleted)
      .sort((a, b) => a.version - b.version);
  }

  hasSubject(subject: string): boolean {
    return this.subjects.has(subject);
  }

  schemaById(id: number): string | undefined {
    return this.schemasById.get(id);
  }

  idOfSchema(schema: string): number | undefined {
    return this.idsBySchema.get(schema);
  }

  /** The id and version the next registration would claim. */
  nextClaim(subject: string, schema: string): { id: number; version: number } {
    return {
      id: this.idsBySchema.get(schema) ?? this.highestId + 1,
      version: (this.highestVersion.get(subject) ?? 0) + 1,
    };
  }

  subjectLevel(subject: string): CompatibilityLevel | undefined {
    return this.subjectLevels.get(subject);
  }

  /** Every subject and version that uses schema `id`. */
  usesOf(id: number): { subject: string; version: number }[] {
    const uses: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.subjects) {
      for (const v of versions.values())
        if (v.id === id && !v.deleted) uses.push({ subject, version: v.version });
    }
    return uses;
  }
}
