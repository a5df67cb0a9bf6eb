import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { connectorHarness } from '../../support/connector';
import { scratchDir } from '../../support/fixtures';

/** A CA, and a certificate it signs for `cn` (with 127.0.0.1 as its address when a server). */
function pki(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) => {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    );
  };
  const issue = (caName: string, cn: string, server: boolean) => {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${cn}.key`,
      '-out',
      `${cn}.csr`,
    );
    const ext = join(dir, `${cn}.ext`);
    execFileSync('sh', [
      '-c',
      `printf '%s' '${server ? 'subjectAltName=IP:127.0.0.1' : 'extendedKeyUsage=clientAuth'}' > '${ext}'`,
    ]);
    openssl(
      'x509',
      '-req',
      '-in',
      `${cn}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      `${cn}.crt`,
    );
  };
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return { ca, issue, read };
}

function post(
  url: string,
  body: string,
  tls: { ca: string; cert?: string; key?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/records`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, ...tls },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('a connector over HTTPS with agency client certificates', () => {
  const scratch = scratchDir('mtls');
  const { ca, issue, read } = pki(scratch.path);
  ca('lienthong-agencies');
  ca('someone-else');
  issue('lienthong-agencies', '127.0.0.1', true);
  issue('lienthong-agencies', 'HN-CUCTHUE', false);
  issue('lienthong-agencies', 'HN-DKKD', false);
  issue('someone-else', 'HN-CUCTHUE-forged', false);
  const harness = connectorHarness(taxConnector, {
    tls: { key: read('127.0.0.1.key'), cert: read('127.0.0.1.crt'), ca: read('lienthong-agencies.crt') },
  });
  const body = JSON.stringify(generateRecords('tax', 2, 71));
  const serverCa = read('lienthong-agencies.crt');

  beforeAll(() => harness.start());
  afterAll(async () => {
    await harness.dispose();
    scratch.remove();
  });

  it("accepts the owning agency's certificate, refuses another agency's, and one from another CA", async () => {
    const url = harness.url();
    expect(url).toMatch(/^https:/);
    const own = await post(url, body, {
      ca: serverCa,
      cert: read('HN-CUCTHUE.crt'),
      key: read('HN-CUCTHUE.key'),
    });
    expect(own.status).toBe(200);
    const other = await post(url, body, {
      ca: serverCa,
      cert: read('HN-DKKD.crt'),
      key: read('HN-DKKD.key'),
    });
    expect(other.status).toBe(403);
    const forged = await post(url, body, {
      ca: serverCa,
      cert: read('HN-CUCTHUE-forged.crt'),
      key: read('HN-CUCTHUE-forged.key'),
    });
    expect(forged.status).toBe(401);
    const none = await post(url, body, { ca: serverCa });
    expect(none.status).toBe(401);
  });
});
