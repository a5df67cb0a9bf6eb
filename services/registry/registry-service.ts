import avro from 'avsc';
import { type CompatibilityLevel, checkCompatibility } from './compatibility';
import { type Principal } from '../platform/credentials';
import { type FieldIssue, RegistryError } from './registry-errors';
import { type LogKey, type LogValue, type RegistryState, type SchemaVersion } from './registry-state';

/** What the service needs from the log: {@link SchemaLog} in production, the same in tests. */
export interface RegistryLog {
  append(key: LogKey, value: LogValue): Promise<'applied' | 'ignored'>;
  catchUp(): Promise<void>;
}

export interface RegistryServiceOptions {
  state: RegistryState;
  log: RegistryLog;
  /** Subjects whose owner is fixed by the contract, e.g. `tax-value` → `HN-CUCTHUE`. */
  declaredOwners: ReadonlyMap<string, string>;
  /** The level when neither the subject nor the registry has one: Confluent's default. */
  defaultLevel?: CompatibilityLevel;
}

export type VersionRef = number | 'latest';

/** A losing writer retries this often before giving up; each loss means another write won. */
const MAX_CLAIM_ATTEMPTS = 5;

/**
 * The registry's rules, free of HTTP: what may be registered, by whom, under which
 * compatibility level. Reads come from the in-memory state; a read that finds nothing first
 * catches up with the log, so that what another instance just wrote is found too.
 */
export class RegistryService {
  private readonly state: RegistryState;
  private readonly log: RegistryLog;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RegistryServiceOptions) {
    this.state = options.state;
    this.log = options.log;
  }

  /**
   * Registers `schemaText` under `subject`. An identical schema already registered there
   * returns its id again, so a producer can register at every start.
   */
  register(
    subject: string,
    schemaText: string,
    principal: Principal,
  ): Promise<{ id: number; version: number }> {
    return this.serialized(async () => {
      const parsed = parseSchema(schemaText);
      for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt += 1) {
        await this.log.catchUp();
        this.assertMayWrite(principal, subject);
        const same = this.state.versions(subject).find((v) => v.schema === parsed.canonical);
        if (same) return { id: same.id, version: same.version };

        const level = this.levelOf(subject);
        const existing = this.state.versions(subject);
        const verdict = checkCompatibility(
          level,
          parsed.json,
          existing.map((v) => JSON.parse(v.schema) as unknown),
        );
        if (!verdict.compatible) {
          const against = existing[verdict.comparedWith ?? existing.length - 1];
          throw new RegistryError(
            'INCOMPATIBLE_SCHEMA',
            `Schema being registered is incompatible with an earlier schema for subject "${subject}" ` +
              `(version ${against?.version ?? '?'}, ${level}): ` +
              verdict.issues.map((issue) => issue.description).join('; '),
            { issues: verdict.issues.map((issue) => ({ path: issue.path, message: issue.description })) },
          );
        }
        const { id, version } = this.state.nextClaim(subject, parsed.canonical);
        const record: SchemaVersion = { subject, version, id, schema: parsed.canonical, deleted: false };
        if (principal.agency) record.agency = principal.agency;
        const outcome = await this.log.append({ keytype: 'SCHEMA', subject, version, magic: 1 }, record);
        if (outcome === 'applied') return { id, version };
      }
      throw new RegistryError(
        'STORE_TIMEOUT',
        `Could not claim a version for "${subject}": other writers kept winning`,
      );
    });
  }

  /** The registered version of `subject` whose schema equals `schemaText`. */
  async lookup(subject: string, schemaText: string, includeDeleted = false): Promise<SchemaVersion> {
    const { canonical } = parseSchema(schemaText);
    const find = () => this.state.versions(subject, includeDeleted).find((v) => v.schema === canonical);
    const found = find() ?? (await this.afterCatchUp(find));
    if (found) return found;
    if (!this.state.hasSubject(subject)) throw subjectNotFound(subject);
    throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
  }

  async schemaById(id: number): Promise<string> {
    const find = () => this.state.schemaById(id);
    const schema = find() ?? (await this.afterCatchUp(find));
    if (schema === undefined) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema ${id} not found`);
    return schema;
  }

  subjectsOfSchema(id: number): { subject: string; version: number }[] {
    return this.state.usesOf(id);
  }

  async subjects(includeDeleted = false): Promise<string[]> {
    await this.log.catchUp();
    return this.state.subjectNames(includeDeleted);
  }

  async versions(subject: string, includeDeleted = false): Promise<number[]> {
    const versions = await this.subjectVersions(subject, includeDeleted);
    return versions.map((v) => v.version);
  }

  async version(subject: string, ref: VersionRef, includeDeleted = false): Promise<SchemaVersion> {
    const versions = await this.subjectVersions(subject, includeDeleted);
    const found = ref === 'latest' ? versions.at(-1) : versions.find((v) => v.version === ref);
    if (!found)
      throw new RegistryError('VERSION_NOT_FOUND', `Version ${ref} of subject "${subject}" not found`);
    return found;
  }

  /** Soft-deletes a version, or removes a soft-deleted one for good when `permanent`. */
  deleteVersion(subject: string, ref: VersionRef, permanent: boolean, principal: Principal): Promise<number> {
    return this.serialized(async () => {
      await this.log.catchUp();
      this.assertMayWrite(principal, subject);
      const target = await this.version(subject, ref, permanent);
      await this.writeDeletion(target, permanent);
      return target.version;
    });
  }

  deleteSubject(subject: string, permanent: boolean, principal: Principal): Promise<number[]> {
    return this.serialized(async () => {
      await this.log.catchUp();
      this.assertMayWrite(principal, subject);
      const all = await this.subjectVersions(subject, true);
      if (permanent && all.some((v) => !v.deleted)) {
        throw new RegistryError(
          'SUBJECT_NOT_SOFT_DELETED',
          `Subject "${subject}" must be soft deleted before it is permanently deleted`,
        );
      }
      if (!permanent && all.every((v) => v.deleted)) {
        throw new RegistryError('SUBJECT_SOFT_DELETED', `Subject "${subject}" was soft deleted`);
      }
      const targets = permanent ? all : all.filter((v) => !v.deleted);
      for (const target of targets) await this.writeDeletion(target, permanent);
      return targets.map((v) => v.version);
    });
  }

  /** The subject's own level, the registry's when `subject` is null or when asked to fall back. */
  async config(subject: string | null, defaultToGlobal = false): Promise<CompatibilityLevel> {
    await this.log.catchUp();
    if (subject === null) return this.globalLevel();
    const own = this.state.subjectLevel(subject);
    if (own) return own;
    if (defaultToGlobal) return this.globalLevel();
    throw new RegistryError(
      'SUBJECT_CONFIG_NOT_FOUND',
      `Subject "${subject}" does not have subject-level compatibility configured`,
    );
  }

  setConfig(
    subject: string | null,
    level: CompatibilityLevel,
    principal: Principal,
  ): Promise<CompatibilityLevel> {
    return this.serialized(async () => {
      await this.log.catchUp();
      if (subject === null) this.assertOperator(principal);
      else this.assertMayWrite(principal, subject);
      await this.log.append({ keytype: 'CONFIG', subject, magic: 0 }, { compatibilityLevel: level });
      return level;
    });
  }

  deleteConfig(subject: string, principal: Principal): Promise<CompatibilityLevel> {
    return this.serialized(async () => {
      const previous = await this.config(subject);
      this.assertMayWrite(principal, subject);
      await this.log.append({ keytype: 'CONFIG', subject, magic: 0 }, null);
      return previous;
    });
  }

  /**
   * Whether `schemaText` could be registered as a successor of version `ref`, under the
   * subject's level; the level's transitive forms compare with every version.
   */
  async testCompatibility(
    subject: string,
    ref: VersionRef,
    schemaText: string,
  ): Promise<{ compatible: boolean; issues: FieldIssue[] }> {
    const parsed = parseSchema(schemaText);
    const versions = await this.subjectVersions(subject, false).catch((error: unknown) => {
      // Confluent answers "compatible" for a subject with nothing registered yet.
      if (error instanceof RegistryError && error.registryCode === 'SUBJECT_NOT_FOUND' && ref === 'latest')
        return [];
      throw error;
    });
    const level = this.levelOf(subject);
    const target = ref === 'latest' ? versions.at(-1) : versions.find((v) => v.version === ref);
    if (versions.length > 0 && !target) {
      throw new RegistryError('VERSION_NOT_FOUND', `Version ${ref} of subject "${subject}" not found`);
    }
    const transitive = level.endsWith('_TRANSITIVE');
    const against = target
      ? transitive
        ? versions.filter((v) => v.version <= target.version)
        : [target]
      : [];
    const verdict = checkCompatibility(
      level,
      parsed.json,
      against.map((v) => JSON.parse(v.schema) as unknown),
    );
    return {
      compatible: verdict.compatible,
      issues: verdict.issues.map((issue) => ({ path: issue.path, message: issue.description })),
    };
  }

  private async writeDeletion(target: SchemaVersion, permanent: boolean): Promise<void> {
    const key: LogKey = { keytype: 'SCHEMA', subject: target.subject, version: target.version, magic: 1 };
    if (permanent) {
      await this.log.append(key, null);
    } else {
      await this.log.append(key, { ...target, deleted: true });
    }
  }

  private async subjectVersions(subject: string, includeDeleted: boolean): Promise<SchemaVersion[]> {
    const find = () => {
      const versions = this.state.versions(subject, includeDeleted);
      return versions.length > 0 ? versions : undefined;
    };
    const versions = find() ?? (await this.afterCatchUp(find));
    if (versions) return versions;
    if (this.state.hasSubject(subject))
      throw new RegistryError('SUBJECT_SOFT_DELETED', `Subject "${subject}" was soft deleted`);
    throw subjectNotFound(subject);
  }

  private levelOf(subject: string): CompatibilityLevel {
    return this.state.subjectLevel(subject) ?? this.globalLevel();
  }

  private globalLevel(): CompatibilityLevel {
    return this.state.globalLevel ?? this.options.defaultLevel ?? 'BACKWARD';
  }

  /** The subject's owner: declared by the contract, else the agency that registered its first version. */
  ownerOf(subject: string): string | undefined {
    return this.options.declaredOwners.get(subject) ?? this.state.versions(subject, true)[0]?.agency;
  }

  private assertMayWrite(principal: Principal, subject: string): void {
    if (principal.role === 'operator') return;
    const owner = this.ownerOf(subject);
    if (principal.role === 'agency' && (owner === undefined || owner === principal.agency)) return;
    throw new RegistryError(
      'FORBIDDEN',
      owner
        ? `Subject "${subject}" belongs to agency ${owner}; ${principal.clientId} may only read it`
        : `${principal.clientId} may only read`,
    );
  }

  private assertOperator(principal: Principal): void {
    if (principal.role !== 'operator') {
      throw new RegistryError(
        'FORBIDDEN',
        'Only an operator may change the registry-wide compatibility level',
      );
    }
  }

  private async afterCatchUp<T>(find: () => T | undefined): Promise<T | undefined> {
    await this.log.catchUp();
    return find();
  }

  /** One write at a time per instance; across instances the log settles races. */
  private serialized<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writes.then(write, write);
    this.writes = result.catch(() => undefined);
    return result;
  }
}

function subjectNotFound(subject: string): RegistryError {
  return new RegistryError('SUBJECT_NOT_FOUND', `Subject "${subject}" not found`);
}

/**
 * Parses and checks an Avro schema. Its canonical form, compact JSON, is what identity is
 * decided on: the same schema sent with other white space gets the same id.
 */
export function parseSchema(text: string): { canonical: string; json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: ${(error as Error).message}`, {
      issues: [{ path: 'body.schema', message: (error as Error).message }],
    });
  }
  try {
    avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: ${(error as Error).message}`, {
      issues: [{ path: 'body.schema', message: (error as Error).message }],
    });
  }
  return { canonical: JSON.stringify(json), json };
}
