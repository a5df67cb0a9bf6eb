import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AuditRecord, canonicalJson } from '../../../services/lookup/audit-chain';
import { DEFAULT_POLICY_FILE } from '../../../services/lookup/config';
import { loadFieldPolicies } from '../../../services/lookup/field-policy';
import { AUDIT_KIND_HEADER, AUDIT_KINDS } from '../../../services/lookup/audit-relay';
import { AUDIT_SEALS } from '../../../services/lookup/audit-trail';
import { readMessages } from '../../support/kafka';
import { type Answer, lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { traceparentFor } from '../../support/sharing';
import { STORY } from '../../support/story';

const harness = lookupHarness({ auditTopic: true, limits: { pageMax: 5 } });
const events = lookupStoryEvents();
const { transfer, land } = OPEN_DOSSIERS;

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
  // A morning at two desks: the police read the buyer and the vehicle, land registration the founder,
  // and the police try the founder too, which is refused.
  const police = harness.officer('HN-PC08', 'CB-PC08-07');
  const land = harness.officer('HN-STNMT', 'CB-STNMT-02');
  const plate = `/v1/vehicles/${encodeURIComponent(STORY.plate)}`;
  for (const [url, token, dossier] of [
    [`/v1/citizens/${STORY.buyer}`, police, transfer.id],
    [plate, police, transfer.id],
    [`/v1/citizens/${STORY.buyer}`, police, transfer.id],
    [`/v1/citizens/${STORY.founder}`, land, OPEN_DOSSIERS.land.id],
    [`/v1/citizens/${STORY.founder}`, police, transfer.id],
  ] as const) {
    await harness.get(url, { token, dossier });
  }
});

afterAll(async () => {
  await harness.tearDown();
});

const auditor = () => harness.token('auditor', 'TT-0001', 'HN-TTRA');

describe('the access history for auditors', () => {
  it('lists a subject’s accesses newest first, page by page, with the cursor', async () => {
    const url = `/v1/audit/records?subjectView=citizens&subjectId=${STORY.buyer}&limit=1`;
    const first = await harness.get(url, { token: auditor() });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.records).toHaveLength(1);
    expect(page1.next).toBe(page1.records[0].seq);
    const second = (await harness.get(`${url}&before=${page1.next}`, { token: auditor() })).json();
    expect(second.records).toHaveLength(1);
    expect(second.records[0].seq).toBeLessThan(page1.records[0].seq);
    expect(second.next).toBeNull();
    const beyond = (await harness.get(`${url}&before=${second.records[0].seq}`, { token: auditor() })).json();
    expect(beyond).toEqual({ records: [], next: null });
    for (const r of [...page1.records, ...second.records]) {
      expect(r).toMatchObject({
        actor: { id: 'CB-PC08-07', agency: 'HN-PC08', role: 'officer' },
        subject: { view: 'citizens', id: STORY.buyer },
        dossierId: transfer.id,
        procedureCode: '1.010700',
        result: 'allowed',
      });
    }
  });

  it('names in each record the policy version and the mask of every field returned', async () => {
    const version = createHash('sha256').update(readFileSync(DEFAULT_POLICY_FILE)).digest('hex');
    const policies = loadFieldPolicies(DEFAULT_POLICY_FILE);
    const records: AuditRecord[] = [];
    for (const agency of ['HN-PC08', 'HN-STNMT']) {
      records.push(
        ...(await harness.get(`/v1/audit/records?agency=${agency}`, { token: auditor() })).json().records,
      );
    }
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const r of records) expect(r.policyVersion).toBe(version);
    expect(records.filter((r) => r.result === 'denied').map((r) => r.masks)).toEqual([[]]);
    // Every field returned has the mask its policy gives it, in the order of the fields.
    const allowed = records.filter((r) => r.result === 'allowed');
    for (const r of allowed) {
      const views = policies.find(r.procedureCode ?? '', r.actor?.agency ?? '')?.views as Record<
        string,
        Record<string, Record<string, string>>
      >;
      const expected = r.fields.map((field) => {
        const [view, section, name] = field.replace('[]', '').split('.') as [string, string, string];
        return { field, mask: views[view]?.[section]?.[name] };
      });
      expect(r.masks).toEqual(expected);
    }
    expect(allowed.flatMap((r) => r.masks).filter((m) => m.mask !== 'clear')).not.toEqual([]);
  });

  it('filters by officer, agency and dossier, and by time', async () => {
    const byOfficer = (
      await harness.get('/v1/audit/records?officerId=CB-PC08-07', { token: auditor() })
    ).json();
    expect(byOfficer.records.map((r: AuditRecord) => r.result)).toEqual([
      'denied',
      'allowed',
      'allowed',
      'allowed',
    ]);
    const byAgency = (await harness.get('/v1/audit/records?agency=HN-STNMT', { token: auditor() })).json();
    expect(byAgency.records).toHaveLength(1);
    expect(byAgency.records[0]).toMatchObject({ dossierId: land.id, subject: { id: STORY.founder } });
    const byDossier = (
      await harness.get(`/v1/audit/records?dossierId=${land.id}`, { token: auditor() })
    ).json();
    expect(byDossier.records.map((r: AuditRecord) => r.actor?.id)).toEqual(['CB-STNMT-02']);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = (await harness.get(`/v1/audit/records?from=${future}`, { token: auditor() })).json();
    expect(none.records).toEqual([]);
  });

  it('refuses a page larger than the limit, and officers and citizens', async () => {
    const big = await harness.get('/v1/audit/records?limit=6', { token: auditor() });
    expect([big.statusCode, big.json().code, big.json().errors[0].path]).toEqual([
      400,
      'INVALID_REQUEST',
      'querystring.limit',
    ]);
    const officer = await harness.get('/v1/audit/records', { token: harness.officer('HN-PC08') });
    expect([officer.statusCode, officer.json().code]).toEqual([403, 'ROLE_NOT_ALLOWED']);
    const citizen = await harness.get('/v1/audit/verify', { token: harness.token('citizen', STORY.buyer) });
    expect([citizen.statusCode, citizen.json().code]).toEqual([403, 'ROLE_NOT_ALLOWED']);
  });

  it('summarizes which agency read which agency’s data, per day', async () => {
    const response = await harness.get('/v1/audit/flows?period=day', { token: auditor() });
    expect(response.statusCode).toBe(200);
    const flows = response.json().flows as { readerAgency: string; sourceAgency: string; lookups: number }[];
    const police = flows.filter((f) => f.readerAgency === 'HN-PC08');
    // The buyer's record twice (vehicle sections from HN-PC08) and the vehicle once.
    expect(police).toEqual([expect.objectContaining({ sourceAgency: 'HN-PC08', lookups: 3 })]);
    const landFlows = flows.filter((f) => f.readerAgency === 'HN-STNMT');
    expect(landFlows).toEqual([expect.objectContaining({ sourceAgency: 'HN-CUCTHUE', lookups: 1 })]);
  });
});

describe('lineage', () => {
  it('traces a value an officer saw to the agency event, its offset and its trace', async () => {
    const shown = await harness.get(`/v1/vehicles/${encodeURIComponent(STORY.plate)}`, {
      token: harness.officer('HN-PC08'),
      dossier: transfer.id,
    });
    expect(shown.json().data.registration.owner).toEqual({ citizenId: STORY.buyer });

    const response = await harness.get(`/v1/audit/lineage/vehicles/${encodeURIComponent(STORY.plate)}`, {
      token: auditor(),
    });
    expect(response.statusCode).toBe(200);
    const sections = response.json().sections as ReturnType<Answer['json']>[];
    const registration = sections.find((s) => s.path === 'registration');
    expect(registration?.values.owner).toEqual({ citizenId: STORY.buyer });
    const transferEvent = events.find((e) => e.event.eventType === 'OwnershipTransferred')?.event;
    expect(registration?.source).toMatchObject({
      agency: 'HN-PC08',
      topic: harness.sharing.topics.vehicle,
      eventId: transferEvent?.eventId,
      eventType: 'OwnershipTransferred',
      traceId: traceparentFor(transferEvent?.eventId ?? '').slice(3, 35),
    });
    expect(registration?.source.offset).toMatch(/^\d+$/);
    // The event read back from Kafka at those coordinates is the agency's own event, with its trace.
    expect(registration?.event).toMatchObject({
      found: true,
      key: STORY.plate,
      traceparent: traceparentFor(transferEvent?.eventId ?? ''),
      decoded: {
        eventId: transferEvent?.eventId,
        sourceAgency: 'HN-PC08',
        eventType: 'OwnershipTransferred',
      },
    });
    expect(registration?.event.schemaId).toBeGreaterThan(0);
  });
});

describe('the citizen access log', () => {
  it('tells the founder who read their data, when and for which dossier', async () => {
    const response = await harness.get(`/v1/citizens/${STORY.founder}/access-log`, {
      token: harness.token('citizen', STORY.founder),
    });
    expect(response.statusCode).toBe(200);
    const accesses = response.json().accesses as Record<string, unknown>[];
    expect(accesses).toEqual([
      expect.objectContaining({
        officer: 'CB-PC08-07',
        agency: 'HN-PC08',
        dossierId: transfer.id,
        result: 'denied',
        reason: 'DOSSIER_OTHER_SUBJECT',
      }),
      expect.objectContaining({
        officer: 'CB-STNMT-02',
        agency: 'HN-STNMT',
        dossierId: land.id,
        procedureCode: '1.003003',
        result: 'allowed',
      }),
    ]);
  });

  it('refuses another citizen’s log, and audits the attempt', async () => {
    const response = await harness.get(`/v1/citizens/${STORY.founder}/access-log`, {
      token: harness.token('citizen', STORY.buyer),
    });
    expect([response.statusCode, response.json().code]).toEqual([403, 'NOT_OWN_RECORD']);
    expect(Number(response.headers['x-audit-record'])).toBeGreaterThan(0);
  });
});

describe('the audit trail', () => {
  it('verifies whole', async () => {
    await harness.lookup().trail.seal();
    const response = await harness.get('/v1/audit/verify', { token: auditor() });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ok: true, breaches: [] });
    expect(response.json().checked).toBeGreaterThan(10);
  });

  it('is copied to Kafka in chain order', async () => {
    const head = harness.lookup().trail.head();
    const messages = await readCopied(head.seq);
    const records = messages
      .filter((m) => m.headers[AUDIT_KIND_HEADER] === AUDIT_KINDS.record)
      .map((m) => JSON.parse(m.value?.toString() ?? '{}') as AuditRecord);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: head.seq }, (_, i) => i + 1));
    records.slice(1).forEach((r, i) => expect(r.prevHash).toBe(records[i]?.hash));
    const stored = await harness.sharing.db().collection<AuditRecord>('audit_records').findOne({ seq: 1 });
    expect(messages[0]?.value?.toString()).toBe(canonicalJson(stored));
  });
});

/** The messages of the trail's copy up to record `seq`: the records and the seals among them. */
async function readCopied(seq: number) {
  const seals = await harness.sharing
    .db()
    .collection(AUDIT_SEALS)
    .countDocuments({ seq: { $lte: seq } });
  return readMessages(harness.sharing.kafka, harness.auditTopic, seq + seals);
}

describe('a restart', () => {
  it('continues the chain where it was, and the copy in Kafka with it', async () => {
    const before = harness.lookup().trail.head();
    await harness.stopLookup();
    await harness.startLookup();
    expect(harness.lookup().trail.head()).toEqual(before);
    const response = await harness.get(`/v1/citizens/${STORY.buyer}`, {
      token: harness.officer('HN-PC08'),
      dossier: transfer.id,
    });
    expect(Number(response.headers['x-audit-record'])).toBe(before.seq + 1);
    const verify = await harness.get('/v1/audit/verify', { token: auditor() });
    expect(verify.json()).toMatchObject({ ok: true, breaches: [] });
    const messages = await readCopied(before.seq + 2);
    const records = messages.filter((m) => m.headers[AUDIT_KIND_HEADER] === AUDIT_KINDS.record);
    expect(records.map((m) => Number(m.key?.toString()))).toEqual(
      Array.from({ length: before.seq + 2 }, (_, i) => i + 1),
    );
  });
});

describe('rate limits', () => {
  it('answers 429 past an officer’s limit and audits the refusals in one aggregate record', async () => {
    // Refusals are counted by the minute of the service's clock: pinned, at 23:59:30 in Hà Nội,
    // so that no minute turns between them (it did once, and split the count in two records).
    const limited = lookupHarness({
      limits: { perPrincipalPerMinute: 3 },
      clock: () => Date.parse('2026-12-02T16:59:30Z'),
    });
    await limited.setUp();
    try {
      const token = limited.officer('HN-PC08');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        statuses.push(
          (await limited.get(`/v1/citizens/${STORY.buyer}`, { token, dossier: transfer.id })).statusCode,
        );
      }
      // The views of this harness are empty: the dossier is unknown, so 403 until the limit.
      expect(statuses).toEqual([403, 403, 403, 429, 429]);
      const last = await limited.get(`/v1/citizens/${STORY.buyer}`, { token, dossier: transfer.id });
      expect(last.json().code).toBe('RATE_LIMITED');
      expect(last.headers['x-ratelimit-remaining']).toBe('0');
      // The refusals past the limit are counted into one aggregate record, not one each.
      expect(last.headers['x-audit-record']).toBeUndefined();
      expect(limited.lookup().trail.head().seq).toBe(3);
      await limited.lookup().app.floodLog.flush(true);
      const { records } = await limited.lookup().trail.query({ limit: 10 });
      expect(records.slice(0, records.length - 3)).toEqual([
        expect.objectContaining({
          seq: 4,
          actor: expect.objectContaining({ id: 'CB-PC08-01' }),
          reason: 'RATE_LIMITED',
          flood: expect.objectContaining({ count: 3 }),
        }),
      ]);
      const other = await limited.get(`/v1/citizens/${STORY.buyer}`, {
        token: limited.officer('HN-PC08', 'CB-2'),
        dossier: transfer.id,
      });
      expect(other.statusCode).toBe(403);
    } finally {
      await limited.tearDown();
    }
  });
});
