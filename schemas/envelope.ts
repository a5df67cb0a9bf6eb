import { type Type } from 'avsc';
import { type AvroValueIssue, validationErrors } from '../services/platform/avro';
import { type LienthongEvent } from './generated/events';

/**
 * The record an event carries, unwrapped from its one-key payload union. Distributes over a union
 * of events, so a union of payloads comes out rather than `never`.
 */
export type PayloadOf<E extends LienthongEvent> = E extends LienthongEvent
  ? E['payload'][keyof E['payload']]
  : never;

/**
 * The record an event carries. `payload` holds it under its full Avro name (see
 * `parseAvroSchema`); `eventType` already says which, so this only unwraps it.
 */
export function payloadOf<E extends LienthongEvent>(event: E): PayloadOf<E> {
  return Object.values(event.payload)[0] as PayloadOf<E>;
}

/**
 * {@link validationErrors} for an event envelope, plus the one rule Avro cannot express: that
 * `eventType` names the record the payload holds. Readers route on `eventType` alone, so a
 * mismatch would send the payload to the wrong projection.
 */
export function envelopeErrors(type: Type, value: unknown): AvroValueIssue[] {
  const issues = validationErrors(type, value);
  if (typeof value !== 'object' || value === null) return issues;
  const { eventType, payload } = value as { eventType?: unknown; payload?: unknown };
  if (typeof eventType !== 'string' || typeof payload !== 'object' || payload === null) return issues;
  const branches = Object.keys(payload);
  if (branches.length !== 1) return issues;
  const [branch = ''] = branches;
  const held = branch.slice(branch.lastIndexOf('.') + 1);
  if (held !== eventType) {
    issues.push({ path: 'eventType', message: `eventType is ${eventType}, but the payload holds a ${held}` });
  }
  return issues;
}
