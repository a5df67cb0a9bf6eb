import { type Static, Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import { deepFreeze, readJsonConfigFile } from '../platform/config';
import { ConfigError, type ConfigIssue } from '../platform/errors';
import { type Agreement } from './agreement';

/** The variable that names the endpoints file. */
export const ENDPOINTS_VARIABLE = 'SUBSCRIPTIONS_ENDPOINTS_FILE';

export const EndpointsFile = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    endpoints: Type.Array(
      Type.Object(
        {
          /** The subscription's id: what `GET /v1/subscriptions/{id}/deliveries` names. */
          id: Type.String({ pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 80 }),
          agreement: Type.String({ minLength: 1 }),
          url: Type.String({ pattern: '^https?://\\S+$' }),
          /**
           * The secrets in force, `whsec_<base64>`: every one signs each request, so a receiver
           * holding any of them verifies while a secret is rotated. Add the new one, let the
           * receiver switch, then remove the old one.
           */
          secrets: Type.Array(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$' }), { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type WebhookEndpoint = Static<typeof EndpointsFile>['endpoints'][number];

/**
 * Reads and checks the webhook endpoints: each names an agreement that exists, and an `https`
 * URL (plain `http` only on the loopback, for a local demo). Every problem is reported at once.
 * The file holds secrets: keep it mode 0600, like the Kafka password files.
 *
 * @throws ConfigError listing every problem
 */
export function loadEndpoints(path: string, agreements: readonly Agreement[]): readonly WebhookEndpoint[] {
  return webhookEndpoints(readJsonConfigFile(path, ENDPOINTS_VARIABLE), agreements, path);
}

/** {@link loadEndpoints} of parsed content. */
export function webhookEndpoints(
  content: unknown,
  agreements: readonly Agreement[],
  source = 'the endpoints file',
): readonly WebhookEndpoint[] {
  const issues: ConfigIssue[] = [];
  const issue = (message: string) =>
    issues.push({ variable: ENDPOINTS_VARIABLE, message: `${source}: ${message}` });
  const validate = new Ajv({ allErrors: true, strict: false }).compile(EndpointsFile);
  // A secret is never quoted back: the message names its place only.
  if (!validate(content))
    for (const e of validate.errors ?? []) issue(`${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  const known = new Set(agreements.map((a) => a.id));
  const ids = new Set<string>();
  const entries = (content as { endpoints?: unknown } | null)?.endpoints;
  (Array.isArray(entries) ? (entries as Partial<WebhookEndpoint>[]) : []).forEach((e, i) => {
    if (typeof e.agreement === 'string' && !known.has(e.agreement))
      issue(`/endpoints/${i}/agreement ${e.agreement} is not a declared agreement`);
    if (typeof e.id === 'string' && ids.has(e.id))
      issue(`/endpoints/${i}/id ${e.id} is declared a second time`);
    if (typeof e.id === 'string') ids.add(e.id);
    if (typeof e.url === 'string' && e.url.startsWith('http://') && !isLoopback(e.url))
      issue(`/endpoints/${i}/url must be https: plain http is for the loopback only`);
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze((content as Static<typeof EndpointsFile>).endpoints);
}

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}
