import { type Kafka, type KafkaMessage, type Message } from 'kafkajs';
import { type Db } from 'mongodb';
import { type Logger } from 'pino';
import { ACKS_ALL, type RenewingProducer } from '../platform/kafka';
import { type TopicDeclaration } from '../platform/topic-policy';
import { readWholeTopic } from '../sharing/redrive';
import { type AuditCopy, type AuditRecord, type AuditSeal, canonicalJson, recordJson } from './audit-chain';
import { type AuditTrail } from './audit-trail';
import { LINEAGE_GROUP_PREFIX } from './event-fetcher';

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

/**
 * The header that tells a seal from a record on the audit topic. A message without it is a record,
 * as every message was before seals were copied.
 */
export const AUDIT_KIND_HEADER = 'lienthong-audit-kind';
export const AUDIT_KINDS = { record: 'record', seal: 'seal' } as const;

/** A record's message: its canonical JSON, keyed by its sequence number. */
function recordMessage(record: AuditRecord): Message {
  return {
    key: String(record.seq),
    value: recordJson(record),
    headers: { [AUDIT_KIND_HEADER]: AUDIT_KINDS.record },
    // The topic's one partition (`auditTopicDeclaration`).
    partition: 0,
  };
}

/** A seal's message, keyed `seal-<seq>`, after the record it seals on the same partition. */
function sealMessage(seal: AuditSeal): Message {
  return {
    key: `seal-${seal.seq}`,
    value: canonicalJson(seal),
    headers: { [AUDIT_KIND_HEADER]: AUDIT_KINDS.seal },
    partition: 0,
  };
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
  /** The sequence number of the last seal Kafka acknowledged. */
  publishedSeal(): number;
}

/**
 * Copies the audit trail to Kafka, in chain order, after the store has it: the store is the record
 * and the topic a copy for other systems, so a lookup never waits for Kafka. Each message is the
 * record's canonical JSON keyed by its sequence number; delivery is at least once, and a reader
 * drops a sequence number it has seen. Progress is kept in the store, so a restart resumes where
 * Kafka last acknowledged, reading back from the store what memory no longer holds.
 *
 * Seals go to the same partition, each right after the record it seals, so that the topic anchors
 * the chain outside the store: `verify` compares the store with it (`readAuditCopy`).
 */
export function createAuditRelay(deps: {
  trail: AuditTrail;
  db: Db;
  producer: RenewingProducer;
  topic: string;
  logger: Logger;
}): AuditRelay {
  const progress = deps.db.collection<{ _id: string; seq: number; sealSeq?: number }>(RELAY_PROGRESS);
  let buffered: AuditRecord[] = [];
  let seals: AuditSeal[] = [];
  let published = 0;
  let publishedSeal = 0;
  let running = false;
  let wake: () => void = () => undefined;
  let loop: Promise<void> | undefined;

  deps.trail.onStored((records) => {
    if (buffered.length + records.length > MAX_BUFFERED) buffered = [];
    buffered.push(...records);
    wake();
  });
  deps.trail.onSealed((seal) => {
    seals.push(seal);
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

  /** Sends the next records and the seals they reach; false when there was nothing to send. */
  const sendNext = async (): Promise<boolean> => {
    const batch = await nextBatch();
    const upTo = batch.at(-1)?.seq ?? published;
    seals = seals.filter((s) => s.seq > publishedSeal);
    const sealed = seals.filter((s) => s.seq <= upTo);
    if (batch.length === 0 && sealed.length === 0) return false;
    await deps.producer.sendBatch({
      acks: ACKS_ALL,
      topicMessages: [
        { topic: deps.topic, messages: [...batch.map(recordMessage), ...sealed.map(sealMessage)] },
      ],
    });
    published = upTo;
    publishedSeal = Math.max(publishedSeal, ...sealed.map((s) => s.seq));
    await progress.updateOne(
      { _id: deps.topic },
      { $set: { seq: published, sealSeq: publishedSeal } },
      { upsert: true },
    );
    return true;
  };

  const run = async (): Promise<void> => {
    while (running) {
      try {
        if (await sendNext()) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, RETRY_MS).unref();
        });
      } catch (err) {
        deps.logger.warn({ err, published }, 'Copying the audit trail to Kafka failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  };

  return {
    async start() {
      const saved = await progress.findOne({ _id: deps.topic });
      published = saved?.seq ?? 0;
      publishedSeal = saved?.sealSeq ?? 0;
      if (published > deps.trail.head().seq) {
        // Kafka holds records the store lost: verify names them against the copy. Positions the
        // store now reuses are not copied again, so the copy keeps the records first written there.
        deps.logger.error(
          { published, head: deps.trail.head().seq },
          'The audit store holds fewer records than were copied to Kafka',
        );
      }
      // Seals made while the relay was down or before it acknowledged them.
      seals = [...(await deps.trail.sealsAfter(publishedSeal)), ...seals];
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      // The last seal, made as the trail closed, goes out now rather than at the next start.
      try {
        while (await sendNext());
      } catch (err) {
        deps.logger.warn({ err, published }, 'The audit trail is copied to Kafka at the next start');
      }
    },
    published: () => published,
    publishedSeal: () => publishedSeal,
  };
}

/**
 * Reads the audit topic whole, in a short-lived group of the lookup service's own, and keeps of it
 * what `verify` compares with the store: each record's hash and every seal.
 */
export async function readAuditCopy(kafka: Kafka, topic: string): Promise<AuditCopy> {
  const hashes = new Map<number, string>();
  const seals: AuditSeal[] = [];
  await readWholeTopic(
    kafka,
    topic,
    (_partition, message) => {
      const parsed = parseCopy(message);
      if (parsed?.kind === AUDIT_KINDS.seal) seals.push(parsed.seal);
      else if (parsed && !hashes.has(parsed.seq)) hashes.set(parsed.seq, parsed.hash);
    },
    LINEAGE_GROUP_PREFIX,
  );
  return { hashes, seals };
}

type Copied =
  | { kind: typeof AUDIT_KINDS.record; seq: number; hash: string }
  | { kind: typeof AUDIT_KINDS.seal; seal: AuditSeal };

function parseCopy(message: KafkaMessage): Copied | undefined {
  try {
    const value = JSON.parse(message.value?.toString('utf8') ?? '') as Record<string, unknown>;
    const { seq, hash } = value;
    if (typeof seq !== 'number' || typeof hash !== 'string') return undefined;
    if (message.headers?.[AUDIT_KIND_HEADER]?.toString() !== AUDIT_KINDS.seal) {
      return { kind: AUDIT_KINDS.record, seq, hash };
    }
    const { keyId, signature, at } = value;
    if (typeof keyId !== 'string' || typeof signature !== 'string' || typeof at !== 'string')
      return undefined;
    return {
      kind: AUDIT_KINDS.seal,
      seal: { _id: String(value._id), seq, hash, at: new Date(at), keyId, signature },
    };
  } catch {
    // Not a message of this trail: nothing to compare.
    return undefined;
  }
}
