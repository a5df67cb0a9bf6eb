import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyHttpsOptions,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import { type Server } from 'node:https';
import { type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** RFC 9457 problem details, with lienthong's stable `code` and the field paths at fault. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: readonly { path: string; message: string }[];
}

/** What a caller gives: the `type` is derived from the code, and extension members may follow. */
export type ProblemInput = Omit<Problem, 'type'> & { type?: string } & Record<string, unknown>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * A fastify instance with the input rules every lienthong service shares: a `__proto__` or
 * `constructor.prototype` key refuses the whole body; request schemas neither coerce types nor
 * drop unknown fields, and report every violation at once; and while closing, new requests get 503.
 */
export function createHttpServer(options: {
  logger: Logger;
  bodyLimit: number;
  https?: FastifyHttpsOptions<Server>['https'];
  /**
   * Whether fastify logs each request with its URL; off where URLs hold personal identifiers,
   * and the service logs the route pattern instead.
   */
  requestLogging?: boolean;
  /** Longest path parameter routed; longer ones get 404. fastify's default is 100. */
  maxParamLength?: number;
  /**
   * Converts query and path parameters to their schema's types (`?limit=5` to 5). Ajv applies it
   * to bodies as well, so only a service that takes no body turns it on.
   */
  coerceParameters?: boolean;
}): FastifyInstance {
  return Fastify({
    ...(options.https ? { https: options.https } : {}),
    logController: new LogController({ disableRequestLogging: options.requestLogging === false }),
    ...(options.maxParamLength === undefined
      ? {}
      : { routerOptions: { maxParamLength: options.maxParamLength } }),
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: options.coerceParameters === true,
        allErrors: true,
      },
    },
  }) as unknown as FastifyInstance;
}

/**
 * Sends a problem. The `type` is a URN built from the code, so it is stable and needs no
 * document server to resolve.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export function sendProblem(reply: FastifyReply, problem: ProblemInput): FastifyReply {
  const body = { type: `urn:lienthong:problem:${problem.code.toLowerCase()}`, ...problem };
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Translates fastify's own request errors (body parsing, limits, poisoning) into problems. */
export function requestProblem(error: {
  code?: string;
  statusCode?: number;
  message: string;
}): Omit<Problem, 'type'> | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        title: 'Request body too large',
        code: 'PAYLOAD_TOO_LARGE',
        detail: error.message,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        title: 'Unsupported media type',
        code: 'UNSUPPORTED_MEDIA_TYPE',
        detail: error.message,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return {
        status: 400,
        title: 'Malformed JSON',
        code: 'MALFORMED_JSON',
        detail: error.message,
        errors: [{ path: 'body', message: error.message }],
      };
    default:
      break;
  }
  // JSON.parse errors and prototype poisoning reach here as plain 400s from the body parser.
  if (error.statusCode === 400) {
    return {
      status: 400,
      title: 'Malformed request',
      code: 'MALFORMED_JSON',
      detail: error.message,
      errors: [{ path: 'body', message: error.message }],
    };
  }
  return undefined;
}

export interface OperationsOptions {
  service: string;
  /** Ready to take traffic: dependencies connected, state loaded. */
  ready: () => boolean;
}

/**
 * `GET /healthz` (the process answers), `GET /readyz` (it can serve), and `GET /metrics` in
 * Prometheus text, with request counts and latencies per route. These three need no credential.
 */
export function registerOperations(app: FastifyInstance, options: OperationsOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: ids in URLs would explode the label set and leak identifiers.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const open = { config: { public: true }, schema: { hide: true } };
  app.get('/healthz', open, async () => ({ status: 'ok' }));
  app.get('/readyz', open, async (_request, reply) => {
    if (options.ready()) return { status: 'ready' };
    return sendProblem(reply, {
      status: 503,
      title: 'Not ready',
      code: 'NOT_READY',
      detail: `${options.service} is not ready`,
    });
  });
  app.get('/metrics', open, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return registry;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a credential: operations endpoints and the API description. */
    public?: boolean;
  }
}
