import { type Db } from 'mongodb';
import { type Logger } from 'pino';
import { ACKS_ALL, type RenewingProducer } from '../platform/kafka';
import { type TopicDeclaration } from '../platform/topic-policy';
import { type AuditRecord, canonicalJson } from './audit-chain';
import { type AuditTrail } from './audit-trail';

export const AUDIT_TOPIC = 'lookup.audit';
const RELAY_PROGRESS = 'audit_relay';

/**
 * One partition: the chain is one total order, and a reader of the topic can check it link by link
 * without the store. The topic policy keeps it ten years, the retention of the access records it
 * copies.
 */
export function auditTopicDeclaration(topic: string = AUDIT_TOPIC): TopicDeclaration {
  return { topic, kind: 'audit', numPartitions: 1 };
}

/** Records sent to Kafka in one batch at most. */
const SEND_BATCH = 500;
/** Records held in memory for Kafka at most; beyond, they are read back from the store later. */
const MAX_BUFFERED = 20_000;
const RETRY_MS = 1_000;

export interface AuditRelay {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The last sequence number Kafka acknowledged. */
  published(): number;
}

/**
 * Copies the audit trail to Kafka, in chain order, after the store has it: the store is the record
 * and the topic a copy for other systems, so a lookup never waits for Kafka. Each message is the
 * record's canonical JSON keyed by its sequence number; delivery is at least once, and a reader
 * drops a sequence number it has seen. Progress is kept in the store, so a restart resumes where
 * Kafka last acknowledged, reading back from the store what memory no longer holds.
 */
export function createAuditRelay(deps: {
  trail: AuditTrail;
  db: Db;
  producer: RenewingProducer;
  topic: string;
  logger: Logger;
}): AuditRelay {
  const progress = deps.db.collection<{ _id: string; seq: number }>(RELAY_PROGRESS);
  let buffered: AuditRecord[] = [];
  let published = 0;
  let running = false;
  let wake: () => void = () => undefined;
  let loop: Promise<void> | undefined;

  deps.trail.onStored((records) => {
    if (buffered.length + records.length > MAX_BUFFERED) buffered = [];
    buffered.push(...records);
    wake();
  });

  const nextBatch = async (): Promise<AuditRecord[]> => {
    buffered = buffered.filter((r) => r.seq > published);
    const head = deps.trail.head().seq;
    if (head <= published) return [];
    // Memory holds the records only if nothing was dropped between `published` and it.
    if (buffered[0]?.seq === published + 1) return buffered.slice(0, SEND_BATCH);
    return deps.trail.range(published + 1, Math.min(head, published + SEND_BATCH));
  };

  const run = async (): Promise<void> => {
    while (running) {
      try {
        const batch = await nextBatch();
        if (batch.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, RETRY_MS).unref();
          });
          continue;
        }
        await deps.producer.sendBatch({
          acks: ACKS_ALL,
          topicMessages: [
            {
              topic: deps.topic,
              // The topic's one partition (`auditTopicDeclaration`).
              messages: batch.map((r) => ({ key: String(r.seq), value: canonicalJson(r), partition: 0 })),
            },
          ],
        });
        published = (batch.at(-1) as AuditRecord).seq;
        await progress.updateOne({ _id: deps.topic }, { $set: { seq: published } }, { upsert: true });
      } catch (err) {
        deps.logger.warn({ err, published }, 'Copying the audit trail to Kafka failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  };

  return {
    async start() {
      published = (await progress.findOne({ _id: deps.topic }))?.seq ?? 0;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake();
      await loop;
    },
    published: () => published,
  };
}
