import { type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { type Logger } from 'pino';
import { type Clock, systemClock } from '../platform/clock';
import {
  answerRequestError,
  createHttpServer,
  type Readiness,
  registerOperations,
  routeNotFound,
  sendProblem,
} from '../platform/http';
import { registerOpenApi } from '../platform/openapi';
import { ACTOR_PATTERN, AGENCY_PATTERN } from '../lookup/subjects';
import { mintToken } from '../lookup/tokens';
import { type OidcSignIn, registerOidcSignIn } from './oidc-routes';
import { forward } from './proxy';

/** The bus services the console calls, each by its base URL. */
export interface ConsoleUpstreams {
  lookup: string;
  registry: string;
  sharing: string;
  /** The connectors by topic name (`dossier`, `tax`...). */
  connectors: Readonly<Record<string, string>>;
}

/** A ready-made identity on the development sign-in page. */
export interface DemoIdentity {
  label: string;
  role: 'officer' | 'auditor' | 'citizen' | 'operator';
  sub: string;
  agency?: string;
  /** The dossier an officer has at hand, or the subject a citizen is. */
  dossierId?: string;
}

/**
 * Development sign-in: tokens from the same dev issuer as `npm run lookup:token`, and for the
 * operator the development credentials of the registry and the connectors. Never in production.
 */
export interface DevSignIn {
  signingKey: KeyObject;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  demo: readonly DemoIdentity[];
  operator?: { registry?: { username: string; password: string }; connectorKey?: string };
}

export interface ConsoleAppOptions {
  logger: Logger;
  /** The built browser code (see `buildConsoleAssets`). */
  assetsDir: string;
  upstreams: ConsoleUpstreams;
  /** Present in development mode only. */
  devSignIn?: DevSignIn;
  /**
   * The production sign-in through an OpenID Connect issuer. Beside a development sign-in, both
   * are offered; the lookup service takes each one's tokens only if it trusts that issuer.
   */
  oidc?: OidcSignIn;
  /** The time shown and sent to the browser, which reads the bus's clock from it. */
  clock?: Clock;
  upstreamTimeoutMs?: number;
  ready?: () => Readiness;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Every asset from this server and the bus's APIs through it: the browser reaches nothing else.
 * Inline styles are allowed for the charts, which size their own SVG.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const ROLE_PATTERN = ['officer', 'auditor', 'citizen', 'operator'] as const;

/**
 * The console's server: the built browser code, the settings page scripts read, the development
 * sign-in, and a same-origin pass-through to the bus's public APIs (`/api/<service>/...`), so that
 * the browser needs no CORS and every call is authenticated, filtered and audited by the service
 * it reaches, exactly as any client's. It holds no store client: there is no back door.
 */
export async function buildConsoleApp(options: ConsoleAppOptions): Promise<FastifyInstance> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.upstreamTimeoutMs ?? 30_000;
  const app = createHttpServer({ logger: options.logger, bodyLimit: 16 * 1024, requestLogging: false });
  await registerOpenApi(app, {
    info: {
      title: 'lienthong console',
      version: '1',
      description:
        "The web console's own routes: its settings, and in development the demo sign-in. The bus's APIs are passed through under /api/<service>/ unchanged.",
    },
    errors: [400, 404, 500],
  });
  registerOperations(app, { service: 'console', ready: options.ready ?? (() => true) });
  app.setErrorHandler(answerRequestError);
  app.setNotFoundHandler(routeNotFound);
  const assets = readAssets(options.assetsDir);

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });

  app.get(
    '/console/config.json',
    {
      schema: {
        summary: "The console's settings: the mode, the demo identities, the bus's time",
        tags: ['console'],
        response: {
          200: {
            type: 'object',
            properties: {
              mode: { type: 'string', enum: ['development', 'production'] },
              oidc: { type: 'boolean' },
              now: { type: 'string', format: 'date-time' },
              connectors: { type: 'array', items: { type: 'string' } },
              demo: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    label: { type: 'string' },
                    role: { type: 'string' },
                    sub: { type: 'string' },
                    agency: { type: 'string' },
                    dossierId: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({
      mode: options.devSignIn ? 'development' : 'production',
      oidc: options.oidc !== undefined,
      now: new Date(clock()).toISOString(),
      connectors: Object.keys(options.upstreams.connectors),
      demo: options.devSignIn?.demo ?? [],
    }),
  );

  const dev = options.devSignIn;
  if (dev) {
    app.post<{ Body: { role: DemoIdentity['role']; sub: string; agency?: string } }>(
      '/console/dev/sign-in',
      {
        schema: {
          summary: 'Development only: a token from the dev issuer for any identity',
          tags: ['console'],
          body: {
            type: 'object',
            required: ['role', 'sub'],
            additionalProperties: false,
            properties: {
              role: { type: 'string', enum: [...ROLE_PATTERN] },
              sub: { type: 'string', pattern: ACTOR_PATTERN },
              agency: {
                type: 'string',
                maxLength: 40,
                pattern: AGENCY_PATTERN,
                description: 'Required for an officer, who belongs to an agency (400 without it)',
              },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                role: { type: 'string' },
                sub: { type: 'string' },
                agency: { type: 'string' },
                token: { type: 'string' },
                registry: {
                  type: 'object',
                  properties: { username: { type: 'string' }, password: { type: 'string' } },
                },
                connectorKey: { type: 'string' },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { role, sub, agency } = request.body;
        if (role === 'officer' && !agency) {
          return sendProblem(reply, {
            status: 400,
            title: 'Invalid request',
            code: 'INVALID_REQUEST',
            detail: 'An officer belongs to an agency',
            errors: [{ path: 'body.agency', message: 'is required for an officer' }],
          });
        }
        if (role === 'operator') {
          return { role, sub, ...(agency ? { agency } : {}), ...(dev.operator ?? {}) };
        }
        const token = mintToken(
          dev.signingKey,
          { sub, role, ...(agency ? { agency } : {}) },
          { issuer: dev.issuer, audience: dev.audience, ttlSeconds: dev.ttlSeconds, now: clock() },
        );
        return { role, sub, ...(agency ? { agency } : {}), token };
      },
    );
  }

  const oidc = options.oidc ? registerOidcSignIn(app, { ...options.oidc, clock }) : undefined;

  // The bus's public APIs, unchanged, one prefix a service. Undocumented here: each service
  // publishes its own description.
  const pass = (
    prefix: string,
    upstream: (params: Record<string, string>) => string | undefined,
    credential?: (request: FastifyRequest) => string | undefined,
  ) => {
    app.route<{ Params: Record<string, string> }>({
      method: ['GET', 'POST'],
      url: `${prefix}/*`,
      schema: { hide: true },
      handler: async (request, reply) => {
        const base = upstream(request.params);
        if (!base) {
          return sendProblem(reply, {
            status: 404,
            title: 'Not found',
            code: 'ROUTE_NOT_FOUND',
            detail: 'The console passes calls to no such service',
          });
        }
        return forward(
          request,
          reply,
          base,
          `/${request.params['*'] ?? ''}`,
          timeoutMs,
          credential?.(request),
        );
      },
    });
  };
  const { upstreams } = options;
  // A session signed in through the issuer calls the lookup API with its access token, made for
  // that API's audience; no other service gets it.
  pass(
    '/api/lookup',
    () => upstreams.lookup,
    (request) => {
      const session = oidc?.sessionOf(request);
      return session ? `Bearer ${session.accessToken}` : undefined;
    },
  );
  pass('/api/registry', () => upstreams.registry);
  pass('/api/sharing', () => upstreams.sharing);
  pass('/api/connectors/:topic', (p) =>
    Object.hasOwn(upstreams.connectors, p.topic ?? '') ? upstreams.connectors[p.topic as string] : undefined,
  );

  // The browser code, read once at start.
  for (const [path, body] of assets) {
    const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
    const urls = path === '/index.html' ? ['/', path] : [path];
    for (const url of urls) {
      app.get(url, { schema: { hide: true } }, async (_request, reply) =>
        reply.type(type).header('cache-control', 'no-cache').send(body),
      );
    }
  }
  return app;
}

/** Every file under `dir`, by its URL path. */
function readAssets(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(`/${relative(dir, path).split('\\').join('/')}`, readFileSync(path));
    }
  };
  walk(dir);
  if (!files.has('/index.html')) throw new Error(`${dir} holds no built console (index.html)`);
  return files;
}
