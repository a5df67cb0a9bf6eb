import { createDemoReceiver } from '../../../deploy/local/demo-receiver';
import { generateCredentials } from '../../../services/platform/credentials';
import { createAuthenticator } from '../../../services/platform/credentials';
import { createLogger } from '../../../services/platform/logger';
import { createMongoClient } from '../../../services/platform/mongo';
import { webhookEndpoints } from '../../../services/subscriptions/endpoints';
import { signWebhook, newWebhookSecret } from '../../../services/subscriptions/webhook-signature';
import { endpoint, freePort } from '../../support/fixtures';
import { type StoryEvent } from '../../support/story';
import { agreementEntry, subscriptionsHarness } from '../../support/subscriptions';
import { eventOf } from '../../unit/sharing/events';

const ENTERPRISES = 40;
const STATUSES = ['SUSPENDED', 'OPERATING', 'DISSOLVING'] as const;
const T = Date.UTC(2026, 5, 1);
const REPRESENTATIVE = '001089012345';
const DAY_MS = 86_400_000;

/** Each enterprise registered, then its status changed three times: four events a key, in order. */
function load(): StoryEvent[] {
  const events: StoryEvent[] = [];
  for (let i = 0; i < ENTERPRISES; i += 1) {
    const code = `01${String(10_000_000 + i)}`;
    events.push({
      topic: 'business-registration',
      key: code,
      event: eventOf(
        'EnterpriseRegistered',
        {
          record: `DN-${code}`,
          version: 1,
          occurredAt: T,
          subjects: { enterpriseCodes: [code], citizenIds: [REPRESENTATIVE] },
        },
        {
          enterpriseCode: code,
          name: `Công ty ${i}`,
          legalForm: 'SINGLE_MEMBER_LLC',
          address: { street: 'Số 1', ward: 'Phường Bồ Đề', district: null, province: 'Thành phố Hà Nội' },
          legalRepresentativeCitizenId: REPRESENTATIVE,
          charterCapital: '1000000000',
          registeredAt: T,
        },
      ),
    });
    STATUSES.forEach((status, s) =>
      events.push({
        topic: 'business-registration',
        key: code,
        event: eventOf(
          'EnterpriseStatusChanged',
          {
            record: `DN-${code}`,
            version: s + 2,
            occurredAt: T + (s + 1) * 60_000,
            subjects: { enterpriseCodes: [code] },
          },
          { enterpriseCode: code, status, effectiveAt: T + (s + 1) * 60_000, reason: null },
        ),
      }),
    );
  }
  return events;
}

describe('signed webhooks under a sharing agreement', () => {
  const harness = subscriptionsHarness([
    agreementEntry({
      id: 'tax-new-enterprises',
      sources: [
        {
          topic: 'business-registration',
          events: {
            EnterpriseRegistered: { enterpriseCode: 'clear', name: 'clear' },
            EnterpriseStatusChanged: { enterpriseCode: 'clear', status: 'clear', effectiveAt: 'clear' },
          },
        },
      ],
    }),
  ]);
  const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
  // The receiver has switched to the new secret; the bus still signs with both while rotating.
  const receiver = createDemoReceiver({ secrets: [newSecret], loseAnswer: (id) => id.endsWith('7') });
  const { entries, keys } = generateCredentials([
    { id: 'tax-system', role: 'agency', agency: 'HN-CUCTHUE' },
    { id: 'vehicle-system', role: 'agency', agency: 'HN-PC08' },
  ]);
  let url = '';
  let port = 0;

  beforeAll(async () => {
    await harness.setUp();
    port = await freePort();
    url = await receiver.start(port);
    await harness.start(Date.now, harness.agreements(), {
      endpoints: webhookEndpoints(
        {
          endpoints: [
            { id: 'tax-enterprises', agreement: 'tax-new-enterprises', url, secrets: [oldSecret, newSecret] },
          ],
        },
        harness.agreements(),
      ),
      mongo: createMongoClient({
        uri: endpoint('MONGODB_URI'),
        appName: 'it-subscriptions',
        logger: createLogger({ name: 'it', level: 'silent' }),
      }),
      dbName: harness.domain.dbName,
      webhookPolicy: { backoff: { initialMs: 50, maxMs: 400 }, maxAttempts: 10_000, timeoutMs: 2_000 },
      authenticate: createAuthenticator(entries),
    });
  });
  afterAll(async () => {
    await receiver.stop();
    await harness.tearDown();
  });

  it('delivers everything sent while the receiver was down, in order per key, each applied once', async () => {
    const service = () => harness.service();
    await receiver.stop();
    const events = load();
    await harness.domain.publish(events);
    // The receiver is down until the bus has met its refusals a while.
    for (let i = 0; (service().webhookStats()['tax-enterprises']?.failedAttempts ?? 0) < 10; i += 1) {
      if (i > 300) throw new Error('the webhooks never failed');
      await new Promise((r) => setTimeout(r, 100));
    }
    await receiver.start(port);
    for (let i = 0; receiver.events().length < events.length; i += 1) {
      if (i > 600) throw new Error(`the receiver has ${receiver.events().length} of ${events.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every event once, whatever was resent: lost answers were repeated and recognised.
    expect(new Set(receiver.events().map((e) => e.id)).size).toBe(events.length);
    expect(receiver.duplicates()).toBeGreaterThan(0);
    // Per key, in the order the source published.
    const byKey = new Map<string, string[]>();
    for (const e of receiver.events())
      byKey.set(e.subject, [...(byKey.get(e.subject) ?? []), String(e.data.status ?? 'REGISTERED')]);
    expect(byKey.size).toBe(ENTERPRISES);
    for (const sequence of byKey.values()) expect(sequence).toEqual(['REGISTERED', ...STATUSES]);
    // Only the allowed fields: not the representative, not the address.
    const registered = receiver.events().find((e) => e.type === 'vn.hanoi.lienthong.EnterpriseRegistered');
    expect(Object.keys(registered?.data ?? {}).sort()).toEqual(['enterpriseCode', 'name']);
  });

  it("answers the consumer agency's system with each delivery's status, and nobody else", async () => {
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${harness.service().url()}${path}`, { headers });
    const answer = await get('/v1/subscriptions/tax-enterprises/deliveries?limit=500', {
      'x-api-key': `tax-system.${keys['tax-system']}`,
    });
    expect(answer.status).toBe(200);
    const { deliveries } = (await answer.json()) as {
      deliveries: { status: string; attempts: number; lastError: string | null }[];
    };
    expect(deliveries.length).toBe(ENTERPRISES * 4);
    expect(deliveries.every((d) => d.status === 'delivered' && d.lastError === null)).toBe(true);
    expect(deliveries.some((d) => d.attempts > 1)).toBe(true);
    const foreign = await get('/v1/subscriptions/tax-enterprises/deliveries', {
      'x-api-key': `vehicle-system.${keys['vehicle-system']}`,
    });
    expect(foreign.status).toBe(404);
    expect((await get('/v1/subscriptions/tax-enterprises/deliveries')).status).toBe(401);
    const badLimit = await get('/v1/subscriptions/tax-enterprises/deliveries?limit=0', {
      'x-api-key': `tax-system.${keys['tax-system']}`,
    });
    expect(badLimit.status).toBe(400);
  });

  it('refuses, at the demo receiver, a bad signature and a replayed timestamp', async () => {
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'forged',
      type: 't',
      subject: 's',
      time: '',
      data: {},
    });
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const now = Math.floor(Date.now() / 1000);
    const forged = await post(signWebhook([newWebhookSecret()], 'forged', now, body));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ code: 'bad-signature' });
    // A request the bus really signed, captured and sent again ten minutes later.
    const replayed = await post(signWebhook([newSecret], 'forged', now - 600, body));
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual({ code: 'timestamp-too-old' });
    expect(receiver.events().some((e) => e.id === 'forged')).toBe(false);
  });

  it('records whose data each delivery carried, for the citizen access log, without sending it', async () => {
    const records = await harness.domain
      .db()
      .collection<{ eventType: string; citizenIds: string[] }>('subscription_deliveries')
      .find({ subscriptionId: 'tax-enterprises' })
      .toArray();
    expect(records).toHaveLength(ENTERPRISES * 4);
    for (const r of records)
      expect(r.citizenIds).toEqual(r.eventType === 'EnterpriseRegistered' ? [REPRESENTATIVE] : []);
    expect(JSON.stringify(receiver.events())).not.toContain(REPRESENTATIVE);
  });

  it('serves the pull feed to the consumer agency, page by page, and waits for the next entry', async () => {
    const key = { 'x-api-key': `tax-system.${keys['tax-system']}` };
    const page = async (query: string, headers: Record<string, string> = key) => {
      const answer = await fetch(`${harness.service().url()}/v1/feeds/tax-new-enterprises?${query}`, {
        headers,
      });
      return {
        status: answer.status,
        body: (await answer.json()) as {
          events: { id: string; subject: string; data: Record<string, unknown> }[];
          next: string;
        },
      };
    };
    const first = await page('limit=100');
    const second = await page(`limit=100&after=${first.body.next}`);
    const all = [...first.body.events, ...second.body.events];
    expect(new Set(all.map((e) => e.id))).toEqual(new Set(receiver.events().map((e) => e.id)));
    const byKey = new Map<string, string[]>();
    for (const e of all)
      byKey.set(e.subject, [...(byKey.get(e.subject) ?? []), String(e.data.status ?? 'REGISTERED')]);
    for (const sequence of byKey.values()) expect(sequence).toEqual(['REGISTERED', ...STATUSES]);
    // Nothing new yet: the request waits, and answers the entry derived meanwhile.
    const waiting = page(`after=${second.body.next}&wait=20`);
    const code = '0110000000';
    await harness.domain.publish([
      {
        topic: 'business-registration',
        key: code,
        event: eventOf(
          'EnterpriseStatusChanged',
          { record: `DN-${code}`, version: 9, occurredAt: T + DAY_MS, subjects: { enterpriseCodes: [code] } },
          { enterpriseCode: code, status: 'OPERATING', effectiveAt: T + DAY_MS, reason: null },
        ),
      },
    ]);
    const next = await waiting;
    expect(next.body.events.map((e) => [e.subject, e.data.status])).toEqual([[code, 'OPERATING']]);
    expect((await page('limit=1', { 'x-api-key': `vehicle-system.${keys['vehicle-system']}` })).status).toBe(
      404,
    );
  });
});
