import { type AuditEntry } from '../../../services/lookup/audit-chain';
import { lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

/**
 * A citizen's access log lists every answer that showed them, not only the lookups of their own
 * record: as the owner of a vehicle, as the legal representative of an enterprise, and in the
 * lineage an auditor read.
 */
const harness = lookupHarness();
const events = lookupStoryEvents();
const { transfer, amendment } = OPEN_DOSSIERS;
const plate = encodeURIComponent(STORY.plate);
const auditor = () => harness.token('auditor', 'TT-0001', 'HN-TTRA');
const seqs: Record<string, number> = {};

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
  // A record as the trail held them before exposures were recorded: a lookup of the buyer.
  const legacy: AuditEntry = {
    action: 'GET /v1/citizens/:id',
    actor: { id: 'CB-PC08-09', agency: 'HN-PC08', role: 'officer' },
    subject: { view: 'citizens', id: STORY.buyer },
    dossierId: transfer.id,
    procedureCode: transfer.procedure,
    fields: ['citizens.identity.citizenId'],
    sources: [],
    masks: [{ field: 'citizens.identity.citizenId', mask: 'clear' }],
    policyVersion: 'f'.repeat(64),
    result: 'allowed',
    reason: null,
    status: 200,
    traceId: null,
  };
  seqs.legacy = (await harness.lookup().trail.append(legacy)).seq;
  for (const [name, url, token, dossier] of [
    ['vehicle', `/v1/vehicles/${plate}`, harness.officer('HN-PC08', 'CB-PC08-07'), transfer.id],
    [
      'enterprise',
      `/v1/enterprises/${STORY.enterprise}`,
      harness.officer('HN-SKHDT', 'CB-SKHDT-03'),
      amendment.id,
    ],
    ['vehicleLineage', `/v1/audit/lineage/vehicles/${plate}`, auditor(), undefined],
    ['enterpriseLineage', `/v1/audit/lineage/enterprises/${STORY.enterprise}`, auditor(), undefined],
  ] as const) {
    const response = await harness.get(url, { token, ...(dossier ? { dossier } : {}) });
    expect([name, response.statusCode]).toEqual([name, 200]);
    seqs[name] = Number(response.headers['x-audit-record']);
  }
}, 120_000);

afterAll(async () => {
  await harness.tearDown();
});

const logOf = async (citizenId: string) => {
  const response = await harness.get(`/v1/citizens/${citizenId}/access-log`, {
    token: harness.token('citizen', citizenId),
  });
  expect(response.statusCode).toBe(200);
  return response.json().accesses as Record<string, unknown>[];
};

it("lists in the buyer's log the vehicle lookup and its lineage, which showed them as its owner", async () => {
  const accesses = await logOf(STORY.buyer);
  // The enterprise's lineage too: the transfer event, source of its vehicle section, names the buyer.
  expect(accesses.map((a) => a.seq)).toEqual([
    seqs.enterpriseLineage,
    seqs.vehicleLineage,
    seqs.vehicle,
    seqs.legacy,
  ]);
  const [, lineage, vehicle, legacy] = accesses;
  expect(vehicle).toMatchObject({
    officer: 'CB-PC08-07',
    agency: 'HN-PC08',
    dossierId: transfer.id,
    procedureCode: transfer.procedure,
    subject: { view: 'vehicles', id: STORY.plate },
    seenAs: [
      {
        as: 'owner',
        fields: ['vehicles.history[].owner.citizenId', 'vehicles.registration.owner.citizenId'],
        mask: 'clear',
      },
    ],
  });
  expect(vehicle?.description).toMatch(
    new RegExp(
      `^Officer CB-PC08-07 of HN-PC08 saw your data as the owner of vehicle ${STORY.plate.replace('.', '\\.')}, handling dossier ${transfer.id.replaceAll('.', '\\.')}`,
    ),
  );
  expect(lineage).toMatchObject({
    officer: 'TT-0001',
    role: 'auditor',
    subject: { view: 'vehicles', id: STORY.plate },
    seenAs: expect.arrayContaining([expect.objectContaining({ as: 'owner' })]),
    description: expect.stringMatching(/^Auditor TT-0001 of HN-TTRA read the lineage of vehicle/),
  });
  // A record written before exposures were recorded still shows, as about the citizen themselves.
  expect(legacy).toMatchObject({ officer: 'CB-PC08-09', seenAs: [{ as: 'subject' }] });
});

it("lists in the representatives' logs the enterprise lookup and its lineage, with the full id in the trail", async () => {
  const current = await logOf(STORY.newRepresentative);
  expect(current.map((a) => a.seq)).toEqual([seqs.enterpriseLineage, seqs.enterprise]);
  expect(current[1]).toMatchObject({
    officer: 'CB-SKHDT-03',
    agency: 'HN-SKHDT',
    dossierId: amendment.id,
    subject: { view: 'enterprises', id: STORY.enterprise },
    seenAs: [
      { as: 'legal-representative', fields: ['enterprises.registration.legalRepresentativeCitizenId'] },
    ],
    description: expect.stringContaining(`as the legal representative of enterprise ${STORY.enterprise}`),
  });
  // The founder was replaced: the enterprise's lineage names them as the representative before.
  const founder = await logOf(STORY.founder);
  expect(founder.map((a) => a.seq)).toEqual([seqs.enterpriseLineage]);
  expect(founder[0]?.seenAs).toEqual(
    expect.arrayContaining([expect.objectContaining({ as: 'previous-legal-representative' })]),
  );

  const records = await harness.get(`/v1/audit/records?dossierId=${amendment.id}`, { token: auditor() });
  const record = (records.json().records as Record<string, unknown>[]).find((r) => r.seq === seqs.enterprise);
  expect(record).toMatchObject({
    citizenIds: [STORY.newRepresentative],
    exposures: [{ citizenId: STORY.newRepresentative, as: 'legal-representative', mask: 'clear' }],
  });
});

it('never shows a citizen the other citizens the same answer showed', async () => {
  for (const access of await logOf(STORY.founder)) {
    const text = JSON.stringify(access);
    expect(text).not.toContain(STORY.newRepresentative);
    expect(text).not.toContain(STORY.buyer);
  }
});

it('verifies the chain, with records written before exposures were recorded and after', async () => {
  const response = await harness.get('/v1/audit/verify?full=true', { token: auditor() });
  expect(response.json()).toMatchObject({ ok: true, breaches: [] });
  expect(response.json().checked).toBeGreaterThan(seqs.enterpriseLineage as number);
});
