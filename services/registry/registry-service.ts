import avro from 'avsc';
import { canonicalAvroSchema } from './avro-canonical';
import { type CompatibilityLevel, checkCompatibility } from './compatibility';
import { type Principal } from '../platform/credentials';
import { type FieldIssue, RegistryError } from './registry-errors';
import {
  type LogKey,
  type LogValue,
  type LookupFilter,
  type RegistryState,
  type SchemaVersion,
} from './registry-state';

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

/**
 * The body of a register, lookup or compatibility request, as Confluent's `RegisterSchemaRequest`.
 * Members this registry does not know are ignored, as Jackson ignores them there.
 */
export interface SchemaRequest {
  schema?: string | null;
  schemaType?: string | null;
  references?: readonly unknown[] | null;
  metadata?: Record<string, unknown> | null;
  ruleSet?: Record<string, unknown> | null;
  /** An id to register under: IMPORT mode only, so refused here. */
  id?: number | null;
  /** The version to register as: it must be the next one. */
  version?: number | null;
}

/** A compatibility check's target: one version, or every version the subject's level compares with. */
export type CompatibilityTarget = VersionRef | 'all';

/** A losing writer retries this often before giving up; each loss means another write won. */
const MAX_CLAIM_ATTEMPTS = 5;

/**
 * The registry's rules, free of HTTP: what may be registered, by whom, under which
 * compatibility level, and what each read answers, with Confluent's error codes in Confluent's
 * cases. Reads come from the in-memory state; a read that finds nothing first catches up with
 * the log, so that what another instance just wrote is found too.
 *
 * @see https://github.com/confluentinc/schema-registry/blob/master/core/src/main/java/io/confluent/kafka/schemaregistry/storage/KafkaSchemaRegistry.java
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
   * Registers a schema under `subject`. The same schema (in canonical form) already registered
   * there returns its version and id again, so a producer can register at every start; the same
   * schema registered under another subject keeps its id. A request with no schema re-registers
   * the latest one, as Confluent does.
   */
  register(subject: string, request: SchemaRequest, principal: Principal): Promise<SchemaVersion> {
    return this.serialized(async () => {
      assertSupported(request);
      if (request.id !== undefined && request.id !== null && request.id >= 0) {
        throw new RegistryError(
          'OPERATION_NOT_PERMITTED',
          `Subject ${subject} in context . is not in import mode`,
        );
      }
      for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt += 1) {
        await this.log.catchUp();
        this.assertMayWrite(principal, subject);
        const live = this.state.versions(subject);
        const text = request.schema?.trim() ? request.schema : live.at(-1)?.schema;
        if (text === undefined) throw invalidSchema('Empty schema');
        const parsed = parseSchema(text);
        const next = this.state.nextClaim(subject, parsed.canonical);
        if (request.version !== undefined && request.version !== null && request.version > 0) {
          if (request.version !== next.version)
            throw invalidSchema('Version is not one more than previous version');
        } else {
          const same = live.find((v) => v.schema === parsed.canonical);
          if (same) return same;
        }

        const level = this.levelOf(subject);
        const verdict = checkCompatibility(
          level,
          parsed.json,
          live.map((v) => JSON.parse(v.schema) as unknown),
        );
        if (!verdict.compatible) {
          const against = live[verdict.comparedWith ?? live.length - 1];
          throw new RegistryError(
            'INCOMPATIBLE_SCHEMA',
            `Schema being registered is incompatible with an earlier schema for subject "${subject}" ` +
              `(version ${against?.version ?? '?'}, ${level}): ` +
              verdict.issues.map((issue) => issue.description).join('; '),
            { issues: verdict.issues.map((issue) => ({ path: issue.path, message: issue.description })) },
          );
        }
        const record: SchemaVersion = { subject, ...next, schema: parsed.canonical, deleted: false };
        if (principal.agency) record.agency = principal.agency;
        const outcome = await this.log.append(
          { keytype: 'SCHEMA', subject, version: next.version, magic: 1 },
          record,
        );
        if (outcome !== 'applied') continue;
        // A soft-deleted version with the same id is superseded for good, as Confluent tombstones it.
        for (const old of this.state.versions(subject, 'deleted')) {
          if (old.id === next.id && old.version < next.version) await this.writeDeletion(old, true);
        }
        return record;
      }
      throw new RegistryError(
        'STORE_TIMEOUT',
        `Could not claim a version for "${subject}": other writers kept winning`,
      );
    });
  }

  /** The version of `subject` whose schema is `request.schema`, in canonical form. */
  async lookup(subject: string, request: SchemaRequest, includeDeleted = false): Promise<SchemaVersion> {
    assertSupported(request);
    const canonical = request.schema?.trim() ? parseSchema(request.schema).canonical : undefined;
    const filter: LookupFilter = includeDeleted ? 'all' : 'live';
    const find = () =>
      canonical === undefined
        ? undefined
        : this.state.versions(subject, filter).find((v) => v.schema === canonical);
    const found = find() ?? (await this.afterCatchUp(find));
    if (found) return found;
    if (this.state.versions(subject, filter).length === 0) throw subjectNotFound(subject);
    throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
  }

  /** Schema `id` in canonical form, while any version, even soft-deleted, uses it. */
  async schemaById(id: number): Promise<string> {
    const find = () => this.state.schemaById(id);
    const schema = find() ?? (await this.afterCatchUp(find));
    if (schema === undefined) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema ${id} not found`);
    return schema;
  }

  /** The highest id given so far, for `fetchMaxId`. */
  maxId(): number {
    return this.state.maxId();
  }

  /** The subjects and versions that use schema `id`; 40403 when no version ever did. */
  async versionsOfSchema(
    id: number,
    includeDeleted: boolean,
    subject?: string,
  ): Promise<{ subject: string; version: number }[]> {
    await this.schemaById(id);
    return this.state
      .usesOf(id, includeDeleted ? 'all' : 'live')
      .filter((use) => subject === undefined || use.subject === subject);
  }

  async subjects(filter: LookupFilter, prefix = ''): Promise<string[]> {
    await this.log.catchUp();
    return this.state.subjectNames(filter).filter((subject) => subject.startsWith(prefix));
  }

  /** Every version of the subjects with `prefix`, or each subject's latest only. */
  async schemas(prefix: string, includeDeleted: boolean, latestOnly: boolean): Promise<SchemaVersion[]> {
    await this.log.catchUp();
    const all = this.state
      .allVersions(includeDeleted ? 'all' : 'live')
      .filter((v) => v.subject.startsWith(prefix));
    return latestOnly ? all.filter((v, i) => all[i + 1]?.subject !== v.subject) : all;
  }

  /**
   * A subject's version numbers; 40401 when it has none to show. With `deletedAsNegative`, every
   * version, the soft-deleted ones as negative numbers.
   */
  async versions(subject: string, filter: LookupFilter, deletedAsNegative = false): Promise<number[]> {
    await this.subjectVersions(subject, filter === 'live' ? 'live' : 'all');
    if (deletedAsNegative) {
      return this.state.versions(subject, 'all').map((v) => (v.deleted ? -v.version : v.version));
    }
    return this.state.versions(subject, filter).map((v) => v.version);
  }

  /**
   * One version; `latest` is the newest live one, even when soft-deleted ones are asked for. A
   * subject with nothing to show is 40401, and a version it does not have (or has soft-deleted,
   * unless asked) is 40402.
   */
  async version(subject: string, ref: VersionRef, includeDeleted = false): Promise<SchemaVersion> {
    const versions = await this.subjectVersions(subject, includeDeleted ? 'all' : 'live');
    const found =
      ref === 'latest' ? versions.filter((v) => !v.deleted).at(-1) : versions.find((v) => v.version === ref);
    if (!found) throw versionNotFound(ref);
    return found;
  }

  /**
   * Soft-deletes a version, or removes a soft-deleted one for good when `permanent`.
   * Soft-deleting a soft-deleted version is 40406; removing a live one for good is 40407.
   */
  deleteVersion(subject: string, ref: VersionRef, permanent: boolean, principal: Principal): Promise<number> {
    return this.serialized(async () => {
      await this.log.catchUp();
      this.assertMayWrite(principal, subject);
      const all = this.state.versions(subject, 'all');
      if (all.length === 0) throw subjectNotFound(subject);
      const target =
        ref === 'latest'
          ? (permanent ? all : all.filter((v) => !v.deleted)).at(-1)
          : all.find((v) => v.version === ref);
      if (!target) throw versionNotFound(ref);
      if (!permanent && target.deleted) {
        throw new RegistryError(
          'VERSION_SOFT_DELETED',
          `Subject '${subject}' Version ${target.version} was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      if (permanent && !target.deleted) {
        throw new RegistryError(
          'VERSION_NOT_SOFT_DELETED',
          `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
        );
      }
      await this.writeDeletion(target, permanent);
      if (permanent && this.state.versions(subject, 'all').length === 0)
        await this.dropSubjectConfig(subject);
      return target.version;
    });
  }

  /**
   * Soft-deletes a subject's live versions, or removes all its versions (and its level) for good
   * when `permanent`, which needs every version soft-deleted first (else 40405).
   */
  deleteSubject(subject: string, permanent: boolean, principal: Principal): Promise<number[]> {
    return this.serialized(async () => {
      await this.log.catchUp();
      this.assertMayWrite(principal, subject);
      const all = this.state.versions(subject, 'all');
      if (all.length === 0) throw subjectNotFound(subject);
      if (!permanent && all.every((v) => v.deleted)) {
        throw new RegistryError(
          'SUBJECT_SOFT_DELETED',
          `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      if (permanent && all.some((v) => !v.deleted)) {
        throw new RegistryError(
          'SUBJECT_NOT_SOFT_DELETED',
          `Subject '${subject}' was not deleted first before being permanently deleted`,
        );
      }
      const targets = permanent ? [...all].reverse() : all.filter((v) => !v.deleted);
      for (const target of targets) await this.writeDeletion(target, permanent);
      if (permanent) await this.dropSubjectConfig(subject);
      return targets.map((v) => v.version).sort((a, b) => a - b);
    });
  }

  /**
   * A level: the subject's own, or the registry's when `subject` is null. A subject with no level
   * of its own is 40408, unless `defaultToGlobal` asks for the registry's instead.
   */
  async config(subject: string | null, defaultToGlobal = false): Promise<CompatibilityLevel> {
    await this.log.catchUp();
    if (subject === null) return this.globalLevel();
    const own = this.state.subjectLevel(subject);
    if (own) return own;
    if (defaultToGlobal) return this.globalLevel();
    throw new RegistryError(
      'SUBJECT_CONFIG_NOT_FOUND',
      `Subject '${subject}' does not have subject-level compatibility configured`,
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

  /**
   * Removes a subject's level (40401 when it has none, as Confluent answers), or the registry's
   * when `subject` is null; answers the level that was in force.
   */
  deleteConfig(subject: string | null, principal: Principal): Promise<CompatibilityLevel> {
    return this.serialized(async () => {
      await this.log.catchUp();
      if (subject === null) this.assertOperator(principal);
      else this.assertMayWrite(principal, subject);
      const previous = subject === null ? this.globalLevel() : this.state.subjectLevel(subject);
      if (previous === undefined) throw subjectNotFound(subject as string);
      await this.log.append({ keytype: 'CONFIG', subject, magic: 0 }, null);
      return previous;
    });
  }

  /**
   * Whether `request.schema` could be registered: against one version only (`latest` being the
   * newest live one), or with `all` against the versions the subject's level compares with. A
   * subject with no version is compatible with anything; a numbered version it lacks is 40402.
   * A schema that does not parse is 42201, or, when `verbose`, an incompatible verdict with the reason.
   */
  async testCompatibility(
    subject: string,
    target: CompatibilityTarget,
    request: SchemaRequest,
    verbose = false,
  ): Promise<{ compatible: boolean; messages: string[]; issues: FieldIssue[] }> {
    await this.log.catchUp();
    const live = this.state.versions(subject);
    const against =
      target === 'all'
        ? live
        : target === 'latest'
          ? live.slice(-1)
          : live.filter((v) => v.version === target);
    if (typeof target === 'number' && against.length === 0) throw versionNotFound(target);
    let parsed: { canonical: string; json: unknown };
    try {
      assertSupported(request);
      parsed = parseSchema(request.schema ?? '');
    } catch (error) {
      if (!verbose || !(error instanceof RegistryError)) throw error;
      return { compatible: false, messages: [error.message], issues: [...error.issues] };
    }
    const verdict = checkCompatibility(
      // One named version is compared with alone, whatever the level's transitivity.
      target === 'all' ? this.levelOf(subject) : nonTransitive(this.levelOf(subject)),
      parsed.json,
      against.map((v) => JSON.parse(v.schema) as unknown),
    );
    return {
      compatible: verdict.compatible,
      messages: verdict.issues.map((issue) => `${issue.path}: ${issue.description}`),
      issues: verdict.issues.map((issue) => ({ path: issue.path, message: issue.description })),
    };
  }

  private async writeDeletion(target: SchemaVersion, permanent: boolean): Promise<void> {
    const key: LogKey = { keytype: 'SCHEMA', subject: target.subject, version: target.version, magic: 1 };
    await this.log.append(key, permanent ? null : { ...target, deleted: true });
  }

  private async dropSubjectConfig(subject: string): Promise<void> {
    if (this.state.subjectLevel(subject) !== undefined) {
      await this.log.append({ keytype: 'CONFIG', subject, magic: 0 }, null);
    }
  }

  /** The subject's versions under `filter`; 40401 when there are none. */
  private async subjectVersions(subject: string, filter: LookupFilter): Promise<SchemaVersion[]> {
    const find = () => {
      const versions = this.state.versions(subject, filter);
      return versions.length > 0 ? versions : undefined;
    };
    const versions = find() ?? (await this.afterCatchUp(find));
    if (versions) return versions;
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
    return this.options.declaredOwners.get(subject) ?? this.state.versions(subject, 'all')[0]?.agency;
  }

  /** Whether `principal` may change `subject`: an operator, or the agency that owns it (or would). */
  assertMayWrite(principal: Principal, subject: string): void {
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

  /** Whether `principal` may change what applies to the whole registry. */
  assertOperator(principal: Principal): void {
    if (principal.role !== 'operator') {
      throw new RegistryError('FORBIDDEN', 'Only an operator may change registry-wide settings');
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
  return new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
}

function versionNotFound(ref: VersionRef): RegistryError {
  return new RegistryError('VERSION_NOT_FOUND', `Version ${ref === 'latest' ? -1 : ref} not found.`);
}

function invalidSchema(message: string, issuePath = 'body.schema'): RegistryError {
  return new RegistryError('INVALID_SCHEMA', message, { issues: [{ path: issuePath, message }] });
}

function nonTransitive(level: CompatibilityLevel): CompatibilityLevel {
  return level.replace('_TRANSITIVE', '') as CompatibilityLevel;
}

/** Whether `value` carries anything: not null, and not an empty object, list or string. */
export function isSet(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value).some(isSet);
  return true;
}

/**
 * Refuses what a request asks for that this registry cannot honour, rather than ignore it:
 * schema types other than Avro, references, metadata and rule sets. Empty or null values of
 * these, which clients send by default, are accepted.
 */
function assertSupported(request: SchemaRequest): void {
  const type = request.schemaType ?? 'AVRO';
  if (type.toUpperCase() !== 'AVRO') {
    throw invalidSchema(`Invalid schema type ${type}: this registry serves AVRO only`, 'body.schemaType');
  }
  if (isSet(request.references)) {
    throw invalidSchema('Schema references are not supported by this registry', 'body.references');
  }
  if (isSet(request.metadata)) {
    throw invalidSchema('Schema metadata is not supported by this registry', 'body.metadata');
  }
  if (isSet(request.ruleSet)) {
    throw new RegistryError('INVALID_RULESET', 'Rule sets are not supported by this registry', {
      issues: [{ path: 'body.ruleSet', message: 'rule sets are not supported' }],
    });
  }
}

/**
 * Parses and checks an Avro schema. Its canonical form, which Confluent's server compares and
 * returns, decides identity: the same schema sent with other white space or key order gets the
 * same id.
 */
export function parseSchema(text: string): { canonical: string; json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
    avro.Type.forSchema(json as avro.Schema);
    return { canonical: canonicalAvroSchema(json), json };
  } catch (error) {
    const message = (error as Error).message;
    throw invalidSchema(`Invalid schema: ${message}`);
  }
}
