import { type Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { TLSSocket } from 'node:tls';
import { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { type Logger } from 'pino';
import { type Clock } from '../../services/platform/clock';
import { type PresentedCredential, type Principal } from '../../services/platform/credentials';
import { isRetriable } from '../../services/platform/errors';
import {
  createHttpServer,
  type Readiness,
  registerOperations,
  requestProblem,
  sendProblem,
} from '../../services/platform/http';
import { AGENCY_KEY_SCHEMES, registerOpenApi } from '../../services/platform/openapi';
import { problemResponses } from '../../services/platform/problem';
import { inSpan } from '../../services/platform/trace-context';
import { type AgencyDefinition } from './agency';
import { IMPORT_FORMATS, ImportRefused, type Imports, ImportStatusSchema } from './imports';
import { BATCH_RESPONSES, sendOutcomes } from './batch-answer';
import { type Ingest } from './ingest';
import { type QuarantineDesk, registerQuarantineRoutes } from './quarantine-routes';

export interface ConnectorLimits {
  /** Largest `POST /v1/records` body, in bytes. */
  bodyLimit: number;
  /** Most records in one `POST /v1/records`. */
  maxRecords: number;
  /** Largest import file, in bytes. */
  importLimit: number;
}

/** PEM contents for HTTPS; with `ca`, clients may present a certificate signed by it. */
export interface ConnectorTls {
  key: string;
  cert: string;
  ca?: string;
}

export interface ConnectorAppOptions {
  definition: AgencyDefinition;
  ingest: Ingest;
  imports: Imports;
  /** The agency's refused records: `GET /v1/quarantine` and its resends. */
  quarantine: QuarantineDesk;
  authenticate: (presented: PresentedCredential) => Principal | undefined;
  logger: Logger;
  limits: ConnectorLimits;
  ready: () => Readiness;
  /** When a POSTed batch was received. */
  clock: Clock;
  tls?: ConnectorTls;
}

declare module 'fastify' {
  interface FastifyRequest {
    agencyPrincipal: Principal | null;
  }
}

// The status file's own schema is the answer's, less the trace context of its events.
const IMPORT_STATUS = Type.Omit(ImportStatusSchema, ['traceparent']);

/**
 * One agency's connector over HTTP: `POST /v1/records` answers every record, accepted (with where
 * Kafka put it) or rejected (with JSON paths); `POST /v1/imports` takes a CSV or NDJSON file;
 * `GET /v1/imports/{id}` reports its progress. A 2xx means Kafka acknowledged every accepted
 * record; when Kafka is unavailable the answer is 503 with `Retry-After`, and nothing is claimed.
 */
export async function buildConnectorApp(options: ConnectorAppOptions): Promise<FastifyInstance> {
  const { definition, ingest, imports, limits } = options;
  const { tls } = options;
  const app = createHttpServer({
    logger: options.logger,
    bodyLimit: limits.bodyLimit,
    // A certificate is asked for but not required: API-key clients connect without one.
    ...(tls
      ? {
          https: {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: false } : {}),
          },
        }
      : {}),
  });
  // Records are JSON only; a text body is refused with 415 rather than parsed as a string.
  app.removeContentTypeParser('text/plain');
  // Files are streamed to disk by the import route, never buffered by a parser.
  app.addContentTypeParser(
    Object.keys(IMPORT_FORMATS),
    { bodyLimit: limits.importLimit },
    (_request, payload, done) => done(null, payload),
  );

  await registerOpenApi(app, {
    info: {
      title: `lienthong ${definition.name} connector`,
      version: '1',
      description: `Publishes ${definition.agency}'s records to the ${definition.topic} topic`,
    },
    securitySchemes: AGENCY_KEY_SCHEMES,
    errors: [400, 401, 403, 414, 500, 503],
  });
  registerOperations(app, { service: `connector-${definition.name}`, ready: options.ready });

  app.decorateRequest('agencyPrincipal', null);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const apiKey = request.headers['x-api-key'];
    const principal = options.authenticate({
      authorization: request.headers.authorization,
      apiKey: Array.isArray(apiKey) ? undefined : apiKey,
      certificateClientId: verifiedCertificateClient(request.raw.socket),
    });
    if (!principal) {
      reply.header('www-authenticate', 'Basic realm="lienthong-connector"');
      return sendProblem(reply, {
        status: 401,
        title: 'Unauthorized',
        code: 'UNAUTHORIZED',
        detail: 'A valid X-API-Key is required',
      });
    }
    if (
      principal.role !== 'operator' &&
      !(principal.role === 'agency' && principal.agency === definition.agency)
    ) {
      return sendProblem(reply, {
        status: 403,
        title: 'Forbidden',
        code: 'FORBIDDEN',
        detail: `Only ${definition.agency} may publish to ${definition.topic}`,
      });
    }
    request.agencyPrincipal = principal;
    return undefined;
  });

  app.setErrorHandler((error: FastifyError, request, reply) =>
    answerError(error, reply, request.log, limits),
  );
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      status: 404,
      title: 'Not found',
      code: 'ROUTE_NOT_FOUND',
      detail: `No route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );

  app.post<{ Body: unknown[] }>(
    '/v1/records',
    {
      schema: {
        summary: 'Publish a batch of records, each answered as accepted or rejected',
        tags: ['records'],
        // Each record is checked on its own below, so that every one gets its own answer.
        body: { type: 'array', minItems: 1, maxItems: limits.maxRecords, items: {} },
        response: {
          ...BATCH_RESPONSES,
          ...problemResponses([413, 415, 422], {
            413: 'The body or the number of records is over the limit',
            422: 'Every record was rejected; `records` says why, one by one',
          }),
        },
      },
    },
    async (request, reply) => {
      const outcomes = await inSpan(
        `${definition.name} POST /v1/records`,
        header(request.headers.traceparent),
        (traceparent) =>
          ingest.ingest(request.body, { source: 'http', traceparent, receivedAt: options.clock() }),
      );
      return sendOutcomes(reply, outcomes);
    },
  );

  app.post(
    '/v1/imports',
    {
      bodyLimit: limits.importLimit,
      // The file is streamed, never parsed into a body to validate: it is described, not declared.
      config: {
        swaggerTransform: ({ schema, url }) => ({
          url,
          schema: {
            ...schema,
            body: {
              content: Object.fromEntries(
                Object.keys(IMPORT_FORMATS).map((type) => [type, { schema: { type: 'string' } }]),
              ),
            },
          },
        }),
      },
      schema: {
        summary: 'Import a CSV or NDJSON file of records',
        description:
          'Send the file as `text/csv` or `application/x-ndjson`; its rows are published in the background',
        tags: ['imports'],
        response: {
          202: { ...IMPORT_STATUS, description: 'The file is stored; its rows are being published' },
          ...problemResponses([413, 415, 422]),
        },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      const format = IMPORT_FORMATS[type as keyof typeof IMPORT_FORMATS];
      if (!format) {
        return sendProblem(reply, {
          status: 415,
          title: 'Unsupported media type',
          code: 'UNSUPPORTED_MEDIA_TYPE',
          detail: `Send text/csv or application/x-ndjson`,
        });
      }
      const status = await inSpan(
        `${definition.name} POST /v1/imports`,
        header(request.headers.traceparent),
        (traceparent) => imports.accept(request.body as Readable, format, traceparent),
      );
      return reply.code(202).header('location', `/v1/imports/${status.id}`).send(status);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/imports/:id',
    {
      schema: {
        summary: "An import's progress and its rejected rows",
        tags: ['imports'],
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } } },
        response: { 200: IMPORT_STATUS, ...problemResponses([404], { 404: 'No import with this id' }) },
      },
    },
    async (request, reply) => {
      const status = imports.status(request.params.id);
      if (!status) {
        return sendProblem(reply, {
          status: 404,
          title: 'Import not found',
          code: 'IMPORT_NOT_FOUND',
          detail: `No import ${request.params.id}`,
        });
      }
      return status;
    },
  );

  registerQuarantineRoutes(app, { definition, ingest, desk: options.quarantine, clock: options.clock });

  return app;
}

/** The CN of a client certificate that TLS verified against the CA, or undefined. */
function verifiedCertificateClient(socket: unknown): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function answerError(
  error: FastifyError,
  reply: FastifyReply,
  log: FastifyBaseLogger,
  limits: ConnectorLimits,
): FastifyReply {
  if (error instanceof ImportRefused) {
    return sendProblem(reply, {
      status: 422,
      title: 'Import refused',
      code: 'IMPORT_REFUSED',
      detail: error.message,
      errors: error.issues,
    });
  }
  if (error.validation) {
    const tooMany = error.validation.some((v) => v.keyword === 'maxItems');
    if (tooMany) {
      return sendProblem(reply, {
        status: 413,
        title: 'Too many records',
        code: 'TOO_MANY_RECORDS',
        detail: `Send at most ${limits.maxRecords} records per request`,
        errors: [{ path: '$', message: `more than ${limits.maxRecords} records` }],
      });
    }
    return sendProblem(reply, {
      status: 400,
      title: 'Malformed request',
      code: 'MALFORMED_REQUEST',
      detail: error.message,
      errors: error.validation.map((v) => ({
        path: `$${v.instancePath.replaceAll('/', '.')}`,
        message: v.message ?? 'is invalid',
      })),
    });
  }
  const problem = requestProblem(error);
  if (problem) return sendProblem(reply, problem);
  if (isRetriable(error)) {
    log.warn({ err: error }, 'Kafka is unavailable; answering 503');
    reply.header('retry-after', '5');
    return sendProblem(reply, {
      status: 503,
      title: 'Kafka is unavailable',
      code: 'KAFKA_UNAVAILABLE',
      detail:
        'Not every record of this request was acknowledged; send it again later (a resend has no second effect)',
    });
  }
  log.error({ err: error }, 'Unexpected connector error');
  return sendProblem(reply, {
    status: 500,
    title: 'Internal error',
    code: 'INTERNAL',
    detail: 'Unexpected error in the connector',
  });
}
