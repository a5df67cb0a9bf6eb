import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY_FILE } from '../../../services/lookup/config';
import { loadFieldPolicies } from '../../../services/lookup/field-policy';
import { recreateTopic } from '../../support/kafka';
import { lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { DAY, envelope, STORY, type StoryEvent, T0 } from '../../support/story';

/**
 * "What did the officer see?": answers are reconstructed byte for byte from the events their
 * records name, after later events changed the views and the policy file changed.
 */
const harness = lookupHarness();
const events = lookupStoryEvents();
const { transfer, amendment } = OPEN_DOSSIERS;
const plate = encodeURIComponent(STORY.plate);
const auditor = () => harness.token('auditor', 'TT-0001', 'HN-TTRA');

/** Each answer as the officer received it, by its audit record. */
const seen = new Map<number, { name: string; body: string }>();

async function look(name: string, url: string, token: string, dossier: string): Promise<string> {
  const response = await harness.get(url, { token, dossier });
  expect([name, response.statusCode]).toEqual([name, 200]);
  seen.set(Number(response.headers['x-audit-record']), { name, body: response.body });
  return response.body;
}

const police = () => harness.officer('HN-PC08', 'CB-PC08-07');
const registrar = () => harness.officer('HN-SKHDT', 'CB-SKHDT-03');
const lookups = () =>
  [
    // A registration merged from the registration and the transfer, with its history.
    ['vehicle', `/v1/vehicles/${plate}`, police(), transfer.id],
    // A citizen whose vehicle entry took its details from the vehicle's registration.
    ['buyer', `/v1/citizens/${STORY.buyer}`, police(), transfer.id],
    // A registration merged from the registration and the amendment, and its tax codes.
    ['enterprise', `/v1/enterprises/${STORY.enterprise}`, registrar(), amendment.id],
    ['dossier', `/v1/dossiers/${transfer.id}`, police(), transfer.id],
  ] as const;

/** Later events: the enterprise's debt grows, the vehicle is deregistered. */
function laterEvents(): StoryEvent[] {
  return [
    {
      topic: 'tax',
      key: STORY.enterprise,
      event: {
        ...envelope('tax', 'MST-0108912347', 3, T0 + 70 * DAY, { enterpriseCodes: [STORY.enterprise] }),
        eventType: 'TaxDebtUpdated',
        payload: {
          'vn.hanoi.lienthong.tax.TaxDebtUpdated': {
            taxCode: STORY.enterprise,
            amount: '990000000',
            asOf: T0 + 70 * DAY,
          },
        },
      },
    },
    {
      topic: 'vehicle',
      key: STORY.plate,
      event: {
        ...envelope('vehicle', 'DKX-2026-555001', 3, T0 + 71 * DAY, {
          citizenIds: [STORY.buyer],
          plates: [STORY.plate],
        }),
        eventType: 'VehicleDeregistered',
        payload: {
          'vn.hanoi.lienthong.vehicle.VehicleDeregistered': {
            plate: STORY.plate,
            reason: 'END_OF_LIFE',
            deregisteredAt: T0 + 71 * DAY,
          },
        },
      },
    },
  ];
}

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
  for (const [name, url, token, dossier] of lookups()) await look(name, url, token, dossier);

  const later = laterEvents();
  await harness.sharing.publish(later);
  await harness.sharing.waitForEvents(events.length + later.length);

  // A new version of the policy file: the police now see the frame number masked and no engine number.
  const policy = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8')) as {
    policies: {
      procedureCode: string;
      agency: string;
      views: Record<string, Record<string, Record<string, string>>>;
    }[];
  };
  const transferPolicy = policy.policies.find(
    (p) => p.procedureCode === transfer.procedure && p.agency === 'HN-PC08',
  );
  const registration = transferPolicy?.views.vehicles?.registration;
  if (!registration) throw new Error('The transfer policy shows no vehicle registration');
  registration.frameNumber = 'last4';
  delete registration.engineNumber;
  const file = join(mkdtempSync(join(tmpdir(), 'lienthong-policy-')), 'field-policies.json');
  writeFileSync(file, `${JSON.stringify(policy, null, 2)}\n`);
  await harness.stopLookup();
  await harness.startLookup(undefined, loadFieldPolicies(file));
  for (const [name, url, token, dossier] of lookups()) await look(`${name}, later`, url, token, dossier);
}, 120_000);

afterAll(async () => {
  await harness.tearDown();
});

const reconstruct = (seq: number) => harness.get(`/v1/audit/records/${seq}/answer`, { token: auditor() });

it('gives the answers after the change other bodies than before it', () => {
  const bodies = [...seen.values()];
  for (const [name] of lookups()) {
    const before = bodies.find((b) => b.name === name)?.body;
    const after = bodies.find((b) => b.name === `${name}, later`)?.body;
    // The dossier's answer does not change: the events and the policy change other views.
    if (name !== 'dossier') expect([name, after]).not.toEqual([name, before]);
  }
  expect(bodies.find((b) => b.name === 'vehicle, later')?.body).toContain('DEREGISTERED');
});

it('reconstructs every answer byte for byte, before and after the views and the policy changed', async () => {
  for (const [seq, { name, body }] of seen) {
    const response = await reconstruct(seq);
    expect([name, response.statusCode]).toEqual([name, 200]);
    const answer = response.json();
    expect([name, answer.misses]).toEqual([name, []]);
    expect([name, answer.body]).toEqual([name, body]);
    const digest = createHash('sha256').update(body).digest('hex');
    expect([name, answer.digest]).toEqual([name, { recorded: digest, reconstructed: digest, matches: true }]);
    expect(answer.complete).toBe(true);
    expect(answer.events.length).toBeGreaterThan(0);
    expect(answer.events.every((e: { found: boolean }) => e.found)).toBe(true);
  }
  // The merged registration names its last event; the earlier ones came from its partition.
  const [vehicleSeq] = [...seen].find(([, s]) => s.name === 'vehicle') ?? [];
  const records = await harness.get(`/v1/audit/records?dossierId=${transfer.id}&limit=200`, {
    token: auditor(),
  });
  const record = (records.json().records as Record<string, unknown>[]).find((r) => r.seq === vehicleSeq);
  expect(record?.answerEvents).toEqual(
    expect.arrayContaining([expect.objectContaining({ path: 'registration', role: 'section' })]),
  );
  expect(JSON.stringify(record)).not.toContain('RLHRE7890PY123456');
});

it('refuses a record that is not an allowed lookup, and a record that does not exist', async () => {
  const refused = await harness.get(`/v1/citizens/${STORY.founder}`, {
    token: police(),
    dossier: transfer.id,
  });
  expect(refused.statusCode).toBe(403);
  const notALookup = await reconstruct(Number(refused.headers['x-audit-record']));
  expect([notALookup.statusCode, notALookup.json().code]).toEqual([422, 'RECORD_NOT_RECONSTRUCTIBLE']);
  const missing = await reconstruct(999_999);
  expect([missing.statusCode, missing.json().code]).toEqual([404, 'RECORD_NOT_FOUND']);
  const officer = await harness.get(`/v1/audit/records/1/answer`, { token: police() });
  expect(officer.statusCode).toBe(403);
});

it('names each event that is gone, and why, once its topic was deleted and created again', async () => {
  const [vehicleSeq] = [...seen].find(([, s]) => s.name === 'vehicle') ?? [];
  await harness.sharing.stop();
  const topic = harness.sharing.topics.vehicle;
  await recreateTopic(harness.sharing.kafka, topic);
  const response = await reconstruct(vehicleSeq as number);
  expect(response.statusCode).toBe(200);
  const answer = response.json();
  expect(answer).toMatchObject({
    complete: false,
    body: null,
    digest: { matches: false, reconstructed: null },
  });
  expect(answer.misses.length).toBeGreaterThan(0);
  for (const miss of answer.misses) {
    expect(miss).toMatchObject({
      code: 'EVENT_NOT_FOUND',
      reason: expect.stringMatching(/partition ends before it/),
      event: { topic },
    });
  }
  expect(answer.events.filter((e: { found: boolean }) => !e.found)).toHaveLength(answer.misses.length);
}, 60_000);
