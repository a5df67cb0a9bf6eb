import { type CommandStartedEvent, MongoClient } from 'mongodb';
import { request } from 'undici';
import { type Answer, lookupHarness } from '../../support/lookup';
import { lookupStoryEvents, OPEN_DOSSIERS } from '../../support/lookup-story';
import { endpoint } from '../../support/fixtures';
import { STORY } from '../../support/story';
import { VIEW_GENERATIONS } from '../../../services/sharing/view-catalog';

/** Every command the lookup service sends to the store, seen through the driver's command monitoring. */
const commands: CommandStartedEvent[] = [];
const harness = lookupHarness({
  mongo: () => {
    const client = new MongoClient(endpoint('MONGODB_URI'), {
      monitorCommands: true,
      serverSelectionTimeoutMS: 2_000,
    });
    client.on('commandStarted', (event) => commands.push(event));
    return client;
  },
});
const events = lookupStoryEvents();
const { transfer } = OPEN_DOSSIERS;
const LONG = 'x'.repeat(4_000);

beforeAll(async () => {
  await harness.setUp();
  await harness.sharing.publish(events);
  await harness.sharing.waitForEvents(events.length);
});

afterAll(async () => {
  await harness.tearDown();
});

/** Hostile requests: each must get a 4xx problem with a code and the path at fault. */
const HOSTILE: {
  name: string;
  url: string;
  dossier?: string;
  role?: 'officer' | 'auditor';
  path?: string;
}[] = [
  { name: '$ne as a citizen id', url: '/v1/citizens/%24ne', path: 'params.id' },
  {
    name: 'an operator object as a citizen id',
    url: `/v1/citizens/${encodeURIComponent('{"$ne":null}')}`,
    path: 'params.id',
  },
  { name: '__proto__ as an enterprise code', url: '/v1/enterprises/__proto__', path: 'params.code' },
  { name: 'constructor as a dossier id', url: '/v1/dossiers/constructor', path: 'params.id' },
  { name: '$where as a plate', url: '/v1/vehicles/%24where', path: 'params.plate' },
  { name: 'an oversized citizen id', url: `/v1/citizens/${'1'.repeat(2_000)}`, path: 'params.id' },
  {
    name: 'a $where query parameter',
    url: `/v1/citizens/${STORY.buyer}?%24where=1`,
    path: 'querystring.$where',
  },
  {
    name: 'a __proto__ query parameter',
    url: `/v1/citizens/${STORY.buyer}?__proto__[admin]=1`,
    path: 'querystring',
  },
  {
    name: 'a constructor.prototype query parameter',
    url: `/v1/citizens/${STORY.buyer}?constructor[prototype][x]=1`,
    path: 'querystring',
  },
  { name: 'an operator in the query', url: `/v1/citizens/${STORY.buyer}?id[%24ne]=x`, path: 'querystring' },
  { name: 'an oversized query value', url: `/v1/citizens/${STORY.buyer}?q=${LONG}`, path: 'querystring' },
  {
    name: 'an operator object as the dossier header',
    url: `/v1/citizens/${STORY.buyer}`,
    dossier: '{"$ne":null}',
    path: 'headers.x-dossier-id',
  },
  {
    name: '$gt as the dossier header',
    url: `/v1/citizens/${STORY.buyer}`,
    dossier: '$gt',
    path: 'headers.x-dossier-id',
  },
  {
    name: '__proto__ as the dossier header',
    url: `/v1/citizens/${STORY.buyer}`,
    dossier: '__proto__',
    path: 'headers.x-dossier-id',
  },
  {
    name: 'an oversized dossier header',
    url: `/v1/citizens/${STORY.buyer}`,
    dossier: LONG,
    path: 'headers.x-dossier-id',
  },
  {
    name: 'an operator in the auditors’ subject filter',
    url: '/v1/audit/records?subjectView=citizens&subjectId[%24ne]=x',
    role: 'auditor',
    path: 'querystring',
  },
  {
    name: 'a $regex officer filter',
    url: '/v1/audit/records?officerId=%24regex',
    role: 'auditor',
    path: 'querystring.officerId',
  },
  {
    name: 'an agency filter object',
    url: '/v1/audit/records?agency[%24regex]=.*',
    role: 'auditor',
    path: 'querystring',
  },
  {
    name: 'a date that is not one',
    url: '/v1/audit/records?from=yesterday',
    role: 'auditor',
    path: 'querystring.from',
  },
  {
    name: 'a subject id of the wrong view',
    url: '/v1/audit/records?subjectView=citizens&subjectId=0108912347',
    role: 'auditor',
    path: 'querystring.subjectId',
  },
  {
    name: 'a page size beyond the limit',
    url: '/v1/audit/records?limit=100000',
    role: 'auditor',
    path: 'querystring.limit',
  },
  {
    name: '$where as a lineage view',
    url: '/v1/audit/lineage/%24where/1',
    role: 'auditor',
    path: 'params.view',
  },
  {
    name: '$ne as a lineage id',
    url: '/v1/audit/lineage/citizens/%24ne',
    role: 'auditor',
    path: 'params.id',
  },
];

describe('hostile input', () => {
  const answers: Answer[] = [];

  beforeAll(async () => {
    commands.length = 0;
    for (const h of HOSTILE) {
      const token =
        h.role === 'auditor' ? harness.token('auditor', 'TT-01', 'HN-TTRA') : harness.officer('HN-PC08');
      answers.push(await harness.get(h.url, { token, dossier: h.dossier ?? transfer.id }));
    }
  });

  it.each(HOSTILE.map((h, i) => [h.name, i] as const))(
    'refuses %s with 400, a code and the path',
    (_name, i) => {
      const answer = answers[i] as Answer;
      const h = HOSTILE[i];
      expect(answer.statusCode).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json().code).toBe('INVALID_REQUEST');
      const paths = (answer.json().errors as { path: string }[]).map((e) => e.path);
      expect(paths.some((p) => p.startsWith(h?.path ?? '?'))).toBe(true);
      expect(Number(answer.headers['x-audit-record'])).toBeGreaterThan(0);
    },
  );

  it('never lets a value from the request become a filter key or an operator', () => {
    const filters = commands.flatMap((c) => {
      const command = c.command as Record<string, unknown>;
      if (c.commandName === 'find') return [command.filter];
      if (c.commandName === 'count' || c.commandName === 'aggregate')
        return [command.query ?? command.pipeline];
      if (c.commandName === 'update' || c.commandName === 'delete')
        return ((command.updates ?? command.deletes) as { q: unknown }[]).map((u) => u.q);
      return [];
    });
    // Hostile input was refused before the store: only the service's own reads may have run.
    for (const filter of filters) {
      for (const [key, value] of walk(filter)) {
        expect(['__proto__', 'constructor', 'prototype']).not.toContain(key);
        if (key.startsWith('$')) expect(['$lt', '$gte', '$in']).toContain(key);
        if (typeof value === 'string') expect(value).not.toMatch(/^\$|__proto__|constructor|xxxx/);
      }
    }
    // The audit inserts carry no hostile text either: refused input is not recorded as a subject.
    const inserted = commands
      .filter((c) => c.commandName === 'insert')
      .flatMap((c) => (c.command as { documents: Record<string, unknown>[] }).documents);
    expect(inserted.length).toBeGreaterThanOrEqual(HOSTILE.length);
    for (const doc of inserted)
      expect(JSON.stringify(doc)).not.toMatch(/\$ne|\$where|\$regex|__proto__|xxxx/);
  });

  it('sends only _id filters for a lookup, as seen on the wire', async () => {
    commands.length = 0;
    const answer = await harness.get(`/v1/citizens/${STORY.buyer}`, {
      token: harness.officer('HN-PC08'),
      dossier: transfer.id,
    });
    expect(answer.statusCode).toBe(200);
    const finds = commands.filter((c) => c.commandName === 'find' && c.command.find !== VIEW_GENERATIONS);
    expect(finds.map((c) => c.command.filter)).toEqual(
      expect.arrayContaining([{ _id: transfer.id }, { _id: STORY.buyer }]),
    );
    for (const c of finds) expect(Object.keys(c.command.filter as object)).toEqual(['_id']);
  });
});

describe('bodies and the API description', () => {
  it('refuses a body on a lookup with 400, audited, without reading it', async () => {
    const response = await request(`${harness.lookup().url()}/v1/citizens/${STORY.buyer}`, {
      method: 'GET',
      headers: {
        authorization: `Bearer ${harness.officer('HN-PC08')}`,
        'x-dossier-id': transfer.id,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ $where: 'sleep(1000)', pad: LONG }),
    });
    const answer = (await response.body.json()) as { code: string };
    expect([response.statusCode, answer.code]).toEqual([400, 'BODY_NOT_ALLOWED']);
    expect(Number(response.headers['x-audit-record'])).toBeGreaterThan(0);
  });

  it('describes every route in OpenAPI, without a token', async () => {
    const response = await harness.get('/openapi.json');
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths as object).sort();
    expect(paths).toEqual([
      '/healthz',
      '/metrics',
      '/readyz',
      '/v1/audit/flows',
      '/v1/audit/lineage/{view}/{id}',
      '/v1/audit/records',
      '/v1/audit/records/{seq}/answer',
      '/v1/audit/verify',
      '/v1/citizens/{id}',
      '/v1/citizens/{id}/access-log',
      '/v1/desk/{dossierId}',
      '/v1/dossiers/{id}',
      '/v1/enterprises/{code}',
      '/v1/vehicles/{plate}',
    ]);
    expect(response.json().components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });
});

/** Every key and value of a filter, at any depth. */
function* walk(node: unknown): Generator<[string, unknown]> {
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    yield [key, value];
    yield* walk(value);
  }
}
