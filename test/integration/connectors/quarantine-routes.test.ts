import { buildConnectorApp, type ConnectorAppOptions } from '../../../connectors/runtime/app';
import { type RecordOutcome } from '../../../connectors/runtime/ingest';
import { type QuarantineResolution } from '../../../connectors/runtime/quarantine';
import { createQuarantineIndex, quarantineId } from '../../../connectors/runtime/quarantine-index';
import { taxConnector } from '../../../connectors/tax/index';
import { createLogger } from '../../../services/platform/logger';
import { type RedriveLogEntry } from '../../../services/platform/redrive-log';

const AGENCY = taxConnector.agency;
const at = { topic: 'tax.quarantine', partition: 0, offset: '4' };
const id = quarantineId(at);

/**
 * The connector app with its Kafka side replaced (an index, a follower and a writer in memory), on a
 * real port: what the stack cannot show at will, a quarantine not read yet, and what a resend records.
 */
async function appWith(options: { loaded: boolean; outcome?: RecordOutcome }) {
  const index = createQuarantineIndex({ maxRecords: 10 });
  index.add(at, {
    agency: AGENCY,
    source: 'http',
    topic: 'tax',
    record: { mst: '0100000004' },
    issues: [{ path: '$.mst', code: 'INVALID_TAX_CODE', message: 'Bad check digit' }],
    receivedAt: '2026-12-02T07:00:00.000Z',
  });
  const written: [QuarantineResolution, RedriveLogEntry][] = [];
  const app = await buildConnectorApp({
    definition: taxConnector,
    ingest: {
      refuse: async () => undefined,
      ingest: async () => [options.outcome ?? { index: 0, status: 'rejected', errors: [] }],
    } as unknown as ConnectorAppOptions['ingest'],
    imports: {} as ConnectorAppOptions['imports'],
    quarantine: {
      index,
      follower: { caughtUp: async () => options.loaded },
      writer: {
        resolve: async (resolution, log) => {
          written.push([resolution, log]);
        },
      },
    },
    authenticate: (presented) =>
      presented.apiKey === 'tax-key' ? { clientId: 'tax-desk-1', role: 'agency', agency: AGENCY } : undefined,
    logger: createLogger({ name: 'unit', level: 'silent' }),
    limits: { bodyLimit: 64 * 1024, maxRecords: 10, importLimit: 64 * 1024 },
    ready: () => true,
    clock: () => Date.parse('2026-12-02T07:05:00Z'),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, written, url };
}

const headers = { 'x-api-key': 'tax-key', 'content-type': 'application/json' };

describe('the quarantine routes', () => {
  it('answer 503 QUARANTINE_LOADING with Retry-After until the topic is read, and resend nothing', async () => {
    const { app, written, url: base } = await appWith({ loaded: false });
    for (const [method, url] of [
      ['GET', '/v1/quarantine'],
      ['GET', `/v1/quarantine/${id}`],
      ['POST', `/v1/quarantine/${id}/resend`],
    ] as const) {
      const answer = await fetch(`${base}${url}`, {
        method,
        headers,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect([url, answer.status, answer.headers.get('retry-after')]).toEqual([url, 503, '5']);
      expect(await answer.json()).toMatchObject({ code: 'QUARANTINE_LOADING' });
    }
    expect(written).toEqual([]);
    await app.close();
  });

  it('record an accepted resend as resent, by its client, with the event it became', async () => {
    const {
      app,
      written,
      url: base,
    } = await appWith({
      loaded: true,
      outcome: { index: 0, status: 'accepted', eventId: 'e-1', topic: 'tax', partition: 3, offset: '17' },
    });
    const answer = await fetch(`${base}/v1/quarantine/${id}/resend`, { method: 'POST', headers, body: '{}' });
    expect(answer.status).toBe(200);
    expect(written).toEqual([
      [
        { id, state: 'resent', at: '2026-12-02T07:05:00.000Z', by: 'tax-desk-1', eventId: 'e-1' },
        {
          action: 'resend',
          at: '2026-12-02T07:05:00.000Z',
          actor: { kind: 'agency', id: 'tax-desk-1' },
          agency: AGENCY,
          subject: { quarantineId: id },
          outcome: 'accepted',
          target: { topic: 'tax', partition: 3, offset: '17', eventId: 'e-1' },
        },
      ],
    ]);
    await app.close();
  });
});
