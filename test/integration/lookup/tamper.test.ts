import { type Collection } from 'mongodb';
import {
  type AuditRecord,
  auditId,
  recordHash,
  type VerifyReport,
} from '../../../services/lookup/audit-chain';
import { AUDIT_RECORDS } from '../../../services/lookup/audit-trail';
import { lookupHarness } from '../../support/lookup';
import { OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

const harness = lookupHarness();
const COUNT = 12;
let records: Collection<AuditRecord>;
let original: AuditRecord[];

beforeAll(async () => {
  await harness.setUp();
  // Twelve refused lookups (the views are empty here): each is audited like any other request.
  for (let i = 0; i < COUNT; i += 1) {
    await harness.get(`/v1/citizens/${STORY.buyer}`, {
      token: harness.officer('HN-PC08', `CB-${i}`),
      dossier: OPEN_DOSSIERS.transfer.id,
    });
  }
  await harness.lookup().trail.seal();
  records = harness.sharing.db().collection<AuditRecord>(AUDIT_RECORDS);
  original = await records.find({}).sort({ _id: 1 }).toArray();
});

afterAll(async () => {
  await harness.tearDown();
});

/** The chain before a test: the records of the verify calls included, so that it stays whole. */
let before: AuditRecord[];
beforeEach(async () => {
  before = await records.find({}).sort({ _id: 1 }).toArray();
});

/** Puts every record back as it was written, and keeps those written since. */
afterEach(async () => {
  for (const record of before) await records.replaceOne({ _id: record._id }, record, { upsert: true });
});

/** A full walk unless `full` is false: the tampering below is behind the last verified seal. */
async function verify(full = true): Promise<VerifyReport> {
  const response = await harness.get(`/v1/audit/verify?full=${full}`, {
    token: harness.token('auditor', 'TT-01', 'HN-TTRA'),
  });
  expect(response.statusCode).toBe(200);
  return response.json() as VerifyReport;
}

/** The verify call is itself audited: the records written after the original twelve are not looked at. */
const breachesUpTo = (report: VerifyReport, seq: number) => report.breaches.filter((b) => b.seq <= seq);

describe('verifying the audit chain after someone changed the store directly', () => {
  it('finds nothing wrong in an untouched chain', async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, breaches: [], sealedSeq: COUNT });
    expect(report.checked).toBeGreaterThanOrEqual(COUNT);
  });

  describe('incrementally, from the last seal a walk verified', () => {
    beforeEach(async () => {
      // A clean full walk sets the starting point; the walks of other tests found breaches.
      expect(await verify(true)).toMatchObject({ ok: true, fromSeq: 1, sealedSeq: COUNT });
      before = await records.find({}).sort({ _id: 1 }).toArray();
    });

    it('reads only the records from that seal on', async () => {
      const report = await verify(false);
      const head = harness.lookup().trail.head().seq;
      expect(report).toMatchObject({ ok: true, fromSeq: COUNT, lastSeq: head - 1 });
      expect(report.checked).toBe(head - COUNT);
    });

    it('still names an edit after the seal, but not one before it', async () => {
      const head = harness.lookup().trail.head().seq;
      await records.updateOne({ _id: auditId(head) }, { $set: { 'actor.id': 'TT-SOMEONE-ELSE' } });
      await records.updateOne({ _id: auditId(3) }, { $set: { status: 200 } });
      const report = await verify(false);
      expect(report.fromSeq).toBe(COUNT);
      expect(report.breaches).toEqual([expect.objectContaining({ seq: head, kind: 'edited' })]);
    });

    it('names the sealed record itself replaced', async () => {
      const forged = { ...(original[COUNT - 1] as AuditRecord), result: 'allowed' as const };
      forged.hash = recordHash(forged);
      await records.replaceOne({ _id: forged._id }, forged);
      const report = await verify(false);
      expect(report.fromSeq).toBe(COUNT);
      expect(report.breaches).toContainEqual(expect.objectContaining({ seq: COUNT, kind: 'edited' }));
    });

    it('names a truncation that reaches below the seal', async () => {
      await records.deleteMany({ seq: { $gt: 9 } });
      const report = await verify(false);
      expect(report.fromSeq).toBe(COUNT);
      expect(report.breaches).toContainEqual(expect.objectContaining({ kind: 'truncated' }));
    });

    it('walks whole again after a walk that found a breach', async () => {
      await records.updateOne({ _id: auditId(3) }, { $set: { status: 200 } });
      expect((await verify(true)).ok).toBe(false);
      const next = await verify(false);
      expect(next).toMatchObject({ ok: false, fromSeq: 1 });
      expect(next.breaches).toContainEqual(expect.objectContaining({ seq: 3, kind: 'edited' }));
    });
  });

  it('names an edited record', async () => {
    await records.updateOne({ _id: auditId(5) }, { $set: { 'actor.id': 'CB-SOMEONE-ELSE' } });
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(breachesUpTo(report, COUNT)).toEqual([expect.objectContaining({ seq: 5, kind: 'edited' })]);
  });

  it('names a deleted record', async () => {
    await records.deleteOne({ _id: auditId(7) });
    const report = await verify();
    expect(breachesUpTo(report, COUNT)).toEqual([expect.objectContaining({ seq: 7, kind: 'missing' })]);
  });

  it('names both places of two records swapped', async () => {
    const [a, b] = [original[2], original[3]] as [AuditRecord, AuditRecord];
    const { _id: idA, ...contentA } = a;
    const { _id: idB, ...contentB } = b;
    await records.replaceOne({ _id: idA }, contentB);
    await records.replaceOne({ _id: idB }, contentA);
    const report = await verify();
    expect(breachesUpTo(report, COUNT)).toEqual([
      expect.objectContaining({ seq: 3, kind: 'reordered' }),
      expect.objectContaining({ seq: 4, kind: 'reordered' }),
    ]);
  });

  it('names a truncation of the end, against the seal and the head the service holds', async () => {
    const head = harness.lookup().trail.head().seq;
    await records.deleteMany({ seq: { $gt: 9 } });
    const report = await verify();
    expect(report.breaches).toContainEqual(expect.objectContaining({ seq: 10, kind: 'truncated' }));
    expect(head).toBeGreaterThan(9);
  });

  it('catches a record rewritten with a fresh hash at the next link', async () => {
    // Whoever can write the store can recompute a record's own hash, but not its successor's link.
    const forged = { ...(original[5] as AuditRecord), result: 'allowed' as const };
    forged.hash = recordHash(forged);
    await records.replaceOne({ _id: forged._id }, forged);
    const report = await verify();
    expect(breachesUpTo(report, COUNT)).toEqual([expect.objectContaining({ seq: 7, kind: 'reordered' })]);
  });

  it('catches a chain rewritten from a record to the end at the seal', async () => {
    // Rewriting every link after the forgery needs no key either: only the signed head tells.
    let prevHash = (original[4] as AuditRecord).hash;
    for (const record of original.slice(5)) {
      const rewritten = { ...record, prevHash, ...(record.seq === 6 ? { result: 'allowed' as const } : {}) };
      rewritten.hash = recordHash(rewritten);
      prevHash = rewritten.hash;
      await records.replaceOne({ _id: record._id }, rewritten);
    }
    const report = await verify();
    expect(breachesUpTo(report, COUNT)).toEqual([
      expect.objectContaining({ seq: COUNT, kind: 'seal-invalid' }),
    ]);
  });
});
