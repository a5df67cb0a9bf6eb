import { type AuditRecord } from '../../../services/lookup/audit-chain';
import { AUDIT_RECORDS } from '../../../services/lookup/audit-trail';
import { DEFAULT_POLICY_FILE } from '../../../services/lookup/config';
import { loadFieldPolicies, masked } from '../../../services/lookup/field-policy';
import { VIEW_SECTIONS } from '../../../services/lookup/view-sections';
import { type ViewDoc, type ViewName } from '../../../services/sharing/projection';
import { type Answer, lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, MISSING_DOSSIER, OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

const harness = lookupHarness();
const events = lookupStoryEvents();

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
});

afterAll(async () => {
  await harness.tearDown();
});

const { transfer, amendment } = OPEN_DOSSIERS;

/** The audit record a response names in `X-Audit-Record`. */
async function auditOf(response: Answer): Promise<AuditRecord> {
  const seq = Number(response.headers['x-audit-record']);
  expect(seq).toBeGreaterThan(0);
  const record = await harness.sharing.db().collection<AuditRecord>(AUDIT_RECORDS).findOne({ seq });
  if (!record) throw new Error(`no audit record ${seq}`);
  return record;
}

/** Every path to a subject the transfer dossier's applicant is tied to. */
const SUBJECTS: readonly { view: ViewName; url: string }[] = [
  { view: 'citizens', url: `/v1/citizens/${STORY.buyer}` },
  { view: 'enterprises', url: `/v1/enterprises/${STORY.enterprise}` },
  { view: 'vehicles', url: `/v1/vehicles/${encodeURIComponent(STORY.plate)}` },
  { view: 'dossiers', url: `/v1/dossiers/${transfer.id}` },
];

describe('a lookup bound to an open dossier of the officer’s agency', () => {
  it('answers the buyer’s citizen record with only the transfer policy’s fields', async () => {
    const response = await harness.get(`/v1/citizens/${STORY.buyer}`, {
      token: harness.officer('HN-PC08'),
      dossier: transfer.id,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      subject: { view: 'citizens', id: STORY.buyer },
      dossierId: transfer.id,
      procedureCode: '1.010700',
      policy: { procedureCode: '1.010700', agency: 'HN-PC08' },
    });
    expect(body.data.identity).toEqual({ citizenId: STORY.buyer, birthYear: 1995, sex: 'female' });
    expect(body.data.vehicles).toEqual([
      expect.objectContaining({ plate: STORY.plate, ownership: 'CURRENT', status: 'REGISTERED' }),
    ]);
    const record = await auditOf(response);
    expect(record).toMatchObject({
      action: 'GET /v1/citizens/:id',
      actor: { id: 'CB-PC08-01', agency: 'HN-PC08', role: 'officer' },
      subject: { view: 'citizens', id: STORY.buyer },
      dossierId: transfer.id,
      procedureCode: '1.010700',
      result: 'allowed',
      status: 200,
    });
    expect(record.fields).toEqual(
      expect.arrayContaining(['citizens.identity.citizenId', 'citizens.vehicles[].plate']),
    );
    expect(record.sources).toEqual(['HN-PC08']);
  });

  it('reaches the vehicle the applicant bought and the enterprise that sold it', async () => {
    for (const { url } of SUBJECTS) {
      // The enterprise sold the vehicle to the applicant: a former owner of the applicant's vehicle
      // is not the applicant, so only the applicant's own records and the vehicle are reachable.
      const response = await harness.get(url, { token: harness.officer('HN-PC08'), dossier: transfer.id });
      expect([url, response.statusCode]).toEqual([url, url.includes('/enterprises/') ? 403 : 200]);
    }
  });

  it('lets the business registration office read the enterprise that applied, and its representative', async () => {
    const token = harness.officer('HN-SKHDT');
    const enterprise = await harness.get(`/v1/enterprises/${STORY.enterprise}`, {
      token,
      dossier: amendment.id,
    });
    expect(enterprise.statusCode).toBe(200);
    expect(enterprise.json().data.registration).toMatchObject({
      legalRepresentativeCitizenId: STORY.newRepresentative,
      charterCapital: '5000000000',
    });
    const representative = await harness.get(`/v1/citizens/${STORY.newRepresentative}`, {
      token,
      dossier: amendment.id,
    });
    expect(representative.statusCode).toBe(200);
    const former = await harness.get(`/v1/citizens/${STORY.founder}`, { token, dossier: amendment.id });
    expect(former.statusCode).toBe(403);
    expect(former.json().code).toBe('DOSSIER_OTHER_SUBJECT');
  });
});

describe('the access matrix: never data, always audited', () => {
  const cases: {
    name: string;
    token: () => string | undefined;
    dossier?: string;
    code: string;
    status: number;
  }[] = [
    {
      name: 'an officer of another agency than the dossier’s',
      token: () => harness.officer('HN-SKHDT'),
      dossier: transfer.id,
      code: 'DOSSIER_OTHER_AGENCY',
      status: 403,
    },
    {
      // Agency before state: the closed dossier's state is not for another agency to learn.
      name: 'an officer of another agency under a closed dossier',
      token: () => harness.officer('HN-SKHDT'),
      dossier: STORY.dossier,
      code: 'DOSSIER_OTHER_AGENCY',
      status: 403,
    },
    {
      name: 'a closed dossier',
      token: () => harness.officer('HN-PC08'),
      dossier: STORY.dossier,
      code: 'DOSSIER_CLOSED',
      status: 403,
    },
    {
      name: 'a dossier the bus does not know',
      token: () => harness.officer('HN-PC08'),
      dossier: MISSING_DOSSIER,
      code: 'DOSSIER_NOT_FOUND',
      status: 403,
    },
    {
      name: 'a procedure no policy grants',
      token: () => harness.officer('HN-PC08'),
      dossier: OPEN_DOSSIERS.unknownProcedure.id,
      code: 'NO_POLICY',
      status: 403,
    },
    { name: 'no token', token: () => undefined, dossier: transfer.id, code: 'TOKEN_MISSING', status: 401 },
    {
      name: 'an expired token',
      token: () => harness.token('officer', 'CB-PC08-01', 'HN-PC08', -120),
      dossier: transfer.id,
      code: 'TOKEN_EXPIRED',
      status: 401,
    },
    {
      name: 'a token of the trusted key that lives a hundred years',
      token: () => harness.token('officer', 'CB-PC08-01', 'HN-PC08', 100 * 365 * 86_400),
      dossier: transfer.id,
      code: 'TOKEN_LIFETIME_TOO_LONG',
      status: 401,
    },
    {
      name: 'a token of the trusted key issued an hour from now',
      token: () => harness.token('officer', 'CB-PC08-01', 'HN-PC08', 600, Date.now() + 3_600_000),
      dossier: transfer.id,
      code: 'TOKEN_ISSUED_IN_FUTURE',
      status: 401,
    },
    {
      name: 'a token signed by an unknown key',
      token: () => harness.forgedToken('officer', 'CB-PC08-01', 'HN-PC08'),
      dossier: transfer.id,
      code: 'TOKEN_INVALID',
      status: 401,
    },
    {
      name: 'an auditor’s token',
      token: () => harness.token('auditor', 'TT-01', 'HN-TTRA'),
      dossier: transfer.id,
      code: 'ROLE_NOT_ALLOWED',
      status: 403,
    },
    {
      name: 'a citizen’s token',
      token: () => harness.token('citizen', STORY.buyer),
      dossier: transfer.id,
      code: 'ROLE_NOT_ALLOWED',
      status: 403,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name} on every endpoint, and audits it`, async () => {
      for (const { url } of SUBJECTS) {
        const token = c.token();
        const response = await harness.get(url, {
          ...(token ? { token } : {}),
          ...(c.dossier ? { dossier: c.dossier } : {}),
        });
        expect([url, response.statusCode, response.json().code]).toEqual([url, c.status, c.code]);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json().data).toBeUndefined();
        const record = await auditOf(response);
        expect(record).toMatchObject({ status: c.status, reason: c.code, fields: [], sources: [] });
        expect(record.result).toBe(c.status === 401 ? 'unauthenticated' : 'denied');
      }
    });
  }

  it('refuses a dossier about another subject on every endpoint', async () => {
    // The land dossier is the founder's: the buyer, the enterprise's vehicle and another dossier are not its subjects.
    const token = harness.officer('HN-STNMT');
    for (const url of [
      `/v1/citizens/${STORY.buyer}`,
      `/v1/enterprises/${STORY.enterprise}`,
      `/v1/vehicles/${encodeURIComponent(STORY.plate)}`,
      `/v1/dossiers/${transfer.id}`,
    ]) {
      const response = await harness.get(url, { token, dossier: OPEN_DOSSIERS.land.id });
      expect([url, response.statusCode]).toEqual([url, 403]);
      expect(['DOSSIER_OTHER_SUBJECT', 'VIEW_NOT_IN_POLICY']).toContain(response.json().code);
      expect((await auditOf(response)).result).toBe('denied');
    }
  });

  it('audits a refusal for a subject that does not exist the same way as for one that does', async () => {
    const token = harness.officer('HN-PC08');
    const missing = await harness.get('/v1/citizens/001099000001', { token, dossier: transfer.id });
    const existing = await harness.get(`/v1/citizens/${STORY.founder}`, { token, dossier: transfer.id });
    expect([missing.statusCode, missing.json().code]).toEqual([403, 'DOSSIER_OTHER_SUBJECT']);
    expect([existing.statusCode, existing.json().code]).toEqual([403, 'DOSSIER_OTHER_SUBJECT']);
  });
});

describe('field policies, property by property', () => {
  const policies = loadFieldPolicies(DEFAULT_POLICY_FILE);
  const agencyOf = (dossier: (typeof OPEN_DOSSIERS)[keyof typeof OPEN_DOSSIERS]) => dossier.agency;

  it('returns, for each policy and view it covers, exactly the allowed fields that the document holds', async () => {
    let checked = 0;
    for (const dossier of Object.values(OPEN_DOSSIERS)) {
      const policy = policies.find(dossier.procedure, dossier.agency);
      if (!policy) continue;
      const subjects: Partial<Record<ViewName, string>> = {
        dossiers: dossier.id,
        ...(/^\d{12}$/.test(dossier.applicant)
          ? { citizens: dossier.applicant }
          : { enterprises: dossier.applicant }),
      };
      if (dossier === OPEN_DOSSIERS.transfer) subjects.vehicles = STORY.plate;
      for (const [view, rules] of Object.entries(policy.views) as [
        ViewName,
        Record<string, Record<string, string>>,
      ][]) {
        const id = subjects[view];
        if (!id) continue;
        const response = await harness.get(`/v1/${view}/${encodeURIComponent(id)}`, {
          token: harness.officer(agencyOf(dossier)),
          dossier: dossier.id,
        });
        expect([dossier.procedure, view, response.statusCode]).toEqual([dossier.procedure, view, 200]);
        const doc = (await harness.sharing.view(view, id)) as ViewDoc;
        const data = response.json().data as Record<string, unknown>;
        expect(Object.keys(data).sort()).toEqual(
          Object.keys(rules)
            .filter((s) => doc[s] !== undefined)
            .sort(),
        );
        for (const [section, fields] of Object.entries(rules)) {
          const held = doc[section] as Record<string, unknown> | undefined;
          if (!held) continue;
          const entries =
            VIEW_SECTIONS[view][section]?.kind === 'map'
              ? Object.keys(held)
                  .sort()
                  .map((k) => held[k] as Record<string, unknown>)
              : [held];
          const answered =
            VIEW_SECTIONS[view][section]?.kind === 'map' ? (data[section] as unknown[]) : [data[section]];
          expect(answered).toHaveLength(entries.length);
          entries.forEach((entry, i) => {
            const expected = Object.fromEntries(
              Object.entries(fields)
                .filter(([f]) => Object.hasOwn(entry, f))
                .map(([f, mask]) => [f, JSON.parse(JSON.stringify(masked(entry[f], mask as 'clear')))]),
            );
            expect([dossier.procedure, view, section, answered[i]]).toEqual([
              dossier.procedure,
              view,
              section,
              expected,
            ]);
          });
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('masks the citizen id and reduces dates to years where the policy says so', async () => {
    const record = await harness.get(`/v1/citizens/${STORY.newRepresentative}`, {
      token: harness.officer('HN-STP'),
      dossier: OPEN_DOSSIERS.criminalRecord.id,
    });
    expect(record.json().data.identity.citizenId).toBe(`********${STORY.newRepresentative.slice(-4)}`);
    const land = await harness.get(`/v1/citizens/${STORY.founder}`, {
      token: harness.officer('HN-STNMT'),
      dossier: OPEN_DOSSIERS.land.id,
    });
    expect(land.json().data.tax).toEqual([
      { taxCode: '******5678', status: 'ACTIVE', debt: '3500000', debtAsOf: 2026 },
    ]);
  });
});
