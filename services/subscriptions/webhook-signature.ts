/**
 * Signing and verifying webhooks by the Standard Webhooks scheme. This file is what agencies get:
 * it imports nothing but Node's crypto, so a receiver copies it as it is, and lienthong's demo
 * receiver verifies with this very file.
 *
 * - Headers: `webhook-id` (the idempotency key: the same event sent again has the same id),
 *   `webhook-timestamp` (seconds since the epoch) and `webhook-signature`, a space-separated list
 *   of `v1,<base64 HMAC-SHA256>`: one per secret in force, so that while a secret is rotated a
 *   receiver holding either the old or the new one verifies.
 * - What is signed: `${id}.${timestamp}.${body}`, the body as the exact bytes received.
 * - Secrets: `whsec_` followed by the base64 of the key's bytes.
 * - A timestamp more than `toleranceSeconds` (5 minutes) from the receiver's clock is refused,
 *   so a captured request cannot be replayed later; within that window, the receiver discards a
 *   `webhook-id` it has already processed.
 *
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Why a webhook was refused; what a receiver answers or logs. */
export const WEBHOOK_REFUSALS = {
  missingHeaders: 'missing-headers',
  badTimestamp: 'bad-timestamp',
  timestampTooOld: 'timestamp-too-old',
  timestampTooNew: 'timestamp-too-new',
  badSignature: 'bad-signature',
} as const;
export type WebhookRefusal = (typeof WEBHOOK_REFUSALS)[keyof typeof WEBHOOK_REFUSALS];

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  constructor(readonly reason: WebhookRefusal) {
    super(`The webhook is refused: ${reason}`);
  }
}

/** A new secret: 32 random bytes, as `whsec_<base64>`. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

function signature(secret: string, id: string, timestamp: number, body: string): string {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/**
 * The three headers of a webhook: `body` signed with every secret of `secrets` (one `v1,`
 * signature each), at `timestamp` seconds.
 */
export function signWebhook(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => `v1,${signature(s, id, timestamp, body)}`).join(' '),
  };
}

/**
 * Checks a received webhook. `headers` are the request's (lower-case names); `body` the exact
 * body received, as text; `secrets` the receiver's (more than one while rotating); `nowSeconds`
 * the receiver's clock.
 *
 * @returns the `webhook-id`, the idempotency key
 * @throws {WebhookVerificationError} naming the reason
 */
export function verifyWebhook(
  secrets: readonly string[],
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): string {
  const one = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = one('webhook-id');
  const stamp = one('webhook-timestamp');
  const signatures = one('webhook-signature');
  if (!id || !stamp || !signatures) throw new WebhookVerificationError(WEBHOOK_REFUSALS.missingHeaders);
  if (!/^\d{1,12}$/.test(stamp)) throw new WebhookVerificationError(WEBHOOK_REFUSALS.badTimestamp);
  const timestamp = Number(stamp);
  if (timestamp < nowSeconds - toleranceSeconds)
    throw new WebhookVerificationError(WEBHOOK_REFUSALS.timestampTooOld);
  if (timestamp > nowSeconds + toleranceSeconds)
    throw new WebhookVerificationError(WEBHOOK_REFUSALS.timestampTooNew);
  const given = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = Buffer.from(signature(secret, id, timestamp, body), 'base64');
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return id;
  }
  throw new WebhookVerificationError(WEBHOOK_REFUSALS.badSignature);
}
