import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { type Exposure } from './exposures';

/** What happened to a request, as the audit keeps it. */
export const AUDIT_RESULTS = ['allowed', 'denied', 'invalid', 'unauthenticated', 'failed'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/** Who asked: the verified token's subject, agency and role; null when no token was verified. */
export interface AuditActor {
  id: string;
  agency: string | null;
  role: string;
}

/**
 * An event an answer's section was built from, by its place in Kafka and its id: what a replay
 * reads to rebuild the section.
 * - `section`: the event the section is stamped with, the last that changed it;
 * - `filled`: an older version of the section's record that filled fields late;
 * - `derived`: the source of a section a served derived value was computed from (a dossier's
 *   timeline, for `onTime`), though the section itself was not served.
 */
export interface AnswerEvent {
  /** The section's path in the view document, such as `vehicles.30K-456%2E78`. */
  path: string;
  role: 'section' | 'filled' | 'derived';
  /** The agency that owns the topic, which names the contract the event is decoded with. */
  agency: string;
  topic: string;
  partition: number;
  offset: string;
  eventId: string;
}

/**
 * A delivery under a sharing agreement, as the trail keeps it: the consumer agency's system
 * received the derived event `eventId` of the source event `sourceEventId`, under the agreement's
 * version (the SHA-256 of its canonical JSON), for its purpose. The record's `actor` is the
 * consumer's system, `sources` the source agency, `fields` and `masks` what the agreement let go out.
 */
export interface AuditFlow {
  agreementId: string;
  agreementVersion: string;
  purpose: string;
  legalBasis: string;
  /** The source contract, such as `business-registration`. */
  topic: string;
  eventType: string;
  /** The derived eventId: the idempotency key every channel delivers the event under. */
  eventId: string;
  sourceEventId: string;
}

/** The actor role of an agency system that receives deliveries under a sharing agreement. */
export const AGENCY_SYSTEM_ROLE = 'agency-system';

/** One request as the audit records it, before it is chained. */
export interface AuditEntry {
  /** The route pattern asked, such as `GET /v1/citizens/:id`; never the URL, which holds ids. */
  action: string;
  actor: AuditActor | null;
  subject: { view: string; id: string } | null;
  dossierId: string | null;
  procedureCode: string | null;
  /** The fields returned, as `view.section.field`; empty when nothing was returned. */
  fields: string[];
  /** The agencies whose data was returned. */
  sources: string[];
  /** How each returned field was shown (`clear`, `last4`, `year`), in the order of `fields`. */
  masks: { field: string; mask: string }[];
  /**
   * Each citizen the answer showed, whatever the view, with the full id even where it was masked:
   * the subject, a vehicle's owner, an enterprise's representative, a dossier's applicant, or any
   * id a lineage answer held. Empty when nothing was returned. Absent from records written before
   * it was recorded: the hash covers the fields a record has, so those still verify.
   */
  exposures?: Exposure[];
  /**
   * The citizens the record concerns, sorted: those in `exposures`, and the citizen looked up even
   * when refused. The access log's indexed field; absent from older records, like `exposures`.
   */
  citizenIds?: string[];
  /**
   * The SHA-256, hex, of the body's bytes as answered: what a reconstruction must give again. The
   * body itself is never kept. Absent from older records and from answers without a body.
   */
  answerDigest?: string;
  /** The events the sections of a lookup's answer were built from; absent from other records. */
  answerEvents?: AnswerEvent[];
  /** A delivery's agreement and event; absent from the records of requests. */
  flow?: AuditFlow;
  /**
   * An operator's redrive of a webhook subscription's dead letters: the derived events sent
   * again, or, with `dryRun`, only planned. Absent from other records.
   */
  redrive?: {
    subscriptionId: string;
    agreementId: string;
    eventIds: string[];
    held: string[];
    dryRun: boolean;
  };
  /**
   * The field policy file the answer was cut by: the SHA-256 of its bytes, hex; for a delivery,
   * the agreement's version.
   */
  policyVersion: string;
  result: AuditResult;
  /** The problem code of a refusal or failure, null when allowed. */
  reason: string | null;
  /** The HTTP status answered. */
  status: number;
  traceId: string | null;
}

/** An audit entry in the chain. `_id` is `seq` zero-padded, so records sort by it as strings. */
export interface AuditRecord extends AuditEntry {
  _id: string;
  seq: number;
  at: Date;
  prevHash: string;
  hash: string;
}

/** A signed statement that the chain held `seq` records ending in `hash` at `at`. */
export interface AuditSeal {
  _id: string;
  seq: number;
  hash: string;
  at: Date;
  keyId: string;
  /** Ed25519 over the canonical `{ seq, hash, at }`, base64. */
  signature: string;
}

/** The SHA-256 of a text's UTF-8 bytes, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The hash before the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The `_id` of record `seq`: 15 digits, so that string order is number order. */
export function auditId(seq: number): string {
  return String(seq).padStart(15, '0');
}

/**
 * JSON with object keys sorted at every level and dates as ISO strings: the bytes that are
 * hashed and signed, identical whichever order a store returns fields in.
 */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) return objectJson(canonicalValues(value));
  return JSON.stringify(value);
}

/** An object's defined members, each value as canonical JSON, by key. */
function canonicalValues(value: object): Map<string, string> {
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(value)) if (v !== undefined) values.set(k, canonicalJson(v));
  return values;
}

/** The object of these members, keys sorted (by UTF-16 code units, as `<` compares them). */
function objectJson(values: ReadonlyMap<string, string>): string {
  const keys = [...values.keys()].sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${values.get(k) as string}`).join(',')}}`;
}

/** The fields of a record that its hash covers: all but the hash itself and the store's `_id`. */
function hashed(record: Omit<AuditRecord, 'hash' | '_id'> & { hash?: string; _id?: string }): unknown {
  const { hash: _hash, _id, ...rest } = record;
  return rest;
}

/** SHA-256, hex, of the record's canonical form, which includes the previous record's hash. */
export function recordHash(
  record: Omit<AuditRecord, 'hash' | '_id'> & { hash?: string; _id?: string },
): string {
  return createHash('sha256')
    .update(canonicalJson(hashed(record)))
    .digest('hex');
}

/** The canonical JSON of each record chained by this process, so that it is built once. */
const canonicalText = new WeakMap<AuditRecord, string>();

/** Chains `entry` after the record `seq - 1` whose hash is `prevHash`. */
export function chain(entry: AuditEntry, seq: number, prevHash: string, at: Date): AuditRecord {
  const fields = { ...entry, seq, at, prevHash };
  // The values' canonical JSON, built once for the hash and again used for the whole record's.
  const values = canonicalValues(hashed(fields) as object);
  const hash = createHash('sha256').update(objectJson(values)).digest('hex');
  const record = { _id: auditId(seq), ...fields, hash };
  values.set('_id', JSON.stringify(record._id)).set('hash', JSON.stringify(hash));
  canonicalText.set(record, objectJson(values));
  return record;
}

/**
 * The canonical JSON of a record, `canonicalJson(record)`: built already when this process
 * chained the record, as the Kafka relay sends it right after.
 */
export function recordJson(record: AuditRecord): string {
  return canonicalText.get(record) ?? canonicalJson(record);
}

/** A short, stable name of a public key: the first 16 hex digits of the SHA-256 of its DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Signs the head `{ seq, hash, at }` with an Ed25519 private key. */
export function sealHead(
  head: { seq: number; hash: string; at: Date },
  privateKey: KeyObject,
  publicKey: KeyObject,
): AuditSeal {
  const signature = sign(null, Buffer.from(canonicalJson(head)), privateKey).toString('base64');
  return { _id: auditId(head.seq), ...head, keyId: keyIdOf(publicKey), signature };
}

/** Whether a seal's signature is good for one of `publicKeys`, by key id. */
export function sealValid(seal: AuditSeal, publicKeys: ReadonlyMap<string, KeyObject>): boolean {
  const key = publicKeys.get(seal.keyId);
  if (!key) return false;
  const head = { seq: seal.seq, hash: seal.hash, at: seal.at };
  try {
    return verify(null, Buffer.from(canonicalJson(head)), key, Buffer.from(seal.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * What verification found wrong at a position:
 * - `edited`: the record's content no longer matches its hash;
 * - `missing`: no record holds this sequence number (deleted);
 * - `reordered`: the record stored at this position is another position's record, or its link to
 *   the previous record is broken while its own content is intact;
 * - `truncated`: records up to a sealed or known head are gone from the end;
 * - `seal-invalid`: a seal's signature is bad, or it disagrees with the record it seals.
 */
export type Breach = {
  seq: number;
  kind: 'edited' | 'missing' | 'reordered' | 'truncated' | 'seal-invalid';
  detail: string;
};

export interface VerifyReport {
  ok: boolean;
  /** Where the walk began: 1 for a full check, else the last seal an earlier check verified. */
  fromSeq: number;
  /** Records read. */
  checked: number;
  /** The last sequence number found. */
  lastSeq: number;
  /** The highest sequence number a valid seal vouches for. */
  sealedSeq: number;
  breaches: Breach[];
  /** The comparison with the Kafka copy; absent when the trail is not copied to Kafka. */
  copy?: CopyComparison;
}

/** How many breaches a report lists before it stops counting. */
const MAX_BREACHES = 100;

/**
 * Walks the chain in `_id` order and reports every breach with its position. Each record is
 * checked on its own (its hash) and against the one before (its position and `prevHash`), so one
 * edit is named once, a deletion is named at the gap, and a swap is named at both places.
 * Truncation is found against the highest valid seal and against `knownHead`, the head the
 * running service holds in memory.
 *
 * With `from`, a seal that an earlier walk verified, the walk is incremental: `records` and
 * `seals` begin at `from.seq`, whose record must still hold the sealed hash; the records before it
 * are not read, so an edit there is found only by a full walk.
 */
export async function verifyChain(
  records: AsyncIterable<AuditRecord>,
  seals: readonly AuditSeal[],
  publicKeys: ReadonlyMap<string, KeyObject>,
  knownHead?: { seq: number; hash: string },
  from?: { seq: number; hash: string },
): Promise<VerifyReport> {
  const breaches: Breach[] = [];
  const report = (breach: Breach): void => {
    if (breaches.length < MAX_BREACHES) breaches.push(breach);
  };
  const hashAt = new Map<number, string>();
  const wanted = new Set(seals.map((s) => s.seq));
  if (knownHead) wanted.add(knownHead.seq);
  const fromSeq = from?.seq ?? 1;
  let expected = fromSeq;
  // Unknown before the anchor: its own link was checked by the walk that verified it.
  let prevHash: string | null = from ? null : GENESIS_HASH;
  let checked = 0;
  let lastSeq = fromSeq - 1;
  // Whether the record before sat in its own place, intact: only then is the link to it checked,
  // so that one swap or one edit is not reported again at its neighbour.
  let previousInPlace = true;
  for await (const record of records) {
    checked += 1;
    const position = Number(record._id);
    const afterGap = position > expected;
    for (; expected < position; expected += 1) {
      report({ seq: expected, kind: 'missing', detail: `No record ${expected}` });
    }
    const intact = recordHash(record) === record.hash;
    if (!intact) {
      report({ seq: position, kind: 'edited', detail: `Record ${position} does not match its hash` });
    } else if (record.seq !== position) {
      report({
        seq: position,
        kind: 'reordered',
        detail: `Position ${position} holds record ${record.seq}`,
      });
    } else if (from && position === from.seq && record.hash !== from.hash) {
      report({ seq: position, kind: 'edited', detail: `Record ${position} differs from its verified seal` });
    } else if (prevHash !== null && record.prevHash !== prevHash && !afterGap && previousInPlace) {
      // Both records are intact on their own: one of them was rewritten with a fresh hash, or moved.
      report({
        seq: position,
        kind: 'reordered',
        detail: `Record ${position} does not follow the record stored before it`,
      });
    }
    previousInPlace = intact && record.seq === position;
    if (wanted.has(position)) hashAt.set(position, record.hash);
    prevHash = record.hash;
    expected = position + 1;
    lastSeq = position;
  }
  let sealedSeq = 0;
  for (const seal of seals) {
    if (!sealValid(seal, publicKeys)) {
      report({ seq: seal.seq, kind: 'seal-invalid', detail: sealFault(seal, publicKeys) });
      continue;
    }
    sealedSeq = Math.max(sealedSeq, seal.seq);
    const found = hashAt.get(seal.seq);
    if (seal.seq > lastSeq) continue;
    if (found !== undefined && found !== seal.hash) {
      report({
        seq: seal.seq,
        kind: 'seal-invalid',
        detail: `Record ${seal.seq} differs from the record sealed at that position`,
      });
    }
  }
  const head = Math.max(sealedSeq, knownHead?.seq ?? 0);
  if (head > lastSeq) {
    report({
      seq: lastSeq + 1,
      kind: 'truncated',
      detail: `Records ${lastSeq + 1} to ${head} are gone from the end`,
    });
  } else if (knownHead && hashAt.has(knownHead.seq) && hashAt.get(knownHead.seq) !== knownHead.hash) {
    report({
      seq: knownHead.seq,
      kind: 'edited',
      detail: `Record ${knownHead.seq} differs from the head this service wrote`,
    });
  }
  breaches.sort((a, b) => a.seq - b.seq);
  return { ok: breaches.length === 0, fromSeq, checked, lastSeq, sealedSeq, breaches };
}

/** The trail as a reader of its Kafka copy finds it: what was copied there, which the store cannot unwrite. */
export interface AuditCopy {
  /** Each copied record's hash, by sequence number; the first copy wins where one was sent twice. */
  hashes: ReadonlyMap<number, string>;
  seals: readonly AuditSeal[];
}

/** What the comparison with the Kafka copy saw, beside the store's own report. */
export interface CopyComparison {
  /** Whether the copy could be read; when not, the store was checked on its own. */
  compared: boolean;
  /** The last sequence number the copy holds. */
  lastSeq: number;
  /** The highest sequence number a valid seal in the copy vouches for. */
  sealedSeq: number;
}

/**
 * Holds the store's verified chain against its Kafka copy, the anchor outside the store: whoever
 * deletes the tail of the store together with its seals, and restarts the service so that its head
 * is reloaded from the store, still cannot take back what the topic holds. Reports:
 * - `truncated` where the copy or a valid seal in it goes beyond the store's last record;
 * - `edited` at the first position where the store holds another record than the copy (the chain
 *   links every later record to it, so later positions are not named again);
 * - `seal-invalid` for a copied seal whose signature is bad or whose key is not trusted, that the
 *   store no longer holds, or that disagrees with the record stored at its position.
 *
 * `stored` holds the hash of each record the store walk read, by position.
 */
export function compareWithCopy(
  report: VerifyReport,
  stored: ReadonlyMap<number, string>,
  storedSeals: readonly AuditSeal[],
  copy: AuditCopy,
  publicKeys: ReadonlyMap<string, KeyObject>,
): VerifyReport {
  const breaches = [...report.breaches];
  const named = new Set(breaches.map((b) => `${b.kind}@${b.seq}`));
  const note = (breach: Breach): void => {
    const key = `${breach.kind}@${breach.seq}`;
    if (named.has(key) || breaches.length >= MAX_BREACHES) return;
    named.add(key);
    breaches.push(breach);
  };
  const storedSealAt = new Map(storedSeals.map((s) => [s.seq, s]));
  let copyHead = 0;
  for (const seq of copy.hashes.keys()) copyHead = Math.max(copyHead, seq);
  let sealedSeq = 0;
  for (const seal of copy.seals) {
    if (!sealValid(seal, publicKeys)) {
      note({ seq: seal.seq, kind: 'seal-invalid', detail: sealFault(seal, publicKeys, 'in the Kafka copy') });
      continue;
    }
    sealedSeq = Math.max(sealedSeq, seal.seq);
    if (storedSealAt.get(seal.seq)?.signature !== seal.signature) {
      note({
        seq: seal.seq,
        kind: 'seal-invalid',
        detail: `The seal at ${seal.seq} in the Kafka copy is not in the store`,
      });
    }
    const found = stored.get(seal.seq);
    if (found !== undefined && found !== seal.hash) {
      note({
        seq: seal.seq,
        kind: 'seal-invalid',
        detail: `Record ${seal.seq} differs from the record sealed at that position in the Kafka copy`,
      });
    }
  }
  // The first position where the store parts from the copy; a position the store walk already
  // named as missing is not a parting.
  let parted: number | undefined;
  for (const [seq, hash] of [...copy.hashes].sort(([a], [b]) => a - b)) {
    const found = stored.get(seq);
    if ((found !== undefined && found !== hash) || (found === undefined && seq > report.lastSeq)) {
      parted = seq;
      break;
    }
  }
  if (parted !== undefined && parted <= report.lastSeq) {
    note({
      seq: parted,
      kind: 'edited',
      detail: `From record ${parted} on, the store holds other records than its Kafka copy`,
    });
  }
  const head = Math.max(copyHead, sealedSeq);
  if (head > report.lastSeq && !breaches.some((b) => b.kind === 'truncated')) {
    note({
      seq: report.lastSeq + 1,
      kind: 'truncated',
      detail: `Records ${report.lastSeq + 1} to ${head} are in the Kafka copy but gone from the store`,
    });
  }
  breaches.sort((a, b) => a.seq - b.seq);
  return {
    ...report,
    ok: breaches.length === 0,
    sealedSeq: Math.max(report.sealedSeq, sealedSeq),
    breaches,
    copy: { compared: true, lastSeq: copyHead, sealedSeq },
  };
}

/** Why a seal does not verify: a key not in the trusted list, or a bad signature. */
export function sealFault(seal: AuditSeal, publicKeys: ReadonlyMap<string, KeyObject>, where = ''): string {
  const at = where ? `The seal at ${seal.seq} ${where}` : `The seal at ${seal.seq}`;
  return publicKeys.has(seal.keyId)
    ? `${at} has a bad signature`
    : `${at} is signed by key ${seal.keyId}, which is not trusted`;
}
