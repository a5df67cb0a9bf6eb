/**
 * A scratch audit trail of any length, chained as the lookup service chains it, for the benchmarks
 * that need a large trail: `bench:audit` (the auditors' queries and `verify`) and `bench:lookup
 * --audit-records N` (the cost of a lookup over a long trail).
 */
import { type Db } from 'mongodb';
import { type AuditEntry, type AuditRecord, chain, GENESIS_HASH } from '../../services/lookup/audit-chain';
import { AUDIT_RECORDS } from '../../services/lookup/audit-trail';
import { statementChunks } from '../../services/platform/mongo';

/** A refused lookup, as most of a trail is. */
export const ENTRY: AuditEntry = {
  action: 'GET /v1/citizens/:id',
  actor: { id: 'CB-PC08-01', agency: 'HN-PC08', role: 'officer' },
  subject: { view: 'citizens', id: '001099000001' },
  dossierId: 'HS-2026-000001',
  procedureCode: '1.000001',
  fields: [],
  masks: [],
  sources: [],
  result: 'denied',
  reason: 'DOSSIER_OTHER_AGENCY',
  status: 403,
  traceId: null,
  policyVersion: 'sha256:bench',
};

/**
 * The spread of a filled trail: 30 days, 10,000 citizens, 200 officers in 20 agencies and 5,000
 * dossiers; one record in four is an allowed lookup of another agency's data.
 */
export const SPREAD_DAYS = 30;
export const FILL_START = Date.parse('2026-11-01T00:00:00+07:00');
const ids =
  (prefix: string, n: number, digits: number) =>
  (i: number): string =>
    `${prefix}${String(i % n).padStart(digits, '0')}`;
export const citizen = ids('0010990', 10_000, 5);
export const officer = ids('CB-', 200, 3);
export const dossier = ids('HS-2026-', 5_000, 6);
export const agency = (i: number): string => `HN-A${String((i % 200) % 20).padStart(2, '0')}`;

/** The `seq`th record's entry, always the same for the same `seq`. */
export function spreadEntry(seq: number): AuditEntry {
  const allowed = seq % 4 === 0;
  const subject = citizen(seq * 7);
  return {
    ...ENTRY,
    actor: { id: officer(seq), agency: agency(seq), role: 'officer' },
    subject: { view: 'citizens', id: subject },
    dossierId: dossier(seq * 3),
    citizenIds: [subject],
    ...(allowed
      ? {
          result: 'allowed',
          reason: null,
          status: 200,
          sources: [agency(seq * 11)],
          fields: ['citizens.tax.status'],
        }
      : {}),
  };
}

/**
 * Appends records `from`..`to` to a trail whose last record has `hash` (none: the genesis), their
 * times spread evenly over {@link SPREAD_DAYS} days for a trail of `total` records; returns the
 * new last hash. `progress` hears every 20,000 records.
 */
export async function fillTrail(
  db: Db,
  range: { from: number; to: number; total: number; hash?: string },
  progress: (line: string) => void,
): Promise<string> {
  const { from, to } = range;
  let hash = range.hash ?? GENESIS_HASH;
  const records = db.collection<AuditRecord>(AUDIT_RECORDS);
  const stepMs = (SPREAD_DAYS * 86_400_000) / range.total;
  for (let seq = from; seq <= to;) {
    const batch: AuditRecord[] = [];
    for (; batch.length < 1_000 && seq <= to; seq += 1) {
      const record = chain(spreadEntry(seq), seq, hash, new Date(FILL_START + seq * stepMs));
      hash = record.hash;
      batch.push(record);
    }
    for (const chunk of statementChunks(batch)) await records.insertMany(chunk, { ordered: true });
    if (seq % 20_000 < 1_000) progress(`  filled ${seq - 1} of ${to} records`);
  }
  return hash;
}
