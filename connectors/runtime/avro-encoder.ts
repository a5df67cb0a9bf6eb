import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createConfluentEncoder, parseAvroSchema } from '../../services/platform/avro';
import { ERROR_CODES, LienthongError } from '../../services/platform/errors';
import { fetchSchemaText } from '../../services/platform/registry-client';

export interface CreateAvroEncoderOptions {
  /** A client of the registry, built by the caller with its host and Basic credentials. */
  registry: SchemaRegistry;
  /** The value subject, such as `tax-value`. */
  subject: string;
}

export interface AvroEncoder {
  /** Fetches the subject's latest schema, once. Idempotent; call it before any `encode`. */
  start(): Promise<void>;
  /**
   * Validates `value` against the schema and frames its Avro binary in Confluent's wire format.
   * Synchronous: no registry call per record.
   *
   * @throws {ValidationError} naming every mismatch with its path (`AVRO_VALUE_INVALID`)
   */
  encode(value: unknown): Buffer;
  /** The registry's id of the schema records are written with; throws before `start()`. */
  schemaId(): number;
}

/**
 * Encodes a topic's values with the latest schema of its subject, as the registry had it when
 * the connector started.
 *
 * The schema is fetched once, then used for every record: a connector writes with the version it
 * was built and tested against, and a new version takes effect at the next restart, after it has
 * passed the registry's compatibility check. The raw schema text is parsed with
 * `parseAvroSchema`, not taken as the client's own avsc type, so that decimals are the strings
 * lienthong's contracts expect and unions of records are wrapped the same way everywhere.
 */
export function createAvroEncoder(options: CreateAvroEncoderOptions): AvroEncoder {
  const { registry, subject } = options;
  let loaded: { id: number; encode: (value: unknown) => Buffer } | undefined;
  let starting: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    try {
      const id = await registry.getLatestSchemaId(subject);
      const schema = await fetchSchemaText(registry, id);
      loaded = { id, encode: createConfluentEncoder(id, parseAvroSchema(schema)) };
    } catch (err) {
      starting = undefined;
      if (err instanceof LienthongError) throw err;
      throw new LienthongError(
        ERROR_CODES.INTERNAL,
        `Cannot load the latest schema of subject ${subject}: ${(err as Error).message}`,
        { cause: err, retriable: true },
      );
    }
  };

  const current = (): { id: number; encode: (value: unknown) => Buffer } => {
    if (loaded === undefined) {
      throw new LienthongError(ERROR_CODES.INTERNAL, `The encoder of ${subject} is not started`);
    }
    return loaded;
  };

  return {
    start() {
      starting ??= load();
      return starting;
    },
    encode(value) {
      // Framed in place, each message a view of a shared slab (createConfluentEncoder).
      return current().encode(value);
    },
    schemaId: () => current().id,
  };
}
