import { lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, MISSING_DOSSIER, OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';

const harness = lookupHarness();
const events = lookupStoryEvents();
const { land } = OPEN_DOSSIERS;

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
});

afterAll(async () => {
  await harness.tearDown();
});

const auditor = () => harness.token('auditor', 'TT-0001', 'HN-TTRA');

describe("GET /v1/desk/{dossierId}: the dossier at an officer's desk", () => {
  it("shows the handling agency's officer the dossier and what its policy opens, and audits it", async () => {
    const answer = await harness.get(`/v1/desk/${land.id}`, {
      token: harness.officer('HN-STNMT', 'CB-STNMT-02'),
    });
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    expect(body.dossier).toMatchObject({
      dossierId: land.id,
      procedureCode: '1.003003',
      procedureName: 'Thủ tục 1.003003',
      applicant: { citizenId: STORY.founder },
      status: 'RECEIVED',
      handlingAgency: 'HN-STNMT',
    });
    expect(Date.parse(body.dossier.dueAt) - Date.parse(body.dossier.receivedAt)).toBe(10 * 86_400_000);
    expect(body.policy.purpose).toMatch(/land registration/);
    const tax = body.policy.sections.find(
      (s: { view: string; section: string }) => s.view === 'citizens' && s.section === 'tax',
    );
    expect(tax).toMatchObject({ sourceAgency: 'HN-CUCTHUE' });
    expect(tax.fields).toContainEqual({ field: 'taxCode', mask: 'last4' });
    const identity = body.policy.sections.find((s: { section: string }) => s.section === 'identity');
    expect(identity.sourceAgency).toBeNull();

    const seq = Number(answer.headers['x-audit-record']);
    const records = (await harness.get(`/v1/audit/records?dossierId=${land.id}`, { token: auditor() })).json()
      .records;
    expect(records.find((r: { seq: number }) => r.seq === seq)).toMatchObject({
      action: 'GET /v1/desk/:dossierId',
      actor: { id: 'CB-STNMT-02', agency: 'HN-STNMT', role: 'officer' },
      subject: { view: 'dossiers', id: land.id },
      procedureCode: '1.003003',
      result: 'allowed',
      sources: ['HN-TTHCC'],
    });
  });

  it('refuses as a lookup would: another agency, a closed or unknown dossier, another role', async () => {
    const police = harness.officer('HN-PC08', 'CB-PC08-07');
    const cases = [
      [land.id, police, 403, 'DOSSIER_OTHER_AGENCY'],
      // The story's own dossier, completed by the police.
      [STORY.dossier, police, 403, 'DOSSIER_CLOSED'],
      [MISSING_DOSSIER, police, 403, 'DOSSIER_NOT_FOUND'],
      [land.id, auditor(), 403, 'ROLE_NOT_ALLOWED'],
      ['not-a-dossier', police, 400, 'INVALID_REQUEST'],
    ] as const;
    for (const [id, token, status, code] of cases) {
      const answer = await harness.get(`/v1/desk/${id}`, { token });
      expect([id, answer.statusCode, answer.json().code]).toEqual([id, status, code]);
      expect(answer.json().dossier).toBeUndefined();
    }
  });
});
