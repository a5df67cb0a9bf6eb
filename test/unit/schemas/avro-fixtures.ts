import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TOPIC_NAMES, type TopicName } from '../../../schemas/topics';

/** The repository root, where `schemas/` and `test/fixtures/` live. */
export const ROOT = path.resolve(__dirname, '../../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/avro');

/** One golden event: a value as `parseAvroSchema` decodes it, written with one schema version. */
export interface GoldenEvent {
  topic: TopicName;
  version: string;
  eventType: string;
  file: string;
  value: Record<string, unknown>;
}

/** The schema versions kept for a topic (`v1`, `v2`...), oldest first. */
export function schemaVersions(topic: TopicName): string[] {
  return readdirSync(path.join(FIXTURES, topic))
    .filter((d) => /^v\d+$/.test(d))
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** Every golden event of every topic and schema version. */
export function goldenEvents(): GoldenEvent[] {
  return TOPIC_NAMES.flatMap((topic) =>
    schemaVersions(topic).flatMap((version) => {
      const dir = path.join(FIXTURES, topic, version);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => ({
          topic,
          version,
          eventType: path.basename(f, '.json'),
          file: path.relative(ROOT, path.join(dir, f)),
          value: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>,
        }));
    }),
  );
}

export function readText(relative: string): string {
  return readFileSync(path.join(ROOT, relative), 'utf8');
}
