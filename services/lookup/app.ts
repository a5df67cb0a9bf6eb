import rateLimit from '@fastify/rate-limit';
import {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onRequestHookHandler,
} from 'fastify';
import { type Kafka } from 'kafkajs';
import { type Db } from 'mongodb';
import { Counter } from 'prom-client';
import { type Socket } from 'node:net';
import { type Logger } from 'pino';
import { type Clock, systemClock } from '../platform/clock';
import { isRetriable } from '../platform/errors';
import {
  createHttpServer,
  PROBLEM_CONTENT_TYPE,
  type Readiness,
  registerOperations,
  type Problem,
  requestProblem,
  sendProblem,
  writeProblem,
} from '../platform/http';
import { registerOpenApi } from '../platform/openapi';
import { requestTraceId } from '../platform/trace-context';
import { type EventDecoder } from '../sharing/event-decoder';
import { type AuditEntry, type AuditResult, sha256Hex } from './audit-chain';
import { type AuditTrail } from './audit-trail';
import { DENIALS } from './dossier-binding';
import { exposedCitizenIds } from './exposures';
import { type FieldPolicies } from './field-policy';
import { createFloodLog, type FloodLog } from './flood-log';
import { auditRoutes } from './routes/audit';
import { citizenRoutes } from './routes/citizen';
import { deskRoutes } from './routes/desk';
import { lookupRoutes } from './routes/lookups';
import { type LookupPrincipal, type LookupRole, type TokenVerifier } from './tokens';
import { createViewReader } from './view-reader';

export interface LookupLimits {
  /**
   * Requests per minute from one client address, counted before the token is read: past it, a
   * request is answered 429 and counted into an aggregate audit record instead of its own.
   */
  perClientPerMinute: number;
  /** Requests per minute of one officer, auditor or citizen. */
  perPrincipalPerMinute: number;
  /** Requests per minute of all the officers of one agency together. */
  perAgencyPerMinute: number;
  /** Most records in one page of the audit history or the access log. */
  pageMax: number;
  /**
   * The least time a lookup's refusal takes, from the request's arrival ({@link REFUSAL_FLOOR_MS}
   * by default; 0: none). The checks before a refusal do the same work for an existing subject as
   * for a missing one, but the store takes a little longer to find a document than to miss one;
   * under this floor that difference does not show.
   */
  refusalFloorMs?: number;
}

export interface LookupAppOptions {
  logger: Logger;
  db: Db;
  trail: AuditTrail;
  policies: FieldPolicies;
  verifyToken: TokenVerifier;
  /** For lineage: reads source events back from Kafka. */
  kafka: Kafka;
  decoder: EventDecoder;
  limits: LookupLimits;
  ready: () => Readiness;
  /** How long the view catalog is cached; a rebuild's swap is seen within this. */
  catalogTtlMs?: number;
  /** How long lineage waits for Kafka to give back the source events. */
  lineageTimeoutMs?: number;
  /** The default end of a data-flow summary; the system clock by default. */
  clock?: Clock;
  /** How often the counts of refused floods are written to the trail; 10 s by default. */
  floodFlushEveryMs?: number;
}

/** What a route learned that the audit record must hold; the rest comes from the request. */
export type AuditDraft = Partial<
  Pick<
    AuditEntry,
    | 'subject'
    | 'dossierId'
    | 'procedureCode'
    | 'fields'
    | 'sources'
    | 'masks'
    | 'exposures'
    | 'answerEvents'
    | 'reason'
  >
>;

declare module 'fastify' {
  interface FastifyRequest {
    caller: LookupPrincipal | null;
    audit: AuditDraft;
    traceId: string | null;
  }
  interface FastifyInstance {
    /** Resolves when no request is between its start and its audit record, or after `timeoutMs`. */
    drained(timeoutMs: number): Promise<void>;
    /** The counts of requests refused past a rate limit, written as aggregate audit records. */
    floodLog: FloodLog;
  }
  interface FastifyContextConfig {
    /** The roles that may call the route; the caller's token decides. */
    roles?: readonly LookupRole[];
  }
}

/**
 * The lookup API: officers read views under a dossier they handle, auditors read the audit trail
 * and the lineage of views, citizens read who accessed their data.
 *
 * Every request to a credentialed route, whatever its outcome, is written to the audit trail in
 * `onSend`, after the answer is built and before any byte of it leaves. If the write fails, the
 * answer is replaced by a 503 that holds no data. `X-Audit-Record` names the record.
 */
export async function buildLookupApp(options: LookupAppOptions): Promise<FastifyInstance> {
  const { trail, logger, limits } = options;
  const clock = options.clock ?? systemClock;
  const floods = createFloodLog({
    trail,
    logger,
    clock,
    flushEveryMs: options.floodFlushEveryMs ?? 10_000,
  });
  const app = createHttpServer({
    logger,
    bodyLimit: 1_024,
    // URLs hold citizen ids: requests are logged below by route pattern instead.
    requestLogging: false,
    // Long enough that an oversized identifier reaches validation and gets a 400, not a 404.
    maxParamLength: 2_048,
    // No route takes a body (all are GETs), so query parameters may be converted to numbers.
    coerceParameters: true,
    clientError: (problem, socket) => {
      inFlight += 1;
      void answerUnparsed(problem, socket).finally(settle);
    },
  });
  // No route takes a body: a text or JSON body on a GET is refused, never parsed.
  app.removeAllContentTypeParsers();

  await registerOpenApi(app, {
    info: {
      title: 'lienthong lookup API',
      version: '1',
      description:
        "Cross-agency views for officers handling a dossier, under the procedure's field policy; the audit trail, lineage and data flows for auditors; the access log for citizens. Every request is audited before it is answered.",
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA)' } },
    errors: [400, 401, 403, 414, 429, 500, 503],
  });
  const metrics = registerOperations(app, { service: 'lookup', ready: options.ready });
  // What the store does per answer: `lookup_view_reads_total` and `lookup_audit_inserts_total` over
  // `http_requests_total` are the reads and the audit inserts per answer (test/bench/lookup.ts).
  const viewReads = new Counter({
    name: 'lookup_view_reads_total',
    help: 'View documents read from the store (one findOne each)',
    registers: [metrics],
  });
  const auditInserts = new Counter({
    name: 'lookup_audit_inserts_total',
    help: 'Insert commands that wrote audit records (group commit: one per batch of up to 100)',
    registers: [metrics],
  });
  const auditRecords = new Counter({
    name: 'lookup_audit_records_total',
    help: 'Audit records written',
    registers: [metrics],
  });
  // Each call is one insert command's records (audit-trail.ts).
  trail.onStored((records) => {
    auditInserts.inc();
    auditRecords.inc(records.length);
  });
  await app.register(rateLimit, { global: false });
  app.decorate('floodLog', floods);
  app.addHook('onClose', async () => floods.close());

  app.decorateRequest('caller', null);
  app.decorateRequest('audit', null as unknown as AuditDraft);
  app.decorateRequest('traceId', null);

  // Requests between their start and their audit record. The store is closed only once there are
  // none, so that a request whose client has gone still gets its record.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  app.decorate('drained', async (timeoutMs: number) => {
    if (inFlight === 0) return;
    await new Promise<void>((resolve) => {
      onIdle = resolve;
      setTimeout(resolve, timeoutMs).unref();
    });
  });
  const settle = (): void => {
    inFlight -= 1;
    if (inFlight === 0) onIdle?.();
  };

  // By client address, before anything else is read, so that a flood costs neither a token check
  // nor an audit record per request.
  const perClient = app.createRateLimit({
    max: limits.perClientPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `client:${request.ip}`,
  });

  app.addHook('onRequest', async (request, reply) => {
    request.audit = {};
    request.traceId = requestTraceId(header(request.headers.traceparent));
    if (isPublic(request)) return undefined;
    inFlight += 1;
    applyLimit(reply, await perClient(request));
    // fastify ignores a GET's body; this API refuses one outright, unread, so that nothing a caller
    // sends goes unanswered.
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > 0 || request.headers['transfer-encoding'] !== undefined) {
      return sendProblem(reply, {
        status: 400,
        title: 'Invalid request',
        code: 'BODY_NOT_ALLOWED',
        detail: 'No route of this API takes a request body',
        errors: [{ path: 'body', message: 'must be absent' }],
      });
    }
    const check = await options.verifyToken(header(request.headers.authorization));
    if (!check.ok) {
      reply.header('www-authenticate', 'Bearer realm="lienthong-lookup"');
      return sendProblem(reply, {
        status: 401,
        title: 'Unauthorized',
        code: check.refusal,
        detail: 'A valid bearer token is required',
      });
    }
    request.caller = check.principal;
    const roles = request.routeOptions.config.roles;
    if (roles && !roles.includes(check.principal.role)) {
      return sendProblem(reply, {
        status: 403,
        title: 'Forbidden',
        code: DENIALS.ROLE_NOT_ALLOWED,
        detail: `This route is for ${roles.join(' or ')}s`,
      });
    }
    return undefined;
  });

  // Audit before answer: see the doc comment above.
  app.addHook('onSend', async (request, reply, payload) => {
    if (isPublic(request)) return payload;
    const entry = auditEntry(request, reply, payload, options.policies.version);
    if (reply.statusCode === 429) {
      floods.count(entry, request.ip);
      logAnswer(request, reply, entry, null);
      settle();
      return payload;
    }
    try {
      const record = await trail.append(entry);
      reply.header('x-audit-record', String(record.seq));
      logAnswer(request, reply, entry, record.seq);
      return payload;
    } catch (err) {
      logAnswer(request, reply, entry, null);
      request.log.error({ err }, 'The request could not be audited; answering 503 without data');
      reply.code(503).type(PROBLEM_CONTENT_TYPE).header('retry-after', '5');
      reply.removeHeader('x-audit-record');
      return JSON.stringify({ type: 'urn:lienthong:problem:audit_unavailable', ...AUDIT_UNAVAILABLE });
    } finally {
      settle();
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => answerError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      status: 404,
      title: 'Not found',
      code: 'ROUTE_NOT_FOUND',
      detail: `No route ${request.method} ${request.routeOptions.url ?? 'here'}`,
    }),
  );

  const views = createViewReader(options.db, options.catalogTtlMs ?? 1_000, () => viewReads.inc());
  // One limiter each, applied in turn: `app.rateLimit` hooks share one "already ran" flag per
  // request, so a second one on the same route would never count.
  const perPrincipal = app.createRateLimit({
    max: limits.perPrincipalPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `principal:${request.caller?.role}:${request.caller?.id ?? request.ip}`,
  });
  const perAgency = app.createRateLimit({
    max: limits.perAgencyPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `agency:${request.caller?.agency ?? request.caller?.id ?? request.ip}`,
  });
  const limitHook =
    (limiter: typeof perClient): onRequestHookHandler =>
    async (request, reply) => {
      applyLimit(reply, await limiter(request));
    };
  const routeOptions = { views, limits, rateLimits: [limitHook(perPrincipal), limitHook(perAgency)] };
  await app.register(lookupRoutes, { ...routeOptions, policies: options.policies });
  await app.register(deskRoutes, { ...routeOptions, policies: options.policies });
  await app.register(auditRoutes, {
    ...routeOptions,
    trail,
    db: options.db,
    policies: options.policies,
    kafka: options.kafka,
    decoder: options.decoder,
    lineageTimeoutMs: options.lineageTimeoutMs ?? 10_000,
    clock,
  });
  await app.register(citizenRoutes, { ...routeOptions, trail });
  return app;

  /**
   * A request Node's parser refused has no route and no caller: it is limited by its client
   * address and audited like any other, then answered on the socket, which closes.
   */
  async function answerUnparsed(problem: Omit<Problem, 'type'>, socket: Socket): Promise<void> {
    const client = socket.remoteAddress ?? 'unknown';
    const entry: AuditEntry = {
      action: UNPARSED_ACTION,
      actor: null,
      subject: null,
      dossierId: null,
      procedureCode: null,
      fields: [],
      masks: [],
      sources: [],
      result: resultOf(problem.status),
      reason: problem.code,
      status: problem.status,
      traceId: null,
      policyVersion: options.policies.version,
    };
    const limit = await perClient({ ip: client, routeOptions: { config: {} } } as unknown as FastifyRequest);
    const headers = limitHeaders(limit);
    if (limit.isAllowed === false && limit.isExceeded) {
      floods.count({ ...entry, result: 'denied', reason: RATE_LIMITED.code, status: 429 }, client);
      writeProblem(socket, { ...RATE_LIMITED, detail: rateDetail(limit) }, headers);
      return;
    }
    try {
      const record = await trail.append(entry);
      writeProblem(socket, problem, { ...headers, 'x-audit-record': String(record.seq) });
    } catch (err) {
      logger.error({ err }, 'The request could not be audited; answering 503');
      writeProblem(socket, AUDIT_UNAVAILABLE, { 'retry-after': '5' });
    }
  }
}

/** The action of an audit record for a request that could not be parsed, so has no route. */
export const UNPARSED_ACTION = 'UNPARSED';

const RATE_LIMITED = { status: 429, title: 'Too many requests', code: 'RATE_LIMITED' } as const;

const AUDIT_UNAVAILABLE = {
  status: 503,
  title: 'Audit unavailable',
  code: 'AUDIT_UNAVAILABLE',
  detail: 'The request could not be recorded in the audit trail, so nothing is returned',
} as const;

type LimitCheck = Awaited<ReturnType<ReturnType<FastifyInstance['createRateLimit']>>>;

/** The `X-RateLimit-*` headers of a check, and `Retry-After` once it is exceeded. */
function limitHeaders(limit: LimitCheck): Record<string, string> {
  if (limit.isAllowed) return {};
  return {
    'x-ratelimit-limit': String(limit.max),
    'x-ratelimit-remaining': String(limit.remaining),
    'x-ratelimit-reset': String(limit.ttlInSeconds),
    ...(limit.isExceeded ? { 'retry-after': String(limit.ttlInSeconds) } : {}),
  };
}

function rateDetail(limit: LimitCheck): string {
  return limit.isAllowed
    ? ''
    : `More than ${limit.max} requests in a minute; retry in ${limit.ttlInSeconds} s`;
}

/**
 * Puts a limit's headers on the answer, whatever its status (a 401 or 403 included), keeping the
 * tightest where several limits apply; throws the 429 once the limit is exceeded.
 */
function applyLimit(reply: FastifyReply, limit: LimitCheck): void {
  if (limit.isAllowed) return;
  const shown = reply.getHeader('x-ratelimit-remaining');
  if (shown === undefined || Number(shown) >= limit.remaining || limit.isExceeded) {
    for (const [name, value] of Object.entries(limitHeaders(limit))) reply.header(name, value);
  }
  if (limit.isExceeded) throw Object.assign(new Error(rateDetail(limit)), { statusCode: 429 });
}

function isPublic(request: FastifyRequest): boolean {
  return request.routeOptions.config?.public === true;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What an answer's status means for the audit. */
function resultOf(status: number): AuditResult {
  if (status < 300) return 'allowed';
  if (status === 401) return 'unauthenticated';
  if ([400, 405, 408, 413, 414, 415, 431].includes(status)) return 'invalid';
  if (status >= 500) return 'failed';
  return 'denied';
}

function auditEntry(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  policyVersion: string,
): AuditEntry {
  const status = reply.statusCode;
  const draft = request.audit ?? {};
  const principal = request.caller;
  let reason = draft.reason ?? null;
  if (reason === null && status >= 300 && typeof payload === 'string') {
    try {
      const code = (JSON.parse(payload) as { code?: unknown }).code;
      if (typeof code === 'string') reason = code;
    } catch {
      // Not a problem body: the status alone says what happened.
    }
  }
  const subject = draft.subject ?? null;
  // Only an answer that was sent exposed anyone; a refusal still concerns the citizen asked about.
  const exposures = status < 300 ? (draft.exposures ?? []) : [];
  return {
    action: `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
    actor: principal ? { id: principal.id, agency: principal.agency, role: principal.role } : null,
    subject,
    dossierId: draft.dossierId ?? null,
    procedureCode: draft.procedureCode ?? null,
    fields: status < 300 ? (draft.fields ?? []) : [],
    sources: status < 300 ? (draft.sources ?? []) : [],
    masks: status < 300 ? (draft.masks ?? []) : [],
    exposures,
    citizenIds: exposedCitizenIds(exposures, subject?.view === 'citizens' ? subject.id : undefined),
    // The digest of the bytes about to leave, never the bytes: they may hold personal data.
    ...(typeof payload === 'string' ? { answerDigest: sha256Hex(payload) } : {}),
    ...(status < 300 && draft.answerEvents ? { answerEvents: draft.answerEvents } : {}),
    policyVersion,
    result: resultOf(status),
    reason,
    status,
    traceId: request.traceId,
  };
}

/** One line per answer, by route pattern: never the URL, the subject or the dossier. */
function logAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  entry: AuditEntry,
  seq: number | null,
): void {
  request.log.info(
    {
      route: entry.action,
      status: reply.statusCode,
      result: entry.result,
      reason: entry.reason,
      actor: entry.actor?.id,
      auditRecord: seq,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    },
    'answered',
  );
}

function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.statusCode === 429) {
    return sendProblem(reply, { ...RATE_LIMITED, detail: error.message });
  }
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const errors = error.validation.map((v) => {
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      const field = [v.instancePath.replaceAll('/', '.'), extra === undefined ? '' : `.${extra}`].join('');
      // A hostile parameter name can be long: the path names it, cut short.
      return { path: `${where}${field}`.slice(0, 120), message: v.message ?? 'is invalid' };
    });
    return sendProblem(reply, {
      status: 400,
      title: 'Invalid request',
      code: 'INVALID_REQUEST',
      detail: `The request does not match the API description at ${errors.map((e) => e.path).join(', ')}`,
      errors,
    });
  }
  const problem = requestProblem(error);
  if (problem) return sendProblem(reply, problem);
  if (isRetriable(error)) {
    request.log.warn({ err: error }, 'The store is unavailable; answering 503');
    reply.header('retry-after', '5');
    return sendProblem(reply, {
      status: 503,
      title: 'Store unavailable',
      code: 'STORE_UNAVAILABLE',
      detail: 'The views cannot be read right now; try again later',
    });
  }
  request.log.error({ err: error }, 'Unexpected lookup error');
  return sendProblem(reply, {
    status: 500,
    title: 'Internal error',
    code: 'INTERNAL',
    detail: 'Unexpected error',
  });
}
