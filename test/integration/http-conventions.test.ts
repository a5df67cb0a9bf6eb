import { taxConnector } from '../../connectors/tax/index';
import { createAuthenticator, generateCredentials } from '../../services/platform/credentials';
import { connectorHarness } from '../support/connector';
import { consoleHarness } from '../support/console';
import { lookupHarness } from '../support/lookup';
import { registryHarness } from '../support/registry';
import { subscriptionsHarness } from '../support/subscriptions';

/** One answer, with its headers and its body parsed when it is JSON. */
interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function ask(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, headers: response.headers, body };
}

/** A problem+json answer with this status and code. */
function expectProblem(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body.code }).toEqual({ status, code });
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status, type: `urn:lienthong:problem:${code.toLowerCase()}` });
}

const basic = (user: string, password: string): string =>
  Buffer.from(`${user}:${password}`).toString('base64');

// Longer than any service routes as one path parameter (the lookup's 2,048 is the most).
const OVERLONG = 'A'.repeat(3_000);

describe('HTTP conventions on every service, on the real stack', () => {
  const registries = registryHarness();
  const connector = connectorHarness(taxConnector);
  const lookup = lookupHarness();
  let registryUrl: string;
  let connectorUrl: string;
  let lookupUrl: string;
  let sharingUrl: string;
  const answers: Answer[] = [];
  const record = async (answer: Promise<Answer>): Promise<Answer> => {
    const settled = await answer;
    answers.push(settled);
    return settled;
  };

  beforeAll(async () => {
    registryUrl = (await registries.start()).url();
    connectorUrl = (await connector.start()).url();
    await lookup.setUp();
    lookupUrl = lookup.lookup().url();
    sharingUrl = lookup.sharing.service().url();
  }, 120_000);

  afterAll(async () => {
    await lookup.tearDown();
    await connector.dispose();
    await registries.stopAll();
  });

  afterAll(() => {
    // Not one of the refusals above was a server error.
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
  });

  describe('the schema registry', () => {
    const reader = (): Record<string, string> => ({
      authorization: `basic ${basic('reader', registries.keys.reader)}`,
    });

    it('takes the Basic scheme in any case', async () => {
      const answer = await record(ask(registryUrl, '/subjects', { headers: reader() }));
      expect(answer.status).toBe(200);
      const upper = await record(
        ask(registryUrl, '/subjects', {
          headers: { authorization: `BASIC ${basic('reader', registries.keys.reader)}` },
        }),
      );
      expect(upper.status).toBe(200);
    });

    it("answers a wrong method with 405, Allow and Confluent's error_code", async () => {
      const answer = await record(ask(registryUrl, '/subjects', { method: 'PUT', headers: reader() }));
      expectProblem(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.get('allow')).toBe('GET, HEAD');
      expect(answer.body).toMatchObject({ error_code: 405 });
    });

    it('answers framework refusals in its own format', async () => {
      const badUrl = await record(ask(registryUrl, '/subjects/%ZZ/versions', { headers: reader() }));
      expectProblem(badUrl, 400, 'MALFORMED_REQUEST');
      expect(badUrl.body).toMatchObject({ error_code: 400 });

      const overlong = await record(
        ask(registryUrl, `/subjects/${OVERLONG}/versions`, { headers: reader() }),
      );
      expectProblem(overlong, 414, 'URI_TOO_LONG');
      expect(overlong.body).toMatchObject({ error_code: 414 });

      // A registration as the operator, in a media type the registry does not consume.
      const register = (contentType: string, body: string): Promise<Answer> =>
        record(
          ask(registryUrl, '/subjects/x-value/versions', {
            method: 'POST',
            headers: {
              ...reader(),
              authorization: `Basic ${basic('operator', registries.keys.operator)}`,
              'content-type': contentType,
            },
            body,
          }),
        );
      const media = await register('application/xml', '<schema/>');
      expectProblem(media, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(media.body).toMatchObject({ error_code: 415 });
      // Confluent's server consumes JSON and octet-stream only, so plain text is a 415 as well.
      const text = await register('text/plain', '{"schema":"\\"string\\""}');
      expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('keeps unknown paths a 404 problem', async () => {
      expectProblem(
        await record(ask(registryUrl, '/nowhere', { headers: reader() })),
        404,
        'ROUTE_NOT_FOUND',
      );
    });
  });

  describe('a connector', () => {
    const agency = (): Record<string, string> => {
      const [id, key] = connector.apiKey.split('.') as [string, string];
      return { authorization: `basic ${basic(id, key)}` };
    };
    const unknownImport = '/v1/imports/00000000-0000-0000-0000-000000000000';

    it('takes the Basic scheme in any case', async () => {
      const answer = await record(ask(connectorUrl, unknownImport, { headers: agency() }));
      expectProblem(answer, 404, 'IMPORT_NOT_FOUND');
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const records = await record(ask(connectorUrl, '/v1/records', { method: 'GET', headers: agency() }));
      expectProblem(records, 405, 'METHOD_NOT_ALLOWED');
      expect(records.headers.get('allow')).toBe('POST');
      const one = await record(ask(connectorUrl, unknownImport, { method: 'DELETE', headers: agency() }));
      expectProblem(one, 405, 'METHOD_NOT_ALLOWED');
      expect(one.headers.get('allow')).toBe('GET, HEAD');
    });

    it('answers framework refusals as problems with stable codes', async () => {
      expectProblem(
        await record(ask(connectorUrl, '/v1/imports/%ZZ', { headers: agency() })),
        400,
        'MALFORMED_URL',
      );
      expectProblem(
        await record(ask(connectorUrl, `/v1/imports/${OVERLONG}`, { headers: agency() })),
        414,
        'URI_TOO_LONG',
      );
      expectProblem(
        await record(
          ask(connectorUrl, '/v1/records', {
            method: 'POST',
            headers: { ...agency(), 'content-type': 'text/plain' },
            body: '[]',
          }),
        ),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectProblem(
        await record(
          ask(connectorUrl, '/v1/records', {
            method: 'POST',
            headers: { ...agency(), 'content-type': 'application/json' },
            body: '[{',
          }),
        ),
        400,
        'MALFORMED_JSON',
      );
    });

    it('authenticates before it routes: a stranger learns nothing of the paths', async () => {
      expectProblem(await record(ask(connectorUrl, '/v1/records', { method: 'GET' })), 401, 'UNAUTHORIZED');
    });
  });

  describe('the lookup service', () => {
    const auditor = (scheme: string): Record<string, string> => ({
      authorization: `${scheme} ${lookup.token('auditor', 'TT-01', 'HN-TTRA')}`,
    });

    it('takes the Bearer scheme in any case', async () => {
      for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
        const answer = await record(ask(lookupUrl, '/v1/audit/verify', { headers: auditor(scheme) }));
        expect({ scheme, status: answer.status }).toEqual({ scheme, status: 200 });
      }
    });

    it('answers a wrong method with 405 and Allow, audited', async () => {
      const answer = await record(
        ask(lookupUrl, '/v1/citizens/001099000001', { method: 'DELETE', headers: auditor('bearer') }),
      );
      expectProblem(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.get('allow')).toBe('GET, HEAD');
      expect(answer.headers.get('x-audit-record')).toMatch(/^[0-9]+$/);
    });

    it('answers and audits framework refusals like any other answer', async () => {
      const cases = [
        { path: '/v1/citizens/%ZZ', status: 400, code: 'MALFORMED_URL' },
        { path: `/v1/citizens/${OVERLONG}`, status: 414, code: 'URI_TOO_LONG' },
      ];
      const seqs: number[] = [];
      for (const { path, status, code } of cases) {
        const answer = await record(ask(lookupUrl, path, { headers: auditor('bearer') }));
        expectProblem(answer, status, code);
        seqs.push(Number(answer.headers.get('x-audit-record')));
      }
      // The audit trail holds each refusal with its code as the reason.
      const page = await record(
        ask(lookupUrl, `/v1/audit/records?limit=200`, { headers: auditor('Bearer') }),
      );
      const records = (page.body.records ?? []) as { seq: number; reason: string; result: string }[];
      const reasons = seqs.map((seq) => records.find((r) => r.seq === seq));
      expect(reasons.map((r) => r && { reason: r.reason, result: r.result })).toEqual([
        { reason: 'MALFORMED_URL', result: 'invalid' },
        { reason: 'URI_TOO_LONG', result: 'invalid' },
      ]);
    });

    it('keeps unknown paths a 404 problem', async () => {
      expectProblem(
        await record(ask(lookupUrl, '/v2/nowhere', { headers: auditor('bearer') })),
        404,
        'ROUTE_NOT_FOUND',
      );
    });
  });

  describe('the subscriptions service', () => {
    // No agreement: the conventions need no derivation running, only the API.
    const subscriptions = subscriptionsHarness([]);
    const { entries, keys } = generateCredentials([
      { id: 'tax-system', role: 'agency', agency: 'HN-CUCTHUE' },
    ]);
    let url: string;
    const agency = (scheme: string): Record<string, string> => ({
      authorization: `${scheme} ${basic('tax-system', keys['tax-system'] as string)}`,
    });

    beforeAll(async () => {
      url = (await subscriptions.start(Date.now, [], { authenticate: createAuthenticator(entries) })).url();
    });
    afterAll(() => subscriptions.tearDown());

    it('takes the Basic scheme in any case, and the X-API-Key', async () => {
      for (const headers of [
        agency('basic'),
        agency('BASIC'),
        { 'x-api-key': `tax-system.${keys['tax-system']}` },
      ]) {
        // Past the credential: no such subscription for this agency.
        expectProblem(
          await record(ask(url, '/v1/subscriptions/tax-enterprises/deliveries', { headers })),
          404,
          'NOT_FOUND',
        );
      }
      const stranger = await record(ask(url, '/v1/subscriptions/tax-enterprises/deliveries'));
      expectProblem(stranger, 401, 'UNAUTHORIZED');
      expect(stranger.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const answer = await record(
        ask(url, '/v1/feeds/tax-new-enterprises', { method: 'DELETE', headers: agency('basic') }),
      );
      expectProblem(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.get('allow')).toBe('GET, HEAD');
    });

    it('answers framework refusals and bad parameters as problems with stable codes', async () => {
      const headers = agency('Basic');
      expectProblem(await record(ask(url, '/v1/feeds/%ZZ', { headers })), 400, 'MALFORMED_URL');
      expectProblem(await record(ask(url, `/v1/feeds/${OVERLONG}`, { headers })), 414, 'URI_TOO_LONG');
      const limit = await record(ask(url, '/v1/feeds/tax-new-enterprises?limit=0&cursor=1', { headers }));
      expectProblem(limit, 400, 'INVALID_REQUEST');
      expect(limit.body.errors).toEqual([
        { path: 'querystring.cursor', message: 'must NOT have additional properties' },
        { path: 'querystring.limit', message: 'must be >= 1' },
      ]);
      // No route takes a body, so neither a media type nor a size is refused: a body of any kind
      // is left unread, and the method (405) or the path (404) answers.
      const post = (path: string): Promise<Answer> =>
        record(
          ask(url, path, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/xml' },
            body: `<feed>${'x'.repeat(4_096)}</feed>`,
          }),
        );
      expectProblem(await post('/v1/feeds/tax-new-enterprises'), 405, 'METHOD_NOT_ALLOWED');
      expectProblem(await post('/v1/nowhere'), 404, 'ROUTE_NOT_FOUND');
    });

    it('describes its API in OpenAPI, the operations endpoints without a credential', async () => {
      const answer = await record(ask(url, '/openapi.json'));
      const paths = answer.body.paths as Record<string, { get: { security?: unknown[] } }>;
      expect(Object.keys(paths).sort()).toEqual([
        '/healthz',
        '/metrics',
        '/readyz',
        '/v1/feeds/{agreement}',
        '/v1/subscriptions/{id}/deliveries',
        '/v1/subscriptions/{id}/redrive',
      ]);
      expect(answer.body.security).toEqual([{ apiKey: [] }, { basic: [] }]);
    });

    it('keeps unknown paths a 404 problem, and authenticates before it routes', async () => {
      expectProblem(
        await record(ask(url, '/v1/nowhere', { headers: agency('bearer') })),
        401,
        'UNAUTHORIZED',
      );
      expectProblem(
        await record(ask(url, '/v1/nowhere', { headers: agency('basic') })),
        404,
        'ROUTE_NOT_FOUND',
      );
      expectProblem(await record(ask(url, '/v1/feeds/x', { method: 'DELETE' })), 401, 'UNAUTHORIZED');
      // The operations endpoints are open, and so is the 405 on their paths.
      const probe = await record(ask(url, '/healthz', { method: 'POST' }));
      expectProblem(probe, 405, 'METHOD_NOT_ALLOWED');
      expect(probe.headers.get('allow')).toBe('GET, HEAD');
    });
  });

  describe("the console's server", () => {
    const consoleServer = consoleHarness();
    let url: string;

    beforeAll(async () => {
      url = await consoleServer.start(
        { lookup: lookupUrl, registry: registryUrl, sharing: sharingUrl, connectors: { tax: connectorUrl } },
        lookup.tokenSigningKey,
      );
    });
    afterAll(() => consoleServer.stop());

    it('passes the Bearer scheme in any case on to the service behind it', async () => {
      for (const scheme of ['bearer', 'BEARER']) {
        const answer = await record(
          ask(url, '/api/lookup/v1/audit/verify', {
            headers: { authorization: `${scheme} ${lookup.token('auditor', 'TT-01', 'HN-TTRA')}` },
          }),
        );
        expect({ scheme, status: answer.status }).toEqual({ scheme, status: 200 });
      }
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const signIn = await record(ask(url, '/console/dev/sign-in'));
      expectProblem(signIn, 405, 'METHOD_NOT_ALLOWED');
      expect(signIn.headers.get('allow')).toBe('POST');
      const settings = await record(ask(url, '/console/config.json', { method: 'PUT' }));
      expectProblem(settings, 405, 'METHOD_NOT_ALLOWED');
      expect(settings.headers.get('allow')).toBe('GET, HEAD');
      const passed = await record(ask(url, '/api/lookup/v1/audit/verify', { method: 'DELETE' }));
      expectProblem(passed, 405, 'METHOD_NOT_ALLOWED');
      expect(passed.headers.get('allow')).toBe('GET, HEAD, POST');
    });

    it('answers framework refusals as problems with stable codes', async () => {
      expectProblem(await record(ask(url, '/api/connectors/%ZZ/v1/records')), 400, 'MALFORMED_URL');
      expectProblem(await record(ask(url, `/api/connectors/${OVERLONG}/v1/records`)), 414, 'URI_TOO_LONG');
      const signIn = (contentType: string, body: string): Promise<Answer> =>
        record(
          ask(url, '/console/dev/sign-in', {
            method: 'POST',
            headers: { 'content-type': contentType },
            body,
          }),
        );
      expectProblem(await signIn('application/xml', '<auditor/>'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectProblem(
        await signIn('application/json', JSON.stringify({ pad: 'x'.repeat(17_000) })),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      expectProblem(await signIn('application/json', '{"role":'), 400, 'MALFORMED_JSON');
      const bad = await signIn('application/json', JSON.stringify({ role: 'mayor', sub: 'TT-01' }));
      expectProblem(bad, 400, 'INVALID_REQUEST');
      expect(bad.body.errors).toEqual([
        { path: 'body.role', message: 'must be equal to one of the allowed values' },
      ]);
    });

    it('keeps unknown paths a 404 problem', async () => {
      expectProblem(await record(ask(url, '/console/nowhere')), 404, 'ROUTE_NOT_FOUND');
      expectProblem(await record(ask(url, '/api/nowhere/v1/x')), 404, 'ROUTE_NOT_FOUND');
    });
  });

  describe("the sharing service's operations server", () => {
    it('answers a wrong method with 405 and Allow', async () => {
      const answer = await record(ask(sharingUrl, '/healthz', { method: 'POST' }));
      expectProblem(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.get('allow')).toBe('GET, HEAD');
    });

    it('answers unknown paths as problems', async () => {
      expectProblem(await record(ask(sharingUrl, '/nowhere')), 404, 'ROUTE_NOT_FOUND');
    });

    it('describes itself in OpenAPI', async () => {
      const answer = await record(ask(sharingUrl, '/openapi.json'));
      expect(Object.keys(answer.body.paths as object).sort()).toEqual(['/healthz', '/metrics', '/readyz']);
    });
  });
});
