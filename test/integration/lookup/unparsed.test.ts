import { connect } from 'node:net';
import { type AuditRecord, auditId } from '../../../services/lookup/audit-chain';
import { UNPARSED_ACTION } from '../../../services/lookup/app';
import { AUDIT_RECORDS } from '../../../services/lookup/audit-trail';
import { lookupHarness } from '../../support/lookup';

const harness = lookupHarness();

beforeAll(async () => {
  await harness.setUp();
});

afterAll(async () => {
  await harness.tearDown();
});

/** A raw answer: status, headers (lower-case names) and body, read until the server closes. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Sends bytes that no HTTP client library would send, and reads the answer to the end. */
async function sendRaw(text: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(harness.lookup().url());
  const received = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
  const [head = '', ...rest] = received.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const bodyText = rest.join('\r\n\r\n');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bodyText) as Record<string, unknown>;
  } catch {
    body = { raw: bodyText };
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

async function recordOf(answer: RawAnswer): Promise<AuditRecord | null> {
  const seq = Number(answer.headers['x-audit-record']);
  return harness.sharing
    .db()
    .collection<AuditRecord>(AUDIT_RECORDS)
    .findOne({ _id: auditId(seq) });
}

const auditor = (): string => `Authorization: Bearer ${harness.token('auditor', 'TT-01', 'HN-TTRA')}\r\n`;

describe('requests refused before fastify sees them are answered as problems and audited', () => {
  // Each of these is refused by Node's HTTP parser: without the change, Node or fastify answered
  // with its own body, outside the problem format, and nothing reached the audit trail.
  const cases = [
    {
      name: 'headers over the size limit',
      text: () =>
        `GET /v1/audit/verify HTTP/1.1\r\nHost: x\r\n${auditor()}X-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    },
    {
      name: 'a query string over the size limit',
      text: () => `GET /v1/audit/records?${'limit=1&'.repeat(3_000)} HTTP/1.1\r\nHost: x\r\n${auditor()}\r\n`,
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    },
    {
      name: 'a Content-Length that is not a number',
      text: () => `GET /v1/audit/verify HTTP/1.1\r\nHost: x\r\n${auditor()}Content-Length: abc\r\n\r\n`,
      status: 400,
      code: 'INVALID_CONTENT_LENGTH',
    },
    {
      name: 'both Content-Length and Transfer-Encoding (request smuggling)',
      text: () =>
        `GET /v1/audit/verify HTTP/1.1\r\nHost: x\r\n${auditor()}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'a control character in a header',
      text: () => `GET /v1/audit/verify HTTP/1.1\r\nHost: x\r\n${auditor()}Content-Type: a\u0001b\r\n\r\n`,
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'an unknown method',
      text: () => `BREW /v1/audit/verify HTTP/1.1\r\nHost: x\r\n${auditor()}\r\n`,
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
    {
      name: 'a request line that is not HTTP',
      text: () => 'GET\u0000/v1/citizens/001099000001\r\n\r\n',
      status: 400,
      code: 'MALFORMED_REQUEST',
    },
  ];

  it.each(cases)('$name: $status $code', async ({ text, status, code }) => {
    const answer = await sendRaw(text());
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status, code });
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status, type: `urn:lienthong:problem:${code.toLowerCase()}` });
    // Nothing of the request is echoed: it may hold a citizen's identifier.
    expect(JSON.stringify(answer.body)).not.toMatch(/0010990|X-Pad|limit=1/);
    expect(await recordOf(answer)).toMatchObject({
      action: UNPARSED_ACTION,
      actor: null,
      result: 'invalid',
      reason: code,
      status,
    });
  });

  it('refuses an HTTP/1.1 request without Host after reading its token, audited', async () => {
    // Node refused it on its own before, with an empty 400 and no record.
    const answer = await sendRaw(`GET /v1/audit/verify HTTP/1.1\r\n${auditor()}Connection: close\r\n\r\n`);
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 400, code: 'HOST_REQUIRED' });
    expect(answer.body.errors).toEqual([{ path: 'headers.host', message: 'is required' }]);
    expect(await recordOf(answer)).toMatchObject({
      action: 'GET /v1/audit/verify',
      actor: { id: 'TT-01', role: 'auditor' },
      result: 'invalid',
      reason: 'HOST_REQUIRED',
    });
  });
});
