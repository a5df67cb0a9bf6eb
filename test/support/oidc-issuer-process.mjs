// A small OpenID Connect issuer for the tests: oidc-provider from npm, on a free port of the
// loopback interface. It is an ES module, which jest's CommonJS runtime cannot load, so the tests
// run it as a child process (see oidc-issuer.ts) and read its URL from its first line of output.
//
// Input, as environment variables: OIDC_CLIENT (JSON: client_id, client_secret, redirect_uri,
// post_logout_redirect_uri), OIDC_ACCOUNTS (JSON: account id -> its `lienthong` claim, an object
// with `roles` and `agency`), OIDC_RESOURCE (the lookup API's audience).
//
// Sign-in at /interaction/<uid> takes a form field `login`, the account id; there is no password.
// Consent, the next interaction, is given to whatever the client asked.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const client = JSON.parse(process.env.OIDC_CLIENT ?? '{}');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const resource = process.env.OIDC_RESOURCE ?? 'urn:lienthong:lookup';

/** A fresh signing key as a private JWK. */
function jwk(kid, alg, type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: [client.redirect_uri],
      post_logout_redirect_uris: [client.post_logout_redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // ID tokens in RS256, access tokens in ES256: the console and the lookup service each
      // verify a different algorithm from the same key set.
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: {
    keys: [
      jwk('rs-1', 'RS256', 'rsa', { modulusLength: 2048 }),
      jwk('es-1', 'ES256', 'ec', { namedCurve: 'P-256' }),
    ],
  },
  pkce: { required: () => true },
  scopes: ['openid', 'lienthong', 'lookup'],
  claims: { openid: ['sub'], lienthong: ['lienthong'] },
  // The claims of the scopes asked go into the ID token, which the console maps.
  conformIdTokenClaims: false,
  findAccount: (_ctx, id) =>
    Object.hasOwn(accounts, id)
      ? { accountId: id, claims: async () => ({ sub: id, lienthong: accounts[id] }) }
      : undefined,
  // The access token, a JWT for the lookup API, carries the same role and agency.
  extraTokenClaims: async (_ctx, token) =>
    Object.hasOwn(accounts, token.accountId) ? { lienthong: accounts[token.accountId] } : undefined,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new Error('unknown resource');
        return {
          scope: 'lookup',
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`${err.stack}\n`));

const read = (request) =>
  new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });

const callback = provider.callback();
server.on('request', async (request, response) => {
  if (!request.url.startsWith('/interaction/')) return callback(request, response);
  try {
    const details = await provider.interactionDetails(request, response);
    if (request.method === 'GET') {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(
        '<!doctype html><form method="post"><input name="login"><button>Đăng nhập</button></form>',
      );
      return;
    }
    if (details.prompt.name === 'login') {
      const login = new URLSearchParams(await read(request)).get('login') ?? '';
      const result = Object.hasOwn(accounts, login)
        ? { login: { accountId: login } }
        : { error: 'access_denied' };
      await provider.interactionFinished(request, response, result, { mergeWithLastSubmission: false });
      return;
    }
    // Consent, given at once: the scopes, claims and resource scopes the client asked for.
    const missing = details.prompt.details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(
      request,
      response,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  } catch (err) {
    response.statusCode = 400;
    response.end(String(err));
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
