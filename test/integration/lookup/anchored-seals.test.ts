import { type AuditSeal, keyIdOf, type VerifyReport } from '../../../services/lookup/audit-chain';
import { AUDIT_KIND_HEADER, AUDIT_KINDS } from '../../../services/lookup/audit-relay';
import { AUDIT_RECORDS, AUDIT_SEALS } from '../../../services/lookup/audit-trail';
import { readTopic } from '../../support/kafka';
import { lookupHarness, testKeys } from '../../support/lookup';
import { OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

/**
 * The seals are anchored in Kafka: whoever can write the store, and restart the service so that it
 * reloads its head from the store, still cannot unwrite the trail's copy on the audit topic. Seal
 * keys rotate by configuration: an earlier key stays in the trusted list for the seals it made.
 */

const harness = lookupHarness({ auditTopic: true });
const firstKey = harness.sealKey;
const secondKey = testKeys();

beforeAll(async () => {
  await harness.setUp();
});

afterAll(async () => {
  await harness.tearDown();
});

/** Refused lookups (this harness's views are empty): each one is audited like any other request. */
async function lookups(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const response = await harness.get(`/v1/citizens/${STORY.buyer}`, {
      token: harness.officer('HN-PC08', `CB-${i}`),
      dossier: OPEN_DOSSIERS.transfer.id,
    });
    expect(response.statusCode).toBe(403);
  }
}

/** A restart with the given seal keys; stopping seals the head and copies the seal to Kafka. */
async function restart(sealKey = harness.sealKey, trusted = harness.trustedSealKeys): Promise<void> {
  await harness.stopLookup();
  harness.sealKey = sealKey;
  harness.trustedSealKeys = trusted;
  await harness.startLookup();
}

async function verify(): Promise<VerifyReport> {
  const response = await harness.get('/v1/audit/verify', {
    token: harness.token('auditor', 'TT-01', 'HN-TTRA'),
  });
  expect(response.statusCode).toBe(200);
  return response.json() as VerifyReport;
}

const seals = () => harness.sharing.db().collection<AuditSeal>(AUDIT_SEALS);

describe('anchored seals', () => {
  it('copies every seal to the audit topic, after the record it seals, and verify reads it', async () => {
    await lookups(6);
    await restart();
    const stored = await seals().find({}).toArray();
    expect(stored.map((s) => s.seq)).toEqual([6]);
    const messages = await readTopic(harness.sharing.kafka, harness.auditTopic);
    const kinds = messages.map((m) => `${m.headers[AUDIT_KIND_HEADER]}:${m.key}`);
    expect(kinds).toEqual(
      [1, 2, 3, 4, 5, 6].map((seq) => `${AUDIT_KINDS.record}:${seq}`).concat('seal:seal-6'),
    );
    expect(JSON.parse(messages.at(-1)?.value ?? '{}')).toMatchObject({
      seq: 6,
      signature: stored[0]?.signature,
    });

    const report = await verify();
    expect(report).toMatchObject({ ok: true, breaches: [], copy: { compared: true, sealedSeq: 6 } });
    expect(report.copy?.lastSeq).toBeGreaterThanOrEqual(6);
  });

  it('verifies the seals of a rotated-out key that is still trusted', async () => {
    await restart(secondKey, [firstKey.publicKey]);
    await lookups(2);
    await harness.lookup().trail.seal();
    const keyIds = new Set((await seals().find({}).toArray()).map((s) => s.keyId));
    expect(keyIds.size).toBe(2);
    expect(await verify()).toMatchObject({ ok: true, breaches: [] });
  });

  it('names each seal of a key no longer trusted as seal-invalid, by its key id', async () => {
    await restart(secondKey, []);
    const old = await seals()
      .find({ keyId: keyIdOf(firstKey.publicKey) })
      .toArray();
    expect(old.length).toBeGreaterThan(0);
    const report = await verify();
    expect(report.ok).toBe(false);
    // One breach per seal: the copy of a seal the store walk named already is not named again.
    expect(report.breaches).toEqual(
      old.map((s) => ({
        seq: s.seq,
        kind: 'seal-invalid',
        detail: `The seal at ${s.seq} is signed by key ${s.keyId}, which is not trusted`,
      })),
    );
  });

  it('finds the tail deleted together with its seals after the service was restarted', async () => {
    await restart(secondKey, [firstKey.publicKey]);
    await harness.stopLookup();
    // The head is at least 10 now (the lookups and the verify calls); keep 1 to 4.
    const records = harness.sharing.db().collection(AUDIT_RECORDS);
    const head = await records.countDocuments();
    expect(head).toBeGreaterThanOrEqual(10);
    await records.deleteMany({ seq: { $gt: 4 } });
    await seals().deleteMany({ seq: { $gt: 4 } });
    await harness.startLookup();

    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.lastSeq).toBe(4);
    expect(report.breaches).toContainEqual(
      expect.objectContaining({
        seq: 5,
        kind: 'truncated',
        detail: expect.stringMatching(new RegExp(`^Records 5 to ${head} are in the Kafka copy`)),
      }),
    );
    expect(report.breaches).toContainEqual(
      expect.objectContaining({
        seq: 6,
        kind: 'seal-invalid',
        detail: expect.stringMatching(/not in the store$/),
      }),
    );
  });
});
