import { type Admin, type Consumer, type IHeaders, type Kafka, type Message } from 'kafkajs';
import { type Logger } from 'pino';
import { type LienthongEvent } from '../../schemas/generated/events';
import { TOPICS, type TopicName } from '../../schemas/topics';
import { encodeAvro, toConfluentWire } from '../platform/avro';
import { type Clock } from '../platform/clock';
import { ACKS_ALL, type RenewingProducer } from '../platform/kafka';
import { type EventDecoder, PoisonMessageError } from '../sharing/event-decoder';
import { inForce } from './agreement';
import { type DerivedContract, type DerivedEvent } from './derived-schema';

/** One derived event written to the derived topic, with where its source was read. */
export interface Derivation {
  derived: DerivedEvent;
  event: LienthongEvent;
  source: { topic: string; partition: number; offset: string };
  target: { topic: string; partition: number; key: string };
}

export interface DeriverDeps {
  kafka: Kafka;
  admin: Admin;
  producer: RenewingProducer;
  decoder: EventDecoder;
  logger: Logger;
  contract: DerivedContract;
  /** The registry's id of the derived schema, which frames every derived message. */
  schemaId: number;
  derivedTopic: string;
  /** The agreement's source topics: Kafka topic name to contract. */
  sources: ReadonlyMap<string, TopicName>;
  groupId: string;
  clock: Clock;
  /** Told every batch's derivations before they are written to Kafka and their offsets committed. */
  onDerived?: (derivations: readonly Derivation[]) => Promise<void> | void;
}

export interface DeriverStats {
  derived: number;
  /** Events of a type the agreement does not cover. */
  skipped: number;
  /** Messages that never decode: the sharing service dead-letters them; here they are passed over. */
  poison: number;
}

/** A consumer that runs while its agreement is in force, and counts what it did. */
export interface AgreementRunner<S> {
  start(): Promise<void>;
  /** Stops consuming, once the batch in hand is done, and disconnects. */
  stop(): Promise<void>;
  stats(): S;
}

export type Deriver = AgreementRunner<DeriverStats>;

/** Stops `consumer` (its batch in hand finishes) and disconnects it; nothing when there is none. */
export async function stopConsumer(consumer: Consumer | undefined): Promise<void> {
  if (consumer === undefined) return;
  await consumer.stop();
  await consumer.disconnect();
}

/**
 * One agreement's derivation: a consumer group of its own over the agreement's source topics that
 * writes, for each event the agreement covers, the derived event to the agreement's topic. A new
 * group starts at the agreement's `deliverFrom` (a backfill when that is in the past); an existing
 * one goes on from its committed offsets.
 *
 * Per batch: decode, derive, write the derived events (acks=all) into the partition of the derived
 * topic that matches the source partition, so one entity's events keep their order; then commit.
 * A crash between the write and the commit writes the same derived events again, with the same
 * derived eventIds, which consumers deduplicate on. Once the agreement is no longer in force
 * (`validUntil`), nothing more is derived: the partition is paused, its offsets left where
 * delivery stopped.
 */
export function createDeriver(deps: DeriverDeps): Deriver {
  const { agreement } = deps.contract;
  const stats: DeriverStats = { derived: 0, skipped: 0, poison: 0 };
  let consumer: Consumer | undefined;
  let partitions = 0;

  /** A new group starts at `deliverFrom`, each partition at its first record written since. */
  const seekNewGroup = async (): Promise<void> => {
    const topics = [...deps.sources.keys()];
    const committed = await deps.admin.fetchOffsets({ groupId: deps.groupId, topics });
    for (const { topic, partitions: parts } of committed) {
      if (parts.some((p) => p.offset !== '-1')) continue;
      const from = await deps.admin.fetchTopicOffsetsByTimestamp(topic, agreement.deliverFrom);
      await deps.admin.setOffsets({ groupId: deps.groupId, topic, partitions: from });
    }
  };

  return {
    async start() {
      const metadata = await deps.admin.fetchTopicMetadata({ topics: [deps.derivedTopic] });
      partitions = metadata.topics[0]?.partitions.length ?? 0;
      if (partitions === 0) throw new Error(`The derived topic ${deps.derivedTopic} has no partitions`);
      await seekNewGroup();
      const c = deps.kafka.consumer({ groupId: deps.groupId, allowAutoTopicCreation: false });
      consumer = c;
      await c.connect();
      await c.subscribe({ topics: [...deps.sources.keys()], fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch, resolveOffset, heartbeat, isRunning, isStale, pause } = payload;
          const topic = deps.sources.get(batch.topic);
          if (topic === undefined) return;
          const out: Message[] = [];
          const derivations: Derivation[] = [];
          let last: string | undefined;
          for (const message of batch.messages) {
            if (!isRunning() || isStale()) break;
            if (!inForce(agreement, deps.clock())) {
              deps.logger.info(
                { agreement: agreement.id },
                'The agreement is no longer in force; delivery stops',
              );
              pause();
              break;
            }
            let event: LienthongEvent;
            try {
              event = await deps.decoder.decode(topic, message.value);
            } catch (err) {
              // A retriable error (the registry away) is thrown: kafkajs retries the batch.
              if (!(err instanceof PoisonMessageError)) throw err;
              stats.poison += 1;
              deps.logger.warn(
                { code: err.code, topic: batch.topic, partition: batch.partition, offset: message.offset },
                'A message that never decodes is passed over',
              );
              last = message.offset;
              continue;
            }
            const derived = deps.contract.derive(topic, event);
            last = message.offset;
            if (derived === undefined) {
              stats.skipped += 1;
              continue;
            }
            const target = {
              topic: deps.derivedTopic,
              partition: batch.partition % partitions,
              key: String(derived.record[TOPICS[topic].keyField] ?? ''),
            };
            out.push({
              key: target.key,
              partition: target.partition,
              value: toConfluentWire(deps.schemaId, encodeAvro(deps.contract.type, derived.value)),
              headers: traceHeaders(message.headers),
            });
            derivations.push({
              derived,
              event,
              source: { topic: batch.topic, partition: batch.partition, offset: message.offset },
              target,
            });
          }
          if (out.length > 0) {
            // Recorded first (the feed, the data flow with its citizens), so that whoever reads
            // the derived topic finds the record; a failed send records again on the retry.
            await deps.onDerived?.(derivations);
            await deps.producer.sendBatch({
              acks: ACKS_ALL,
              topicMessages: [{ topic: deps.derivedTopic, messages: out }],
            });
            stats.derived += out.length;
          }
          if (last === undefined) return;
          resolveOffset(last);
          // The batch's own commit, which kafkajs makes during a stop too: `consumer.commitOffsets`
          // drops it once `consumer.stop()` has begun, and the batch a stop ended would be derived
          // again by the next start (the same eventIds, which consumers deduplicate, but sent twice).
          const offset = (BigInt(last) + 1n).toString();
          await payload.commitOffsetsIfNecessary({
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }],
          });
          await heartbeat();
        },
      });
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      await stopConsumer(c);
    },
    stats: () => ({ ...stats }),
  };
}

/** The source's trace goes on with the derived event. */
function traceHeaders(headers: IHeaders | undefined): IHeaders {
  const traceparent = headers?.traceparent;
  return traceparent === undefined ? {} : { traceparent };
}
