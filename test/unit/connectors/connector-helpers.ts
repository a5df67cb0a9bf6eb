import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { type Type } from 'avsc';
import {
  type AgencyDefinition,
  type MappedEvent,
  type RecordIssue,
} from '../../../connectors/runtime/agency';
import { envelopeErrors } from '../../../schemas/envelope';
import { resolveSchemaPath, type TopicName } from '../../../schemas/topics';
import { decodeAvro, encodeAvro, parseAvroSchema } from '../../../services/platform/avro';

/** 2025-07-01T00:00:00+07:00: later than every fixture and every demo record. */
export const NOW = Date.UTC(2025, 5, 30, 17);

const types = new Map<TopicName, Type>();

/** The topic's current value schema, as the registry would serve it. */
export function topicType(topic: TopicName): Type {
  let type = types.get(topic);
  if (!type) {
    type = parseAvroSchema(readFileSync(resolveSchemaPath(topic), 'utf8'));
    types.set(topic, type);
  }
  return type;
}

/** A golden event of `test/fixtures/avro/<topic>/v1/`. */
export function goldenEvent(topic: TopicName, eventType: string): Record<string, unknown> {
  const file = path.resolve(__dirname, '../../fixtures/avro', topic, 'v1', `${eventType}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/**
 * A validator of native records configured as the connector runtime's (`connectors/runtime/ingest.ts`):
 * answers Ajv's errors as `{ path, keyword }`, or `[]` when the record passes.
 */
export function nativeChecker(
  definition: AgencyDefinition,
): (record: unknown) => { path: string; keyword: string }[] {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(definition.nativeSchema);
  return (record) =>
    validate(record)
      ? []
      : (validate.errors ?? []).map((e) => ({
          path: `${e.instancePath}${e.keyword === 'required' ? `/${String(e.params.missingProperty)}` : ''}${e.keyword === 'additionalProperties' ? `/${String(e.params.additionalProperty)}` : ''}`,
          keyword: e.keyword,
        }));
}

/** Maps a record expected to be accepted, failing with its issues if it is not. */
export function mapAccepted<T extends TopicName>(
  definition: AgencyDefinition<T, never>,
  record: unknown,
  now = NOW,
): MappedEvent<T> {
  const result = definition.map(record as never, { now });
  if (!result.ok) throw new Error(`Refused: ${JSON.stringify(result.issues)}`);
  return result.value;
}

/** The issues of a record expected to be refused, as `[path, code]` pairs. */
export function mapRefused(
  definition: AgencyDefinition<TopicName, never>,
  record: unknown,
  now = NOW,
): [string, string][] {
  const result = definition.map(record as never, { now });
  if (result.ok) throw new Error(`Accepted: ${JSON.stringify(result.value.event)}`);
  return result.issues.map((i: RecordIssue) => [i.path, i.code]);
}

/** Asserts that the event is valid for its topic's schema and survives an Avro round trip unchanged. */
export function expectEncodes(topic: TopicName, event: unknown): void {
  const type = topicType(topic);
  expect(envelopeErrors(type, event)).toEqual([]);
  expect(decodeAvro(type, encodeAvro(type, event))).toEqual(event);
}
