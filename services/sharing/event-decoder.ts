import { readFileSync } from 'node:fs';
import { type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Type } from 'avsc';
import { type LienthongEvent } from '../../schemas/generated/events';
import { envelopeErrors } from '../../schemas/envelope';
import { resolveSchemaPath, TOPICS, type TopicName } from '../../schemas/topics';
import { type AvroResolver, createAvroResolver, fromConfluentWire, parseAvroSchema } from '../platform/avro';
import { type Clock, systemClock } from '../platform/clock';
import { ERROR_CODES, type ErrorCode, LienthongError, UnavailableError } from '../platform/errors';
import { fetchSchemaText } from '../platform/registry-client';

/** A message that will never decode into a valid event: it goes to the dead-letter topic. */
export class PoisonMessageError extends LienthongError {
  override name = 'PoisonMessageError';

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: false });
  }
}

export interface EventDecoder {
  /**
   * Decodes a message of `topic` read from Kafka into the event its contract describes.
   *
   * @throws {PoisonMessageError} for bytes that are not Confluent-framed Avro
   *   (`EVENT_UNDECODABLE`), a schema id the registry has not known for the retry time
   *   (`SCHEMA_UNKNOWN`), a writer
   *   schema the topic's contract cannot read (`SCHEMA_INCOMPATIBLE`), or an event that breaks the
   *   contract's rules (`EVENT_INVALID`)
   * @throws {UnavailableError} when the registry cannot be asked, or does not know the schema id
   *   yet: retriable
   */
  decode(topic: TopicName, value: Buffer | null, options?: DecodeOptions): Promise<LienthongEvent>;
}

export interface DecodeOptions {
  /**
   * The bytes were decoded and held to the contract before, by this service (a change of its
   * internal topic carries the domain event's own bytes, which only it may write): the contract's
   * rules are not checked again, only the Avro is read.
   */
  checked?: boolean;
}

/** How long a schema id the registry does not know is asked for again before it is poison. */
export const UNKNOWN_SCHEMA_RETRY_MS = 5 * 60_000;

/**
 * How long a `SCHEMA_UNKNOWN` verdict answers for its id without asking the registry again: enough
 * to spare the registry a burst of messages with one unknown id, short enough that a record
 * redriven after the registry is restored is read with the restored schema.
 */
export const UNKNOWN_VERDICT_MS = 1_000;

/** How long any other poison verdict on a schema id (its schema cannot be read) is kept. */
const POISON_VERDICT_MS = 60_000;

/** Unknown ids remembered at most, so that garbage with random ids cannot grow the map for ever. */
const UNKNOWN_IDS_KEPT = 10_000;

/**
 * Decodes by schema id. Each id is fetched from the registry once, then its resolver against the
 * topic's own contract (the reader schema this code was generated from) is cached, so a message
 * costs one map lookup and one Avro read.
 *
 * An id the registry answers 404 for is not poison at once: a registry restored from an older state
 * (a backup, a lost log topic) is missing ids it will have again once the agencies' schemas are
 * registered anew, and dead-lettering would refuse whole topics. For `unknownSchemaRetryMs` from the
 * id's first 404 the decoder throws a retriable error, which the consumer retries with backoff;
 * after that the id is `SCHEMA_UNKNOWN`. Verdicts are cached briefly, so a burst of garbage does not
 * become a burst of registry calls: an unknown id's for {@link UNKNOWN_VERDICT_MS} only, since the
 * registry may learn it again (a restore) and its dead letters then be redriven.
 */
export function createEventDecoder(options: {
  registry: SchemaRegistry;
  rootDir?: string;
  /** {@link UNKNOWN_SCHEMA_RETRY_MS} by default; 0 makes a 404 final at once. */
  unknownSchemaRetryMs?: number;
  /** Times the retries of unknown ids; the system clock by default. */
  clock?: Clock;
}): EventDecoder {
  const readers = new Map<TopicName, Type>();
  const resolvers = new Map<string, Promise<AvroResolver>>();
  const retryMs = options.unknownSchemaRetryMs ?? UNKNOWN_SCHEMA_RETRY_MS;
  const clock = options.clock ?? systemClock;
  /** When the registry first said it did not know each id. */
  const firstUnknown = new Map<number, number>();

  const readerOf = (topic: TopicName): Type => {
    let type = readers.get(topic);
    if (!type) {
      type = parseAvroSchema(readFileSync(resolveSchemaPath(topic, options.rootDir), 'utf8'));
      readers.set(topic, type);
    }
    return type;
  };

  const resolve = async (topic: TopicName, schemaId: number): Promise<AvroResolver> => {
    let text: string;
    try {
      text = await fetchSchemaText(options.registry, schemaId);
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) {
        const now = clock();
        const since = firstUnknown.get(schemaId) ?? now;
        if (!firstUnknown.has(schemaId)) {
          if (firstUnknown.size >= UNKNOWN_IDS_KEPT)
            firstUnknown.delete(firstUnknown.keys().next().value as number);
          firstUnknown.set(schemaId, since);
        }
        if (now - since < retryMs) {
          throw new UnavailableError(
            ERROR_CODES.SCHEMA_UNKNOWN,
            `The registry has no schema ${schemaId} yet; asking again for ${Math.ceil((retryMs - (now - since)) / 1_000)} s`,
            { cause: err },
          );
        }
        throw new PoisonMessageError(
          ERROR_CODES.SCHEMA_UNKNOWN,
          `The registry has had no schema ${schemaId} for ${Math.round((now - since) / 1_000)} s`,
          { cause: err },
        );
      }
      throw new UnavailableError(
        ERROR_CODES.REGISTRY_UNAVAILABLE,
        `Cannot fetch schema ${schemaId}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    firstUnknown.delete(schemaId);
    try {
      return createAvroResolver(readerOf(topic), parseAvroSchema(text));
    } catch (err) {
      throw new PoisonMessageError(
        ERROR_CODES.SCHEMA_INCOMPATIBLE,
        `Schema ${schemaId} cannot be read as the ${topic} contract: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };

  const resolverFor = (topic: TopicName, schemaId: number): Promise<AvroResolver> => {
    const key = `${topic}/${schemaId}`;
    let pending = resolvers.get(key);
    if (!pending) {
      pending = resolve(topic, schemaId);
      resolvers.set(key, pending);
      // Only a poison verdict is worth keeping; an outage must be asked again.
      pending.catch((err: unknown) => {
        if (!(err instanceof PoisonMessageError)) resolvers.delete(key);
        else {
          const keepMs = err.code === ERROR_CODES.SCHEMA_UNKNOWN ? UNKNOWN_VERDICT_MS : POISON_VERDICT_MS;
          setTimeout(() => resolvers.delete(key), keepMs).unref();
        }
      });
    }
    return pending;
  };

  return {
    async decode(topic, value, options = {}) {
      if (value === null)
        throw new PoisonMessageError(ERROR_CODES.EVENT_UNDECODABLE, 'The message has no value');
      let framed;
      try {
        framed = fromConfluentWire(value);
      } catch (err) {
        throw new PoisonMessageError(ERROR_CODES.EVENT_UNDECODABLE, (err as Error).message, { cause: err });
      }
      const resolver = await resolverFor(topic, framed.schemaId);
      const reader = readerOf(topic);
      let event: unknown;
      try {
        event = reader.fromBuffer(framed.payload, resolver);
      } catch (err) {
        throw new PoisonMessageError(
          ERROR_CODES.EVENT_UNDECODABLE,
          `Cannot decode the Avro payload with schema ${framed.schemaId}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (options.checked === true) return event as LienthongEvent;
      const issues = envelopeErrors(reader, event);
      const { sourceAgency } = event as { sourceAgency: string };
      if (sourceAgency !== TOPICS[topic].owner) {
        issues.push({
          path: 'sourceAgency',
          message: `${topic} events come from ${TOPICS[topic].owner} only`,
        });
      }
      if (issues.length > 0) {
        const detail = issues.map((i) => `${i.path || '$'}: ${i.message}`).join('; ');
        throw new PoisonMessageError(
          ERROR_CODES.EVENT_INVALID,
          `The event breaks the ${topic} contract: ${detail}`,
        );
      }
      return event as LienthongEvent;
    },
  };
}
