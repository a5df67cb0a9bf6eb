import type * as OpenId from 'openid-client' with { 'resolution-mode': 'import' };
import { type Clock, systemClock } from '../platform/clock';

/** The console's client registration with an OpenID Connect issuer. */
export interface OidcSettings {
  /** The issuer, exactly as its discovery document and its tokens name it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the issuer sends the browser back: the console's `/auth/callback` as the browser sees it. */
  redirectUri: string;
  /** Space-separated; `openid` is always asked. */
  scope: string;
  /**
   * The API the access token is for (RFC 8707 resource indicator), so the issuer makes it a JWT for
   * the lookup service's audience; unset when the issuer names the audience by its own mapping.
   */
  resource?: string;
  clock?: Clock;
}

/** What the console keeps, server-side, between sending the browser out and its return. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** A finished sign-in: the ID token's validated claims and the tokens to call the bus with. */
export interface OidcLogin {
  claims: Record<string, unknown>;
  accessToken: string;
  idToken: string;
  /** When the access token runs out, in epoch milliseconds. */
  expiresAt: number;
}

/** Why a sign-in could not be finished; each becomes a stable problem code. */
export const OIDC_FAILURES = {
  /** The issuer refused to exchange the code: used, expired, or not bound to this verifier. */
  OIDC_CODE_REJECTED: 'OIDC_CODE_REJECTED',
  /** The ID token failed its checks: signature, issuer, audience, expiry or nonce. */
  OIDC_ID_TOKEN_INVALID: 'OIDC_ID_TOKEN_INVALID',
  /** The issuer could not be reached, or answered what no issuer should. */
  OIDC_ISSUER_UNAVAILABLE: 'OIDC_ISSUER_UNAVAILABLE',
} as const;
export type OidcFailure = (typeof OIDC_FAILURES)[keyof typeof OIDC_FAILURES];

export class OidcError extends Error {
  override readonly name = 'OidcError';
  constructor(
    readonly code: OidcFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OidcClient {
  /** Starts a sign-in: the authorization URL to send the browser to, and what to keep until it returns. */
  begin(): Promise<{ url: string; pending: PendingLogin }>;
  /**
   * Finishes it from the URL the browser came back to: the state is checked, the code is exchanged
   * with the PKCE verifier and the client secret, and the ID token is validated, its signature
   * included, against the issuer's JWKS.
   *
   * @throws OidcError
   */
  finish(callbackUrl: URL, pending: PendingLogin): Promise<OidcLogin>;
  /** Where to send the browser to end its session at the issuer too, when the issuer offers it. */
  endSessionUrl(idToken: string, returnTo: string): Promise<string | undefined>;
}

/**
 * The console as an OpenID Connect relying party, on `openid-client` (a certified implementation):
 * the authorization code flow with PKCE (S256), `state` and `nonce`, a confidential client
 * (`client_secret_basic`), and ID token signatures checked against the issuer's keys, not only
 * trusted from the TLS channel. The issuer's metadata is discovered at the first sign-in and kept;
 * a failed discovery is tried again at the next one, so the console starts while the issuer is away.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE)
 * @see https://www.rfc-editor.org/rfc/rfc9700 (OAuth 2.0 security best current practice)
 */
export function createOidcClient(settings: OidcSettings): OidcClient {
  const clock = settings.clock ?? systemClock;
  let configured: Promise<{ lib: typeof OpenId; config: OpenId.Configuration }> | undefined;

  const configuration = () => {
    configured ??= (async () => {
      // openid-client is an ES module; the console is CommonJS, so it is loaded here, once.
      const lib = await import('openid-client');
      const issuer = new URL(settings.issuer);
      const config = await lib.discovery(
        issuer,
        settings.clientId,
        // The bus's clock, which may be set off the machine's, is the one ID tokens are checked on.
        { [lib.clockSkew]: Math.round((clock() - Date.now()) / 1_000) },
        lib.ClientSecretBasic(settings.clientSecret),
        // Plain HTTP only for an issuer on the loopback interface; config refuses it elsewhere.
        issuer.protocol === 'http:' ? { execute: [lib.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      );
      lib.enableNonRepudiationChecks(config);
      return { lib, config };
    })();
    configured.catch(() => {
      configured = undefined;
    });
    return configured.catch((err: unknown) => {
      throw new OidcError(OIDC_FAILURES.OIDC_ISSUER_UNAVAILABLE, 'The issuer could not be discovered', {
        cause: err,
      });
    });
  };

  const resource: Record<string, string> = settings.resource ? { resource: settings.resource } : {};

  return {
    async begin() {
      const { lib, config } = await configuration();
      const pending: PendingLogin = {
        state: lib.randomState(),
        nonce: lib.randomNonce(),
        codeVerifier: lib.randomPKCECodeVerifier(),
      };
      const url = lib.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        response_type: 'code',
        scope: settings.scope.split(' ').includes('openid') ? settings.scope : `openid ${settings.scope}`,
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await lib.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        ...resource,
      });
      return { url: url.href, pending };
    },

    async finish(callbackUrl, pending) {
      const { lib, config } = await configuration();
      let tokens: Awaited<ReturnType<typeof OpenId.authorizationCodeGrant>>;
      try {
        tokens = await lib.authorizationCodeGrant(
          config,
          callbackUrl,
          {
            pkceCodeVerifier: pending.codeVerifier,
            expectedState: pending.state,
            expectedNonce: pending.nonce,
            idTokenExpected: true,
          },
          resource,
        );
      } catch (err) {
        throw failureOf(lib, err);
      }
      const claims = tokens.claims();
      if (!claims || !tokens.id_token || tokens.token_type.toLowerCase() !== 'bearer')
        throw new OidcError(OIDC_FAILURES.OIDC_ID_TOKEN_INVALID, 'The issuer returned no ID token');
      const lifetimeMs = (tokens.expiresIn() ?? 300) * 1_000;
      return {
        claims: { ...claims },
        accessToken: tokens.access_token,
        idToken: tokens.id_token,
        expiresAt: clock() + lifetimeMs,
      };
    },

    async endSessionUrl(idToken, returnTo) {
      const { lib, config } = await configuration();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return lib
        .buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: returnTo })
        .toString();
    },
  };
}

/** The stable failure an error of the exchange is. */
function failureOf(lib: typeof OpenId, err: unknown): OidcError {
  // The token endpoint's own refusal (invalid_grant and the like), or the callback's error.
  if (err instanceof lib.ResponseBodyError || err instanceof lib.AuthorizationResponseError)
    return new OidcError(OIDC_FAILURES.OIDC_CODE_REJECTED, 'The issuer refused the code', { cause: err });
  const code = (err as { code?: unknown }).code;
  if (err instanceof TypeError || code === 'OAUTH_TIMEOUT' || code === 'OAUTH_RESPONSE_IS_NOT_JSON')
    return new OidcError(OIDC_FAILURES.OIDC_ISSUER_UNAVAILABLE, 'The issuer did not answer', { cause: err });
  return new OidcError(OIDC_FAILURES.OIDC_ID_TOKEN_INVALID, 'The ID token failed its checks', { cause: err });
}
