import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type Clock } from '../platform/clock';
import { sendProblem } from '../platform/http';
import { ACTOR_PATTERN, AGENCY_PATTERN } from '../lookup/subjects';
import { type ClaimMapping, mappedIdentity } from '../lookup/tokens';
import { type OidcClient, OidcError, type PendingLogin } from './oidc';
import { createSealer } from './sealed-cookie';

/** Who signed in through the issuer, as the console shows them. */
export interface SignedIn {
  role: 'officer' | 'auditor' | 'citizen' | 'operator';
  sub: string;
  agency?: string;
}

/** A console session: the identity, and the tokens that stay on the server. */
export interface OidcSession extends SignedIn {
  accessToken: string;
  idToken: string;
  expiresAt: number;
}

export interface OidcSignIn {
  client: OidcClient;
  /** Where the ID token's claims carry the role and the agency: the lookup service reads the same. */
  claims: ClaimMapping;
  /** The console's own URL as the browser sees it; https makes every cookie `Secure` and `__Host-`. */
  publicUrl: string;
  /**
   * The keys its cookies are sealed with (`CONSOLE_SESSION_KEYS_FILE`), the same on every
   * instance: the first seals, any opens.
   */
  sessionKeys: readonly Buffer[];
}

/** What the login cookie carries between sending the browser out and its return. */
interface LoginCookie extends PendingLogin {
  /** The console's own path to land on once signed in. */
  returnTo: string;
}

/** How long a started sign-in may take at the issuer. */
const LOGIN_TTL_MS = 10 * 60_000;

/**
 * The most a `Set-Cookie` line may hold, its name and attributes included: browsers keep at least
 * 4096 bytes of a cookie and may drop a larger one silently, which would sign nobody in.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-6.1
 */
export const MAX_COOKIE_BYTES = 4_096;

/** A path of the console's own to land on after signing in: never `//host` or `/\host`, never a URL. */
const RETURN_TO_PATTERN = '^/(?![/\\\\])[\\x21-\\x7E]*$';

/** The sign-in's refusals, in Vietnamese first: what happened and what to do. */
const PAGES: Readonly<Record<string, { status: number; vi: [string, string]; en: [string, string] }>> = {
  OIDC_LOGIN_EXPIRED: {
    status: 400,
    vi: [
      'Phiên đăng nhập đã hết hạn',
      'Lượt đăng nhập này không còn hiệu lực hoặc đã được dùng. Hãy đăng nhập lại.',
    ],
    en: [
      'The sign-in has expired',
      'This sign-in is no longer valid or was already used. Please sign in again.',
    ],
  },
  OIDC_STATE_MISMATCH: {
    status: 400,
    vi: [
      'Không xác nhận được lượt đăng nhập',
      'Trang trả về không khớp với lượt đăng nhập bạn đã bắt đầu. Hãy đăng nhập lại.',
    ],
    en: [
      'The sign-in could not be confirmed',
      'The answer does not match the sign-in you started. Please sign in again.',
    ],
  },
  OIDC_LOGIN_REFUSED: {
    status: 400,
    vi: [
      'Hệ thống định danh đã từ chối đăng nhập',
      'Hãy đăng nhập lại; nếu vẫn bị từ chối, liên hệ bộ phận quản trị tài khoản.',
    ],
    en: [
      'The identity provider refused the sign-in',
      'Please sign in again; if it is refused again, contact your account administrators.',
    ],
  },
  OIDC_CODE_REJECTED: {
    status: 400,
    vi: ['Không hoàn tất được đăng nhập', 'Mã đăng nhập không còn dùng được. Hãy đăng nhập lại.'],
    en: [
      'The sign-in could not be completed',
      'The sign-in code can no longer be used. Please sign in again.',
    ],
  },
  OIDC_ID_TOKEN_INVALID: {
    status: 400,
    vi: [
      'Không xác thực được danh tính',
      'Thông tin định danh nhận được không hợp lệ. Hãy đăng nhập lại hoặc báo bộ phận quản trị.',
    ],
    en: [
      'Your identity could not be verified',
      'The identity received is not valid. Please sign in again or tell the administrators.',
    ],
  },
  OIDC_CLAIMS_UNMAPPED: {
    status: 403,
    vi: [
      'Tài khoản chưa được cấp quyền dùng bảng điều khiển',
      'Tài khoản của bạn chưa có vai trò (cán bộ, thanh tra, công dân, vận hành) hoặc chưa gắn với cơ quan. Hãy đề nghị bộ phận quản trị tài khoản của cơ quan cấp quyền, rồi đăng nhập lại.',
    ],
    en: [
      'This account may not use the console yet',
      'Your account has no role (officer, auditor, citizen, operator) or no agency. Ask your agency’s account administrators to grant it, then sign in again.',
    ],
  },
  OIDC_SESSION_TOO_LARGE: {
    status: 502,
    vi: [
      'Không mở được phiên làm việc',
      'Thông tin đăng nhập do hệ thống định danh cấp quá lớn để lưu trong trình duyệt. Hãy báo bộ phận quản trị.',
    ],
    en: [
      'The session could not be opened',
      'The sign-in the identity provider issued is too large to keep in the browser. Please tell the administrators.',
    ],
  },
  OIDC_ISSUER_UNAVAILABLE: {
    status: 502,
    vi: ['Hệ thống định danh không phản hồi', 'Hãy thử lại sau ít phút.'],
    en: ['The identity provider does not answer', 'Please try again in a few minutes.'],
  },
};

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The production sign-in, as a backend for the browser: the console is the OpenID Connect client,
 * and the tokens never reach the page's script. `/auth/login` sends the browser to the issuer with
 * PKCE, `state` and `nonce` in a short-lived sealed cookie; `/auth/callback` finishes it, maps the
 * ID token's claims to a role and an agency, and opens a session whose sealed cookie is HttpOnly,
 * SameSite=Strict and, over https, Secure with the `__Host-` prefix. Calls to the lookup API
 * through the console then carry the session's access token, which the lookup service verifies
 * against the issuer's keys and audits under the officer's own subject.
 *
 * Nothing is kept in the process: every cookie is sealed (see {@link createSealer}) with keys all
 * instances share, so a sign-in started on one instance finishes on another, a session works on
 * any, and a restart signs nobody out. The price is that signing out cannot revoke a copied
 * session cookie: it lasts as long as its access token, which the issuer keeps short.
 */
export function registerOidcSignIn(
  app: FastifyInstance,
  options: OidcSignIn & { clock: Clock },
): { sessionOf(request: FastifyRequest): OidcSession | undefined } {
  const { client, clock } = options;
  const secure = options.publicUrl.startsWith('https:');
  const names = secure
    ? { session: '__Host-lienthong-session', login: '__Host-lienthong-login' }
    : { session: 'lienthong-session', login: 'lienthong-login' };
  const sealer = createSealer({ keys: options.sessionKeys, clock });

  const cookie = (name: string, value: string, maxAgeMs: number, sameSite: 'Strict' | 'Lax') =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1_000))}${secure ? '; Secure' : ''}`;
  const sessionOf = (request: FastifyRequest) =>
    sealer.open<OidcSession>(names.session, cookiesOf(request).get(names.session));

  /** A refusal: a page in Vietnamese then English for the browser, a problem for any other client. */
  const refuse = (request: FastifyRequest, reply: FastifyReply, code: keyof typeof PAGES) => {
    const page = PAGES[code] as (typeof PAGES)[string];
    reply.header('cache-control', 'no-store');
    if (!(request.headers.accept ?? '').includes('text/html')) {
      return sendProblem(reply, { status: page.status, title: page.en[0], code, detail: page.en[1] });
    }
    const [viTitle, viText] = page.vi.map(escape) as [string, string];
    const [enTitle, enText] = page.en.map(escape) as [string, string];
    return reply
      .code(page.status)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${viTitle}</title>` +
          `<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}a{color:#0b4f8a}section{margin-top:2rem;border-top:1px solid #ccc}</style></head>` +
          `<body><main><h1>${viTitle}</h1><p>${viText}</p><p><a href="/auth/login">Đăng nhập lại</a></p>` +
          `<section lang="en"><h2>${enTitle}</h2><p>${enText}</p><p><a href="/auth/login">Sign in again</a></p></section>` +
          `<p><small>Mã / code: ${escape(code)}</small></p></main></body></html>`,
      );
  };

  app.get<{ Querystring: { returnTo?: string } }>(
    '/auth/login',
    {
      schema: {
        summary: 'Production sign-in: sends the browser to the OpenID Connect issuer',
        tags: ['auth'],
        querystring: {
          type: 'object',
          properties: {
            returnTo: {
              type: 'string',
              maxLength: 512,
              pattern: RETURN_TO_PATTERN,
              description: "The console's own path to land on once signed in; `/` by default",
            },
          },
        },
      },
    },
    async (request, reply) => {
      let started: Awaited<ReturnType<OidcClient['begin']>>;
      try {
        started = await client.begin();
      } catch (err) {
        request.log.warn({ err }, 'The OpenID Connect issuer could not be reached');
        return refuse(request, reply, 'OIDC_ISSUER_UNAVAILABLE');
      }
      const login: LoginCookie = { ...started.pending, returnTo: request.query.returnTo ?? '/' };
      const sealed = sealer.seal(names.login, login, clock() + LOGIN_TTL_MS);
      // Lax, not Strict: the browser comes back from the issuer's site, a cross-site navigation.
      return reply
        .header('set-cookie', cookie(names.login, sealed, LOGIN_TTL_MS, 'Lax'))
        .header('cache-control', 'no-store')
        .redirect(started.url, 302);
    },
  );

  app.get<{ Querystring: { state?: string; error?: string } }>(
    '/auth/callback',
    {
      schema: {
        summary: 'Production sign-in: where the issuer sends the browser back with a code',
        tags: ['auth'],
        querystring: {
          type: 'object',
          properties: {
            code: { type: 'string', maxLength: 2_048 },
            state: { type: 'string', maxLength: 512 },
            error: { type: 'string', maxLength: 256 },
            error_description: { type: 'string', maxLength: 2_048 },
            iss: { type: 'string', maxLength: 2_048 },
          },
        },
      },
    },
    async (request, reply) => {
      // Whatever happens next, this login is over and its cookie goes. A copy of the cookie brought
      // back with the same code is refused by the issuer, which takes a code once (OIDC_CODE_REJECTED).
      const pending = sealer.open<LoginCookie>(names.login, cookiesOf(request).get(names.login));
      reply.header('set-cookie', cookie(names.login, '', 0, 'Lax'));
      if (!pending) return refuse(request, reply, 'OIDC_LOGIN_EXPIRED');
      if (request.query.state !== pending.state) return refuse(request, reply, 'OIDC_STATE_MISMATCH');
      if (request.query.error !== undefined) return refuse(request, reply, 'OIDC_LOGIN_REFUSED');
      let login: Awaited<ReturnType<OidcClient['finish']>>;
      try {
        login = await client.finish(new URL(request.url, options.publicUrl), pending);
      } catch (err) {
        const code = err instanceof OidcError ? err.code : 'OIDC_ID_TOKEN_INVALID';
        request.log.warn({ err, code }, 'A sign-in through the issuer failed');
        return refuse(request, reply, code);
      }
      const identity = consoleIdentity(login.claims, options.claims);
      if (!identity) {
        // The subject is an opaque id at the issuer, not personal data; the claims are not logged.
        request.log.info({ sub: login.claims.sub }, 'A sign-in whose claims map to no role or agency');
        return refuse(request, reply, 'OIDC_CLAIMS_UNMAPPED');
      }
      const session: OidcSession = {
        ...identity,
        accessToken: login.accessToken,
        idToken: login.idToken,
        expiresAt: login.expiresAt,
      };
      const sessionCookie = cookie(
        names.session,
        sealer.seal(names.session, session, session.expiresAt),
        session.expiresAt - clock(),
        'Strict',
      );
      if (Buffer.byteLength(sessionCookie) > MAX_COOKIE_BYTES) {
        request.log.warn(
          { bytes: Buffer.byteLength(sessionCookie), sub: login.claims.sub },
          "A session's cookie would exceed what browsers keep: the issuer's tokens are too large",
        );
        return refuse(request, reply, 'OIDC_SESSION_TOO_LARGE');
      }
      return reply
        .header('set-cookie', [cookie(names.login, '', 0, 'Lax'), sessionCookie])
        .header('cache-control', 'no-store')
        .redirect(pending.returnTo, 303);
    },
  );

  app.get(
    '/auth/session',
    {
      schema: {
        summary: 'Who is signed in through the issuer; the tokens stay on the server',
        tags: ['auth'],
        response: {
          200: {
            type: 'object',
            properties: {
              role: { type: 'string' },
              sub: { type: 'string' },
              agency: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const session = sessionOf(request);
      if (!session)
        return sendProblem(reply, {
          status: 401,
          title: 'Unauthorized',
          code: 'NO_SESSION',
          detail: 'Nobody is signed in through the issuer in this browser',
        });
      const { role, sub, agency, expiresAt } = session;
      return { role, sub, ...(agency ? { agency } : {}), expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        summary: "Ends the console session, and answers where to end the issuer's session",
        tags: ['auth'],
        response: { 200: { type: 'object', properties: { endSessionUrl: { type: 'string' } } } },
      },
    },
    async (request, reply) => {
      const session = sessionOf(request);
      reply.header('set-cookie', cookie(names.session, '', 0, 'Strict')).header('cache-control', 'no-store');
      if (!session) return {};
      const endSessionUrl = await client
        .endSessionUrl(session.idToken, options.publicUrl)
        .catch(() => undefined);
      return endSessionUrl ? { endSessionUrl } : {};
    },
  );

  return { sessionOf };
}

/** The request's cookies by name; the first of a name wins, as browsers send the most specific first. */
function cookiesOf(request: FastifyRequest): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    if (!found.has(name)) found.set(name, part.slice(at + 1).trim());
  }
  return found;
}

const ACTOR = new RegExp(ACTOR_PATTERN);
const AGENCY = new RegExp(AGENCY_PATTERN);

/**
 * The identity an ID token's claims give on the console, under the same rules as the lookup
 * service's: officers and auditors belong to an agency, a citizen is their 12-digit identity number.
 */
export function consoleIdentity(
  claims: Record<string, unknown>,
  mapping: ClaimMapping,
): SignedIn | undefined {
  const identity = mappedIdentity(claims, mapping);
  if (!identity || !ACTOR.test(identity.sub)) return undefined;
  const { sub, role, agency } = identity;
  switch (role) {
    case 'officer':
    case 'auditor':
      return agency !== undefined && AGENCY.test(agency) ? { role, sub, agency } : undefined;
    case 'citizen':
      return /^\d{12}$/.test(sub) && agency === undefined ? { role, sub } : undefined;
    case 'operator':
      return agency === undefined || AGENCY.test(agency)
        ? { role, sub, ...(agency ? { agency } : {}) }
        : undefined;
    default:
      return undefined;
  }
}
