import { taxConnector } from '../../connectors/tax/index';
import { connectorHarness } from '../support/connector';
import { lookupHarness } from '../support/lookup';
import { registryHarness } from '../support/registry';

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
