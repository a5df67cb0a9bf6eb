import { authorizationCredentials } from '../../../services/platform/authorization';
import { createAuthenticator, generateCredentials } from '../../../services/platform/credentials';
import { requestProblem } from '../../../services/platform/http';
import { createRouteTable } from '../../../services/platform/route-table';

describe('authorizationCredentials', () => {
  it('matches the scheme in any case (RFC 9110 §11.1)', () => {
    for (const header of ['Bearer abc', 'bearer abc', 'BEARER abc', 'Bearer   abc']) {
      expect(authorizationCredentials(header, 'Bearer')).toBe('abc');
    }
  });

  it('answers nothing for another scheme, no credentials or no header', () => {
    expect(authorizationCredentials('Basic abc', 'Bearer')).toBeUndefined();
    expect(authorizationCredentials('Bearerabc', 'Bearer')).toBeUndefined();
    expect(authorizationCredentials('Bearer', 'Bearer')).toBeUndefined();
    expect(authorizationCredentials(undefined, 'Basic')).toBeUndefined();
  });
});

describe('createAuthenticator with HTTP Basic', () => {
  const { entries, keys } = generateCredentials([{ id: 'reader', role: 'reader' }]);
  const authenticate = createAuthenticator(entries);
  const encoded = Buffer.from(`reader:${keys.reader}`).toString('base64');

  it.each(['Basic', 'basic', 'BASIC'])('takes the scheme %s', (scheme) => {
    expect(authenticate({ authorization: `${scheme} ${encoded}` })).toEqual({
      clientId: 'reader',
      role: 'reader',
    });
  });

  it('refuses a wrong key whatever the scheme case', () => {
    const wrong = Buffer.from('reader:nope').toString('base64');
    expect(authenticate({ authorization: `basic ${wrong}` })).toBeUndefined();
  });
});

describe('createRouteTable', () => {
  const table = createRouteTable({ maxParamLength: 100 });
  table.add('GET', '/v1/imports/:id');
  table.add('HEAD', '/v1/imports/:id');
  table.add('POST', '/v1/records');
  table.add('POST', '/v1/records');

  it('lists the methods a concrete path is routed for', () => {
    expect(table.allowed('/v1/imports/42')).toEqual(['GET', 'HEAD']);
    expect(table.allowed('/v1/records')).toEqual(['POST']);
  });

  it('lists none for a path no method routes, or one it cannot decode', () => {
    expect(table.allowed('/v1/nowhere')).toEqual([]);
    expect(table.allowed('/v1/imports/%ZZ')).toEqual([]);
  });
});

describe('requestProblem', () => {
  it.each([
    ['FST_ERR_METHOD_NOT_ALLOWED', 405, 'METHOD_NOT_ALLOWED'],
    ['FST_ERR_BAD_URL', 400, 'MALFORMED_URL'],
    ['FST_ERR_MAX_PARAM_LENGTH', 414, 'URI_TOO_LONG'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 'INVALID_CONTENT_LENGTH'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'MALFORMED_JSON'],
  ])('translates %s to %i %s', (code, status, stable) => {
    expect(requestProblem({ code, message: 'x' })).toMatchObject({ status, code: stable });
  });

  it('does not echo a refused path, which may hold an identifier', () => {
    const problem = requestProblem({
      code: 'FST_ERR_BAD_URL',
      message: "'/v1/citizens/001099%ZZ' is not valid",
    });
    expect(problem?.detail).not.toContain('001099');
  });

  it('leaves other errors to the service', () => {
    expect(requestProblem({ code: 'SOMETHING_ELSE', statusCode: 500, message: 'x' })).toBeUndefined();
  });
});
