import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyHttpsOptions,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { STATUS_CODES } from 'node:http';
import { type Server } from 'node:https';
import { type Socket } from 'node:net';
import { type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import {
  ensureProblemSchema,
  PROBLEM_CONTENT_TYPE,
  problemResponses,
  type Problem,
  type ProblemInput,
} from './problem';
import { ERROR_CODES, isRetriable } from './errors';
import { createRouteTable } from './route-table';

export { PROBLEM_CONTENT_TYPE, type Problem, type ProblemInput } from './problem';

/** Longest path parameter routed unless a service says otherwise: above any identifier's own limit. */
const DEFAULT_MAX_PARAM_LENGTH = 1_024;

/** Where a request that fastify refused before routing is routed again, to reach the 404 route. */
const UNROUTED_PATH = '/.lienthong/unrouted';

/**
 * A fastify instance with the input rules every lienthong service shares: a `__proto__` or
 * `constructor.prototype` key refuses the whole body; request schemas neither coerce types nor
 * drop unknown fields, and report every violation at once; and while closing, new requests get 503.
 *
 * Refusals that fastify makes itself reach the service's own hooks and error handler, like every
 * other error, so that each service answers them in its own problem format (and the lookup
 * service audits them):
 * - a method the path is not routed for gets 405 with `Allow`, rather than 404;
 * - a malformed percent-encoding (`FST_ERR_BAD_URL`) or an over-long path parameter
 *   (`FST_ERR_MAX_PARAM_LENGTH`), which fastify answers before any hook, is routed again to the
 *   not-found route, whose hooks run, and raised there.
 * Both are raised in `preParsing`, after the service's `onRequest` hooks (authentication) and
 * before any body is parsed; `requestProblem` translates them.
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
  /** Longest path parameter routed; longer ones get 414. Defaults to 1,024 characters. */
  maxParamLength?: number;
  /**
   * Converts query and path parameters to their schema's types (`?limit=5` to 5). Ajv applies it
   * to bodies as well, so only a service that takes no body turns it on.
   */
  coerceParameters?: boolean;
  /**
   * Answers a request that Node's HTTP parser refused before fastify saw it (see
   * {@link clientErrorProblem}); by default the problem is written and the connection closed.
   */
  clientError?: (problem: Omit<Problem, 'type'>, socket: Socket) => void;
}): FastifyInstance {
  const maxParamLength = options.maxParamLength ?? DEFAULT_MAX_PARAM_LENGTH;
  const routes = createRouteTable({ maxParamLength });
  // Refusals fastify made before routing, by the raw request they were made for.
  const refusedEarly = new WeakMap<object, FastifyError>();
  const app = Fastify({
    // Node would answer a missing Host itself, unseen by the service: it is refused in preParsing
    // instead, through the service's hooks.
    ...(options.https
      ? { https: { ...options.https, requireHostHeader: false } }
      : { http: { requireHostHeader: false } }),
    logController: new LogController({ disableRequestLogging: options.requestLogging === false }),
    routerOptions: { maxParamLength },
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Node answers these with its own body, or fastify with a JSON that is not a problem.
    clientErrorHandler: (error: { code?: string }, socket: Socket) => {
      // A reset connection has no one to answer, and no request was read.
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const problem = clientErrorProblem(error);
      if (options.clientError) options.clientError(problem, socket);
      else writeProblem(socket, problem);
    },
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: options.coerceParameters === true,
        allErrors: true,
      },
    },
    // fastify answers these from a context with no hooks and its default error handler: route the
    // request again, to the not-found route, so that the service's hooks and handler see it.
    frameworkErrors: (error, request, reply) => {
      refusedEarly.set(request.raw, error);
      request.raw.url = UNROUTED_PATH;
      app.routing(request.raw, reply.raw);
    },
  }) as unknown as FastifyInstance;

  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.add(method, route.url);
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
    if (request.raw.httpVersion !== '1.0' && request.headers.host === undefined) {
      throw Object.assign(new Error('An HTTP/1.1 request must carry a Host header'), {
        code: 'FST_ERR_HOST_REQUIRED',
        statusCode: 400,
      });
    }
    if (!request.is404) return payload;
    const early = refusedEarly.get(request.raw);
    if (early) throw early;
    const allowed = routes.allowed(request.url.split('?')[0] ?? '/');
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      throw new MethodNotAllowed(request.method, allowed);
    }
    return payload;
  });
  return app;
}

/** A request in a method that its path is not routed for; `Allow` lists those it is. */
export class MethodNotAllowed extends Error {
  override name = 'MethodNotAllowed';
  readonly code = 'FST_ERR_METHOD_NOT_ALLOWED';
  readonly statusCode = 405;
  constructor(
    method: string,
    readonly allowed: readonly string[],
  ) {
    super(`${method} is not allowed here; use ${allowed.join(', ')}`);
  }
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

const UNSUPPORTED_MEDIA_TYPE = {
  status: 415,
  code: 'UNSUPPORTED_MEDIA_TYPE',
  title: 'Unsupported media type',
};
const MALFORMED_JSON = { status: 400, code: 'MALFORMED_JSON', title: 'Malformed JSON' };

/**
 * The stable codes of the refusals fastify makes before a route's handler runs, with the status
 * each answers with. Keys are fastify's error codes (and the one {@link MethodNotAllowed} carries),
 * which are not part of lienthong's contract: the `code` members are.
 */
export const FRAMEWORK_PROBLEMS = {
  FST_ERR_METHOD_NOT_ALLOWED: { status: 405, code: 'METHOD_NOT_ALLOWED', title: 'Method not allowed' },
  // The two routing refusals do not echo the path: it may hold a personal identifier.
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'MALFORMED_URL',
    title: 'Malformed URL',
    detail: 'The path holds a malformed percent-encoding',
  },
  // RFC 9110 §15.5.15: the target is longer than the server is willing to interpret.
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'URI_TOO_LONG',
    title: 'URI too long',
    detail: 'A path segment is longer than this service routes',
  },
  FST_ERR_HOST_REQUIRED: { status: 400, code: 'HOST_REQUIRED', title: 'Host required' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_TYPE: UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_EMPTY_TYPE: UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'INVALID_CONTENT_LENGTH',
    title: 'Body length does not match Content-Length',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: MALFORMED_JSON,
  FST_ERR_CTP_INVALID_JSON_BODY: MALFORMED_JSON,
} as const;

/**
 * The problem for a request Node's HTTP parser refused (a `clientError`): headers over the size
 * limit, a request that did not arrive in time, or bytes that are not HTTP (a malformed request
 * line, method, header or `Content-Length`, or both `Content-Length` and `Transfer-Encoding`).
 * The error's own message is not echoed: it may quote the bytes received.
 * @see https://nodejs.org/api/http.html#event-clienterror
 */
export function clientErrorProblem(error: { code?: string }): Omit<Problem, 'type'> {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      // RFC 6585 §5.
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        title: 'Request header fields too large',
        detail: 'The request line and headers are longer than this service reads',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'REQUEST_TIMEOUT',
        title: 'Request timeout',
        detail: 'The request did not arrive whole in time',
      };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return {
        ...FRAMEWORK_PROBLEMS.FST_ERR_CTP_INVALID_CONTENT_LENGTH,
        detail: 'Content-Length is not valid here',
      };
    default:
      return {
        status: 400,
        code: 'MALFORMED_REQUEST',
        title: 'Malformed request',
        detail: 'The request is not well-formed HTTP/1.1',
      };
  }
}

/**
 * Writes a problem straight to a socket and closes it: for a request refused before there was a
 * request object to answer through. `headers` are added as they are (names in lower case).
 */
export function writeProblem(
  socket: Socket,
  problem: Omit<Problem, 'type'>,
  headers: Record<string, string> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ type: `urn:lienthong:problem:${problem.code.toLowerCase()}`, ...problem });
  const lines = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    // The parser cannot resume after a refusal: the connection ends with the answer.
    'connection: close',
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** One failed check of a route's request schema, as fastify reports it (Ajv's error object). */
interface SchemaViolation {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * The 400 for a request that fails its route's schema: `INVALID_REQUEST`, with the path of each
 * field at fault from the part of the request it is in (`querystring.limit`, `body.role`), a
 * missing or unknown property named as well.
 */
export function validationProblem(
  violations: readonly SchemaViolation[],
  where = 'request',
): Omit<Problem, 'type'> {
  const errors = violations.map((v) => {
    const named = v.params.missingProperty ?? v.params.additionalProperty;
    const field = `${v.instancePath.replaceAll('/', '.')}${typeof named === 'string' ? `.${named}` : ''}`;
    // A hostile parameter name can be long: the path names it, cut short.
    return { path: `${where}${field}`.slice(0, 120), message: v.message ?? 'is invalid' };
  });
  return {
    status: 400,
    title: 'Invalid request',
    code: 'INVALID_REQUEST',
    detail: `The request does not match the API description at ${errors.map((e) => e.path).join(', ')}`,
    errors,
  };
}

/**
 * Translates fastify's own request errors (routing, schema validation, body parsing, limits,
 * poisoning) into problems, or undefined for an error that is not one of them.
 */
export function requestProblem(error: {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: readonly SchemaViolation[];
  validationContext?: string;
}): Omit<Problem, 'type'> | undefined {
  if (error.validation) return validationProblem(error.validation, error.validationContext);
  const known = FRAMEWORK_PROBLEMS[error.code as keyof typeof FRAMEWORK_PROBLEMS];
  if (known) {
    return {
      detail: error.message,
      ...known,
      // Body errors name the body; routing errors have no field at fault.
      ...(known.code === 'MALFORMED_JSON' ? { errors: [{ path: 'body', message: error.message }] } : {}),
      ...(known.code === 'HOST_REQUIRED'
        ? { errors: [{ path: 'headers.host', message: 'is required' }] }
        : {}),
    };
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

/** The 404 problem for a path no route serves; the path only, never its query. */
export function routeNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, {
    status: 404,
    title: 'Not found',
    code: 'ROUTE_NOT_FOUND',
    detail: `No route ${request.method} ${request.url.split('?')[0]}`,
  });
}

/**
 * The error handler of a server with no errors of its own (the sharing service's operations
 * server, the subscriptions service, the console): fastify's refusals and schema violations as
 * problems, anything else as a 500 that says nothing more.
 */
export function answerRequestError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const problem = requestProblem(error);
  if (problem) return sendProblem(reply, problem);
  // A store or broker in a passing state: the client may try again, as the lookup answers it.
  if (isRetriable(error)) {
    request.log.warn({ err: error }, 'A dependency is unavailable; answering 503');
    reply.header('retry-after', '5');
    const kafka = error.name.startsWith('KafkaJS');
    return sendProblem(reply, {
      status: 503,
      title: kafka ? 'Kafka unavailable' : 'Store unavailable',
      code: kafka ? ERROR_CODES.KAFKA_UNAVAILABLE : ERROR_CODES.STORE_UNAVAILABLE,
      detail: 'A dependency cannot be reached right now; try again later',
    });
  }
  request.log.error({ err: error }, 'Unexpected error');
  return sendProblem(reply, {
    status: 500,
    title: 'Internal error',
    code: 'INTERNAL',
    detail: 'Unexpected error',
  });
}

/**
 * Whether a service can take traffic: `true`, `false` while starting or stopping, or the reasons it
 * is held unready (a topic drifted from the topic policy), which `/readyz` lists as field errors.
 */
export type Readiness = boolean | { reasons: readonly { path: string; message: string }[] };

export interface OperationsOptions {
  service: string;
  /** Ready to take traffic: dependencies connected, state loaded. */
  ready: () => Readiness;
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

  ensureProblemSchema(app);
  // In a plugin of their own, so that they load after a description registered before them.
  void app.register(async (scope) => declareOperations(scope, options, registry));
  return registry;
}

function declareOperations(app: FastifyInstance, options: OperationsOptions, registry: Registry): void {
  // Their media type named, so that a service's own default (the registry's) does not apply to them.
  const status = {
    description: 'The state, in one word',
    content: {
      'application/json': {
        schema: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
      },
    },
  };
  const open = { public: true };
  app.get(
    '/healthz',
    {
      config: open,
      schema: {
        summary: 'The process answers',
        tags: ['operations'],
        response: { 200: status },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: open,
      schema: {
        summary: 'The service can serve',
        tags: ['operations'],
        response: { 200: status, ...problemResponses([503], { 503: 'Not ready yet, or stopping' }) },
      },
    },
    async (_request, reply) => {
      const readiness = options.ready();
      if (readiness === true) return { status: 'ready' };
      if (readiness !== false) {
        return sendProblem(reply, {
          status: 503,
          title: 'Not ready',
          code: 'NOT_READY',
          detail: `${options.service} is not ready: ${readiness.reasons.map((r) => r.message).join('; ')}`,
          errors: readiness.reasons,
        });
      }
      return sendProblem(reply, {
        status: 503,
        title: 'Not ready',
        code: 'NOT_READY',
        detail: `${options.service} is not ready`,
      });
    },
  );
  app.get(
    '/metrics',
    {
      config: open,
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        produces: ['text/plain'],
        response: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a credential: operations endpoints and the API description. */
    public?: boolean;
  }
}
