import { type FastifyInstance } from 'fastify';

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
 * The one problem schema every service's document refers to: RFC 9457's members, lienthong's
 * stable `code` and field paths. Other members may follow (the registry's `error_code`).
 * @see https://www.rfc-editor.org/rfc/rfc9457#name-members-of-a-problem-details
 */
export const PROBLEM_SCHEMA = {
  $id: 'Problem',
  type: 'object',
  description: 'An RFC 9457 problem with a stable code',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: '`urn:lienthong:problem:` and the code in lower case' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable: never renamed once released' },
    errors: {
      type: 'array',
      description: 'The fields at fault',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
        additionalProperties: true,
      },
    },
  },
  additionalProperties: true,
} as const;

/** Why a status answers, for a document's error responses. */
export const PROBLEM_STATUSES = {
  400: 'The request does not match this description (malformed URL, parameter, header or body)',
  401: 'No valid credential',
  403: 'The credential does not allow this',
  404: 'Nothing is found for these parameters',
  413: 'The body is too large',
  414: 'A path parameter is longer than this service routes',
  415: 'The body is in a media type this operation does not take',
  422: 'The request is well formed but refused',
  429: 'Too many requests; try again later',
  500: 'An unexpected error',
  503: 'A dependency is unavailable, or the service is starting or stopping; try again later',
} as const;
export type ProblemStatus = keyof typeof PROBLEM_STATUSES;

/** Responses in `application/problem+json` with the shared problem schema, for a route's `response`. */
export function problemResponses(
  statuses: readonly ProblemStatus[],
  descriptions: Partial<Record<ProblemStatus, string>> = {},
): Record<string, unknown> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: descriptions[status] ?? PROBLEM_STATUSES[status],
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } },
      },
    ]),
  );
}

/** Adds the problem schema to an instance once, for routes that refer to it as `Problem#`. */
export function ensureProblemSchema(app: FastifyInstance): void {
  if (!app.getSchema(PROBLEM_SCHEMA.$id)) app.addSchema(PROBLEM_SCHEMA);
}
