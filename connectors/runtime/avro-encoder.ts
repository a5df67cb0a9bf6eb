import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Type } from 'avsc';
import { encodeAvro, parseAvroSchema, toConfluentWire } from '../../services/platform/avro';
import { ERROR_CODES, LienthongError } from '../../services/platform/errors';

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
  let loaded: { id: number; type: Type } | undefined;
  let starting: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    try {
      const id = await registry.getLatestSchemaId(subject);
      const schema = await fetchSchemaText(registry, id);
      loaded = { id, type: parseAvroSchema(schema) };
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

  const current = (): { id: number; type: Type } => {
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
      const { id, type } = current();
      return toConfluentWire(id, encodeAvro(type, value));
    },
    schemaId: () => current().id,
  };
}

/** The part of the client's internal REST API this module reads: `GET /schemas/ids/{id}`. */
interface RegistryApi {
  Schema: {
    find(args: { id: number }): Promise<{
      data(): { schema?: unknown; schemaType?: unknown; references?: unknown };
    }>;
  };
}

/**
 * The schema text the registry holds under `id`. The client's public `getSchema` answers with an
 * avsc type built with its own options, which has already dropped the `decimal` logical type; the
 * text is only reachable through its REST client, `api`, and the request is the one `getSchema`
 * itself makes (`GET /schemas/ids/{id}`, with the client's auth and retries).
 */
async function fetchSchemaText(registry: object, id: number): Promise<string> {
  const api = (registry as { api?: Partial<RegistryApi> }).api;
  if (typeof api?.Schema?.find !== 'function') {
    throw new Error('This @kafkajs/confluent-schema-registry client has no `api.Schema.find`');
  }
  const data = (await api.Schema.find({ id })).data();
  if (data.schemaType !== undefined && data.schemaType !== 'AVRO') {
    throw new Error(`Schema ${id} is ${String(data.schemaType)}, not AVRO`);
  }
  if (Array.isArray(data.references) && data.references.length > 0) {
    // lienthong's contracts are self-contained; a reference would need resolving here too.
    throw new Error(`Schema ${id} has references, which this encoder does not resolve`);
  }
  if (typeof data.schema !== 'string') throw new Error(`Schema ${id} came without its text`);
  return data.schema;
}
