import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { createDemoReceiver } from '../../../deploy/local/demo-receiver';
import { LocalFerretDb } from '../../../deploy/local/local-ferretdb';
import { type AuditRecord } from '../../../services/lookup/audit-chain';
import { AUDIT_RECORDS } from '../../../services/lookup/audit-trail';
import { createLogger } from '../../../services/platform/logger';
import { createAuthenticator, generateCredentials } from '../../../services/platform/credentials';
import { createMongoClient } from '../../../services/platform/mongo';
import { webhookEndpoints } from '../../../services/subscriptions/endpoints';
import { newWebhookSecret } from '../../../services/subscriptions/webhook-signature';
import { endpoint, freePort, scratchDir } from '../../support/fixtures';
import { lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { STORY } from '../../support/story';
import { agreementEntry, subscriptionsHarness } from '../../support/subscriptions';
import { eventOf } from '../../unit/sharing/events';

/** The two agreements of the demo, as agreements.json declares them. */
const ENTRIES = [
  agreementEntry({
    id: 'tax-new-enterprises',
    purpose: 'The tax department registers every new enterprise as a taxpayer',
    sources: [
      {
        topic: 'business-registration',
        events: {
          EnterpriseRegistered: {
            enterpriseCode: 'clear',
            name: 'clear',
            legalRepresentativeCitizenId: 'clear',
          },
          EnterpriseStatusChanged: { enterpriseCode: 'clear', status: 'clear' },
        },
      },
    ],
  }),
  agreementEntry({
    id: 'tax-vehicle-transfers',
    purpose: 'The tax department assesses the registration fee on the new owner',
    sources: [
      {
        topic: 'vehicle',
        events: { OwnershipTransferred: { plate: 'clear', newOwner: 'clear', previousOwner: 'last4' } },
      },
    ],
  }),
];

const lookup = lookupHarness();
const subscriptions = subscriptionsHarness(ENTRIES, lookup.sharing);
const events = lookupStoryEvents();
const delivered = events.filter((e) =>
  ['EnterpriseRegistered', 'EnterpriseStatusChanged', 'OwnershipTransferred'].includes(e.event.eventType),
);
const auditor = () => lookup.token('auditor', 'TT-0001', 'HN-TTRA');
const secret = newWebhookSecret();
// The tax department's system, down at first: its webhooks are dead-lettered after two tries.
const receiver = createDemoReceiver({ secrets: [secret] });
const { entries, keys } = generateCredentials([
  { id: 'ops', role: 'operator' },
  { id: 'tax-system', role: 'agency', agency: 'HN-CUCTHUE' },
]);
let receiverUrl = '';
let receiverPort = 0;

/** The service's overrides: the webhook to the receiver, the operator's key, and `mongo` on `dbName`. */
function overrides(mongo: MongoClient, dbName: string) {
  return {
    mongo,
    dbName,
    endpoints: webhookEndpoints(
      {
        endpoints: [
          { id: 'tax-enterprises', agreement: 'tax-new-enterprises', url: receiverUrl, secrets: [secret] },
        ],
      },
      subscriptions.agreements(),
    ),
    webhookPolicy: { backoff: { initialMs: 20, maxMs: 40 }, maxAttempts: 2, timeoutMs: 1_000 },
    authenticate: createAuthenticator(entries),
  };
}

/** The trail's delivery records, once there are `count`. */
async function deliveryRecords(count: number): Promise<AuditRecord[]> {
  const trail = lookup.sharing.db().collection<AuditRecord>(AUDIT_RECORDS);
  for (let i = 0; ; i += 1) {
    const found = await trail.find({ 'actor.role': 'agency-system' }).sort({ seq: 1 }).toArray();
    if (found.length >= count) return found;
    if (i > 300) throw new Error(`the trail holds ${found.length} of ${count} deliveries`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await lookup.setUp();
  await subscriptions.setUp();
  receiverPort = await freePort();
  receiverUrl = `http://127.0.0.1:${receiverPort}/webhooks/lienthong`;
  await subscriptions.start(
    Date.now,
    subscriptions.agreements(),
    overrides(
      createMongoClient({
        uri: endpoint('MONGODB_URI'),
        appName: 'it-subscriptions',
        logger: createLogger({ name: 'it', level: 'silent' }),
      }),
      lookup.sharing.dbName,
    ),
  );
  await lookup.sharing.publish(events);
  await lookup.sharing.waitForEvents(events.length);
});

afterAll(async () => {
  await receiver.stop();
  await subscriptions.tearDown();
  await lookup.tearDown();
});

describe('deliveries under sharing agreements in the audit trail', () => {
  it('chains each derived event as a data flow, with the agreement and its version, beside the lookups', async () => {
    // The two agreements' topics are derived side by side: which delivery the trail holds first
    // is not fixed, so the registration's is found by its agreement.
    const first = (await deliveryRecords(delivered.length)).find(
      (record) => record.flow?.agreementId === 'tax-new-enterprises',
    );
    // A lookup after the deliveries: the lookup service chains after the other writer's records.
    const read = await lookup.get(`/v1/citizens/${STORY.buyer}`, {
      token: lookup.officer('HN-PC08'),
      dossier: OPEN_DOSSIERS.transfer.id,
    });
    expect(read.statusCode).toBe(200);
    expect(Number(read.headers['x-audit-record'])).toBeGreaterThan(delivered.length);
    const agreements = new Map(subscriptions.agreements().map((a) => [a.id, a]));
    const registration = agreements.get('tax-new-enterprises');
    expect(first).toMatchObject({
      action: 'DELIVER agreement',
      actor: { agency: 'HN-CUCTHUE', role: 'agency-system' },
      subject: { view: 'enterprises', id: STORY.enterprise },
      sources: ['HN-DKKD'],
      policyVersion: registration?.version,
      flow: {
        agreementId: 'tax-new-enterprises',
        agreementVersion: registration?.version,
        purpose: registration?.purpose,
        eventType: 'EnterpriseRegistered',
      },
      citizenIds: [STORY.founder],
      exposures: [
        {
          citizenId: STORY.founder,
          as: 'legal-representative',
          fields: ['business-registration.EnterpriseRegistered.legalRepresentativeCitizenId'],
          mask: 'clear',
        },
      ],
    });
    // A status change after the lookup, from the subscriptions service again: one line still.
    await lookup.sharing.publish([
      {
        topic: 'business-registration',
        key: STORY.enterprise,
        event: eventOf(
          'EnterpriseStatusChanged',
          {
            record: `DN-${STORY.enterprise}`,
            version: 50,
            occurredAt: Date.UTC(2026, 10, 1),
            subjects: { enterpriseCodes: [STORY.enterprise] },
          },
          {
            enterpriseCode: STORY.enterprise,
            status: 'SUSPENDED',
            effectiveAt: Date.UTC(2026, 10, 1),
            reason: null,
          },
        ),
      },
    ]);
    const all = await deliveryRecords(delivered.length + 1);
    expect(all.at(-1)?.seq).toBeGreaterThan(Number(read.headers['x-audit-record']));
    const verify = await lookup.get('/v1/audit/verify?full=true', { token: auditor() });
    expect(verify.json()).toMatchObject({ ok: true, breaches: [], fromSeq: 1 });
    expect(verify.json().lastSeq).toBeGreaterThanOrEqual(delivered.length + 2);
  });

  it("shows the deliveries in the auditors' flows, consumer agency's system against source agency", async () => {
    const response = await lookup.get('/v1/audit/flows?period=day', { token: auditor() });
    expect(response.statusCode).toBe(200);
    const flows = response.json().flows as {
      readerAgency: string;
      sourceAgency: string;
      lookups: number;
      deliveries: number;
    }[];
    const tax = flows.filter((f) => f.readerAgency === 'HN-CUCTHUE');
    const total = (source: string) =>
      tax.filter((f) => f.sourceAgency === source).reduce((n, f) => n + f.deliveries, 0);
    expect(total('HN-DKKD')).toBe(delivered.filter((e) => e.topic === 'business-registration').length + 1);
    expect(total('HN-PC08')).toBe(delivered.filter((e) => e.topic === 'vehicle').length);
    expect(flows.find((f) => f.readerAgency === 'HN-PC08')).toMatchObject({ lookups: 1, deliveries: 0 });
  });

  it("names the agency, the agreement, its purpose and the kinds of data in the citizen's access log", async () => {
    const founder = await lookup.get(`/v1/citizens/${STORY.founder}/access-log`, {
      token: lookup.token('citizen', STORY.founder),
    });
    expect(founder.statusCode).toBe(200);
    const registration = (founder.json().accesses as Record<string, unknown>[]).find(
      (a) => (a.agreement as { id?: string } | undefined)?.id === 'tax-new-enterprises',
    );
    expect(registration).toMatchObject({
      role: 'agency-system',
      agency: 'HN-CUCTHUE',
      seenAs: [{ as: 'legal-representative', mask: 'clear' }],
      agreement: { purpose: 'The tax department registers every new enterprise as a taxpayer' },
    });
    expect(registration?.description).toMatch(
      /^The system of HN-CUCTHUE received your enterprise registration record \(enterprise \d{10}\) from HN-DKKD \(EnterpriseRegistered: enterpriseCode, legalRepresentativeCitizenId, name\) under sharing agreement tax-new-enterprises \(version [0-9a-f]{12}\) on .* \(Hà Nội time\), for: The tax department registers/,
    );
    // The buyer, as the new owner; the enterprise that sold, by its last four digits, is no citizen.
    const buyer = await lookup.get(`/v1/citizens/${STORY.buyer}/access-log`, {
      token: lookup.token('citizen', STORY.buyer),
    });
    const transfer = (buyer.json().accesses as Record<string, unknown>[]).find(
      (a) => (a.agreement as { id?: string } | undefined)?.id === 'tax-vehicle-transfers',
    );
    expect(transfer).toMatchObject({ seenAs: [{ as: 'owner', mask: 'clear' }] });
    expect(transfer?.description).toContain('previousOwner (last4)');
  });
});

describe("an operator's redrive of a webhook subscription's dead letters", () => {
  const redrive = (query: string, key = `ops.${keys.ops}`) =>
    fetch(`${subscriptions.service().url()}/v1/subscriptions/tax-enterprises/redrive?${query}`, {
      method: 'POST',
      headers: { 'x-api-key': key },
    });

  it('sends them again once the endpoint is back, audited as an operator action, and holds one redriven too often', async () => {
    const registrations = delivered.filter((e) => e.topic === 'business-registration').length + 1;
    const service = () => subscriptions.service();
    for (let i = 0; (service().webhookStats()['tax-enterprises']?.dead ?? 0) < registrations; i += 1) {
      if (i > 300) throw new Error('the webhooks were never dead-lettered');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The consumer agency's system may not redrive; a plan sends nothing.
    expect((await redrive('', `tax-system.${keys['tax-system']}`)).status).toBe(403);
    const plan = await redrive('dryRun=true');
    expect(plan.status).toBe(200);
    const planned = (await plan.json()) as { deadLetters: { outcome: string }[]; auditSeq: number };
    expect(planned.deadLetters.map((d) => d.outcome)).toEqual(Array(registrations).fill('planned'));
    expect(receiver.events()).toHaveLength(0);
    // Still down: each fails once more; then up: delivered, with the ids the receiver applies once.
    const failed = (await (await redrive('maxRedrives=2')).json()) as { deadLetters: { outcome: string }[] };
    expect(failed.deadLetters.map((d) => d.outcome)).toEqual(Array(registrations).fill('failed'));
    // Redriven once each: with a limit of one, every one is held and nothing is sent.
    const held = (await (await redrive('maxRedrives=1')).json()) as { deadLetters: { outcome: string }[] };
    expect(held.deadLetters.map((d) => d.outcome)).toEqual(Array(registrations).fill('held'));
    await receiver.start(receiverPort);
    expect(receiver.events()).toHaveLength(0);
    const answer = await redrive('maxRedrives=2');
    const sent = (await answer.json()) as {
      auditSeq: number;
      deadLetters: { eventId: string; outcome: string; redrives: number }[];
    };
    expect(sent.deadLetters.map((d) => [d.outcome, d.redrives])).toEqual(
      Array(registrations).fill(['delivered', 2]),
    );
    expect(
      receiver
        .events()
        .map((e) => e.id)
        .sort(),
    ).toEqual(sent.deadLetters.map((d) => d.eventId).sort());
    const record = await lookup.sharing
      .db()
      .collection<AuditRecord>(AUDIT_RECORDS)
      .findOne({ seq: sent.auditSeq });
    expect(record).toMatchObject({
      action: 'POST /v1/subscriptions/:id/redrive',
      actor: { id: 'ops', role: 'operator' },
      redrive: { subscriptionId: 'tax-enterprises', dryRun: false, held: [] },
    });
    expect(record?.redrive?.eventIds.sort()).toEqual(sent.deadLetters.map((d) => d.eventId).sort());
    // Nothing dead any more; the chain holds the operator's actions and verifies.
    expect(((await (await redrive('')).json()) as { deadLetters: unknown[] }).deadLetters).toEqual([]);
    const verify = await lookup.get('/v1/audit/verify?full=true', { token: auditor() });
    expect(verify.json()).toMatchObject({ ok: true, breaches: [] });
  });
});

describe('with its store stopped', () => {
  const scratch = scratchDir('subscriptions-store');
  let store: LocalFerretDb | undefined;
  afterAll(async () => {
    await subscriptions.stop();
    await store?.stop();
    scratch.remove();
  });

  it('answers 503 problems, never 500, on the deliveries and the redrive', async () => {
    store = new LocalFerretDb({
      stateDir: join(scratch.path, 'ferretdb'),
      port: await freePort(),
      progress: () => undefined,
    });
    await store.start();
    await store.waitReady();
    await subscriptions.stop();
    // After every agreement's expiry, so that no derivation or webhook starts: the routes alone.
    await subscriptions.start(
      () => Date.UTC(2045, 0, 1),
      subscriptions.agreements(),
      overrides(new MongoClient(store.uri, { serverSelectionTimeoutMS: 1_000 }), 'outage'),
    );
    await store.kill();
    const url = subscriptions.service().url();
    const key = { 'x-api-key': `ops.${keys.ops}` };
    for (const [method, path] of [
      ['GET', '/v1/subscriptions/tax-enterprises/deliveries'],
      ['POST', '/v1/subscriptions/tax-enterprises/redrive'],
    ] as const) {
      const answer = await fetch(`${url}${path}`, { method, headers: key });
      expect([path, answer.status]).toEqual([path, 503]);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await answer.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    }
  });
});
