import { type FastifyInstance } from 'fastify';
import { queryFlag } from '../jaxrs-params';
import { RegistryError } from '../registry-errors';
import { type RegistryService } from '../registry-service';
import {
  body,
  errors,
  principal,
  q,
  query,
  READ_ERRORS,
  SUBJECT,
  type SubjectParams,
  WRITABLE_SUBJECT,
  WRITE_ERRORS,
} from './shared';

/** Confluent's modes; only READWRITE is offered here. */
const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT', 'FORWARD'] as const;

const MODE_BODY = {
  type: 'object',
  properties: {
    mode: { type: ['string', 'null'], description: `READWRITE; ${MODES.slice(1).join(', ')} are 42205` },
  },
} as const;

const MODE = { type: 'object', properties: { mode: { type: 'string' } } } as const;

/** Modes: this registry is always READWRITE, which is what clients expect by default. */
export function registerModeRoutes(app: FastifyInstance, service: RegistryService): void {
  const readWrite = { mode: 'READWRITE' } as const;
  app.get(
    '/mode',
    { schema: { querystring: query('defaultToGlobal'), response: { 200: MODE, ...errors() } } },
    async () => readWrite,
  );
  app.get<{ Params: SubjectParams }>(
    '/mode/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('defaultToGlobal'),
        response: { 200: MODE, ...errors(...READ_ERRORS, 'SUBJECT_MODE_NOT_FOUND') },
      },
    },
    async (request) => {
      if (queryFlag(q(request), 'defaultToGlobal')) return readWrite;
      throw new RegistryError(
        'SUBJECT_MODE_NOT_FOUND',
        `Subject '${request.params.subject}' does not have subject-level mode configured`,
      );
    },
  );
  const modeErrors = errors(...WRITE_ERRORS, 'INVALID_MODE', 'OPERATION_NOT_PERMITTED');
  app.put<{ Body: { mode?: string | null } | undefined }>(
    '/mode',
    { schema: { querystring: query('force'), body: MODE_BODY, response: { 200: MODE, ...modeErrors } } },
    async (request) => {
      service.assertOperator(principal(request));
      return setMode(request.body);
    },
  );
  app.put<{ Params: SubjectParams; Body: { mode?: string | null } | undefined }>(
    '/mode/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: WRITABLE_SUBJECT } },
        querystring: query('force'),
        body: MODE_BODY,
        response: {
          200: MODE,
          ...errors(...WRITE_ERRORS, 'INVALID_SUBJECT', 'INVALID_MODE', 'OPERATION_NOT_PERMITTED'),
        },
      },
    },
    async (request) => {
      service.assertMayWrite(principal(request), request.params.subject);
      return setMode(request.body);
    },
  );
  app.delete(
    '/mode',
    { schema: { querystring: query('recursive'), response: { 200: MODE, ...errors('FORBIDDEN') } } },
    async (request) => {
      service.assertOperator(principal(request));
      return readWrite;
    },
  );
  app.delete<{ Params: SubjectParams }>(
    '/mode/:subject',
    {
      schema: {
        params: { type: 'object', properties: { subject: SUBJECT } },
        querystring: query('recursive'),
        response: { 200: MODE, ...errors(...READ_ERRORS, 'FORBIDDEN', 'SUBJECT_NOT_FOUND') },
      },
    },
    async (request) => {
      service.assertMayWrite(principal(request), request.params.subject);
      // No subject has a mode of its own here, which Confluent answers as an unknown subject.
      throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${request.params.subject}' not found.`);
    },
  );
}

/** READWRITE is accepted as a no-op; other modes are valid in Confluent but not offered here. */
function setMode(request: { mode?: string | null } | undefined): { mode: 'READWRITE' } {
  const mode = body({ body: request }).mode?.toUpperCase() ?? '';
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new RegistryError(
      'INVALID_MODE',
      'Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD',
      {
        issues: [{ path: 'body.mode', message: `must be one of ${MODES.join(', ')}` }],
      },
    );
  }
  if (mode !== 'READWRITE') {
    throw new RegistryError(
      'OPERATION_NOT_PERMITTED',
      `Mode ${mode} is not offered: this registry is always READWRITE`,
    );
  }
  return { mode: 'READWRITE' };
}
