import { type Kafka } from 'kafkajs';
import { BSON, type Db } from 'mongodb';
import { isRetriable } from '../platform/errors';
import { type EventDecoder } from '../sharing/event-decoder';
import { materialize } from '../sharing/materializer';
import {
  type SourcedEvent,
  sourcedEvent,
  VIEW_NAMES,
  type ViewDoc,
  type ViewName,
} from '../sharing/projection';
import { type ViewStore } from '../sharing/view-store';
import { type AnswerEvent, type AuditRecord, sha256Hex } from './audit-chain';
import { type Exposure } from './exposures';
import { type FieldPolicies, projectDocument } from './field-policy';
import { coordinatesKey, type PartitionRead, readPartitions } from './event-fetcher';
import { contractOf, LINEAGE_MISSES } from './lineage';
import { POLICY_VERSION_MISSES, policyVersion } from './policy-versions';
import { SUBJECT_ROUTES } from './subjects';

/**
 * Why a part of an answer cannot be rebuilt. Stable codes: auditors count them.
 * - the lineage codes for one recorded event: `EVENT_NOT_FOUND` (its topic or partition is gone, its
 *   offset is beyond the partition's end or was not reached in time), `EVENT_REPLACED` (another
 *   event is at its offset: the topic was recreated), `EVENT_UNREADABLE`;
 * - `PARTITION_TRUNCATED`: the partition no longer starts at offset 0, so the earlier events a
 *   section may depend on (the versions before its last, the vehicle a transfer names) are gone;
 * - `POLICY_VERSION_UNKNOWN`, `POLICY_VERSION_ALTERED`, `POLICY_VERSION_UNREADABLE`: the policy
 *   file the answer was cut by is not kept, no longer hashes to its digest, or no longer loads;
 * - `POLICY_GRANT_MISSING`: that file grants the procedure nothing for the view;
 * - `DOCUMENT_NOT_REBUILT`: the events replayed do not make the document.
 */
export const RECONSTRUCTION_MISSES = {
  ...LINEAGE_MISSES,
  PARTITION_TRUNCATED: 'PARTITION_TRUNCATED',
  ...POLICY_VERSION_MISSES,
  POLICY_GRANT_MISSING: 'POLICY_GRANT_MISSING',
  DOCUMENT_NOT_REBUILT: 'DOCUMENT_NOT_REBUILT',
} as const;
export type ReconstructionMissCode = (typeof RECONSTRUCTION_MISSES)[keyof typeof RECONSTRUCTION_MISSES];

export interface ReconstructionMiss {
  code: ReconstructionMissCode;
  reason: string;
  /** The recorded event at fault, for the event codes. */
  event?: AnswerEvent;
  /** The partition at fault, for `PARTITION_TRUNCATED`. */
  partition?: { topic: string; partition: number; start: string };
}

export interface Reconstruction {
  /** Whether every recorded event and the policy version were found, so the body could be rebuilt. */
  complete: boolean;
  /** The body rebuilt, exactly as it would be sent; null when incomplete. */
  body: string | null;
  digest: { recorded: string; reconstructed: string | null; matches: boolean };
  /** Every recorded event, and whether it was found at its coordinates with its eventId. */
  events: (AnswerEvent & { found: boolean })[];
  misses: ReconstructionMiss[];
  /** Whom the rebuilt body shows, for the reconstruction's own audit record. */
  exposures: Exposure[];
}

/** Why a record cannot be reconstructed at all: it is not a lookup's answer with evidence. */
export class NotReconstructible extends Error {}

export interface ReconstructDeps {
  kafka: Kafka;
  decoder: EventDecoder;
  db: Db;
  /** The policies served now; older versions come from the store. */
  policies: FieldPolicies;
  readTimeoutMs: number;
  /** Serializes a lookup answer as the lookup route does. */
  serialize: (answer: Record<string, unknown>) => string;
}

/** The view of a lookup route's action, such as `GET /v1/vehicles/:plate`. */
function viewOfAction(action: string): ViewName | undefined {
  return SUBJECT_ROUTES.find(({ view, param }) => action === `GET /v1/${view}/:${param}`)?.view;
}

/**
 * Rebuilds the body a lookup answered, from the events its record names, read back from Kafka,
 * through the sharing service's own projections and map bounds, then cut by the policy version the
 * record names and serialized as the lookup route does; its SHA-256 must be the recorded one.
 *
 * Each section's events all belong to the aggregate of its recorded event, so sit in its partition
 * (a topic is keyed by aggregate id) at lower offsets, or at the offsets its late fills and a
 * derived value's sources recorded. So each partition named is read from its start to the highest
 * offset recorded in it, and its events of those aggregates are replayed: events after that offset
 * changed no served section (the consumer applies a partition in order, and a change stamps the
 * section). Partitions do not depend on each other.
 *
 * @throws NotReconstructible for a record of another route, a refusal, or one written before
 *   answers were recorded
 */
export async function reconstructAnswer(record: AuditRecord, deps: ReconstructDeps): Promise<Reconstruction> {
  const view = viewOfAction(record.action);
  if (!view || record.status !== 200 || !record.subject) {
    throw new NotReconstructible(
      'Only an allowed lookup of a citizen, enterprise, vehicle or dossier is reconstructed',
    );
  }
  if (record.answerDigest === undefined || record.answerEvents === undefined) {
    throw new NotReconstructible(
      'The record was written before answers were recorded: it names no digest or events',
    );
  }
  const recorded = record.answerEvents;
  const misses: ReconstructionMiss[] = [];
  const policies = await policyVersion(deps.db, record.policyVersion, deps.policies);
  if ('code' in policies) misses.push(policies);

  const reads = theirAggregates(await readPartitions(deps.kafka, recorded, deps.readTimeoutMs), recorded);
  const decoded = await decodeReads(reads, recorded, deps.decoder);
  const events = recorded.map((event) => {
    const miss = checkEvent(event, reads, decoded);
    if (miss) misses.push(miss);
    return { ...event, found: miss === undefined };
  });
  for (const read of reads) {
    if (read.start !== '0') {
      misses.push({
        code: RECONSTRUCTION_MISSES.PARTITION_TRUNCATED,
        reason: `${read.topic}/${read.partition} starts at offset ${read.start}: the events before it are gone`,
        partition: { topic: read.topic, partition: read.partition, start: read.start },
      });
    }
  }
  const incomplete = (): Reconstruction => ({
    complete: false,
    body: null,
    digest: { recorded: record.answerDigest as string, reconstructed: null, matches: false },
    events,
    misses,
    exposures: [],
  });
  if (misses.length > 0 || 'code' in policies) return incomplete();

  const docs = await replay(reads, decoded);
  const stored = docs[view].get(record.subject.id);
  const grant = policies.find(record.procedureCode ?? '', record.actor?.agency ?? '');
  const rules = grant?.views[view];
  if (!grant || !rules) {
    misses.push({
      code: RECONSTRUCTION_MISSES.POLICY_GRANT_MISSING,
      reason: `Policy version ${record.policyVersion} grants procedure ${record.procedureCode} no ${view} to ${record.actor?.agency}`,
    });
    return incomplete();
  }
  if (!stored) {
    misses.push({
      code: RECONSTRUCTION_MISSES.DOCUMENT_NOT_REBUILT,
      reason: 'The events replayed do not make the document',
    });
    return incomplete();
  }
  // Through BSON, as the store gives documents back: the same types (an undefined is a null).
  const doc = BSON.deserialize(BSON.serialize(stored)) as ViewDoc;
  const projected = projectDocument(doc, view, rules);
  const body = deps.serialize({
    subject: { view, id: record.subject.id },
    dossierId: record.dossierId,
    procedureCode: record.procedureCode,
    policy: { procedureCode: grant.procedureCode, agency: grant.agency },
    data: projected.data,
  });
  const digest = sha256Hex(body);
  return {
    complete: true,
    body,
    digest: { recorded: record.answerDigest, reconstructed: digest, matches: digest === record.answerDigest },
    events,
    misses,
    exposures: projected.exposures,
  };
}

/**
 * Each partition's messages of the aggregates the recorded events belong to: a topic is keyed by
 * aggregate id, and a section depends on its own aggregate's events alone (the vehicle a transfer
 * names is the plate it is keyed by). The other aggregates of the partition are left out of the
 * replay, which then costs what the answer's own aggregates hold, not what their partitions hold.
 */
function theirAggregates(reads: readonly PartitionRead[], recorded: readonly AnswerEvent[]): PartitionRead[] {
  return reads.map((read) => {
    const offsets = new Set(
      recorded.filter((e) => e.topic === read.topic && e.partition === read.partition).map((e) => e.offset),
    );
    const keys = new Set(
      read.messages.filter((m) => offsets.has(m.offset)).map((m) => m.key?.toString('base64')),
    );
    return { ...read, messages: read.messages.filter((m) => keys.has(m.key?.toString('base64'))) };
  });
}

/** Each partition's messages decoded, by coordinates; a message that never decodes is left out. */
async function decodeReads(
  reads: readonly PartitionRead[],
  recorded: readonly AnswerEvent[],
  decoder: EventDecoder,
): Promise<Map<string, SourcedEvent | Error>> {
  const out = new Map<string, SourcedEvent | Error>();
  for (const read of reads) {
    const agency = recorded.find((e) => e.topic === read.topic)?.agency;
    const contract = agency === undefined ? undefined : contractOf(agency);
    for (const message of read.messages) {
      const at = { topic: read.topic, partition: read.partition, offset: message.offset };
      if (!contract) {
        out.set(coordinatesKey(at), new Error(`No contract is owned by ${agency ?? 'the topic'}`));
        continue;
      }
      try {
        const event = await decoder.decode(contract, message.value);
        // Provenance is never served to officers: `ingestedAt` and the trace id are left blank.
        out.set(coordinatesKey(at), sourcedEvent(event, at, new Date(0), null));
      } catch (err) {
        // A registry outage is not the event's fault: the auditor is told to try again.
        if (isRetriable(err)) throw err;
        // The consumer dead-lettered it too: it changed no view.
        out.set(coordinatesKey(at), err as Error);
      }
    }
  }
  return out;
}

/** Why a recorded event is not at its coordinates, or undefined when it is. */
function checkEvent(
  event: AnswerEvent,
  reads: readonly PartitionRead[],
  decoded: ReadonlyMap<string, SourcedEvent | Error>,
): ReconstructionMiss | undefined {
  const read = reads.find((r) => r.topic === event.topic && r.partition === event.partition);
  const notFound = (reason: string): ReconstructionMiss => ({
    code: LINEAGE_MISSES.EVENT_NOT_FOUND,
    reason,
    event,
  });
  if (!read) return notFound(`Topic ${event.topic} has no partition ${event.partition} any more`);
  if (BigInt(read.start) > BigInt(event.offset)) {
    return notFound(
      `Offset ${event.offset} is before the partition's start, ${read.start}: removed by retention`,
    );
  }
  const found = decoded.get(coordinatesKey(event));
  if (found === undefined) {
    return notFound(
      read.complete
        ? `No message at offset ${event.offset}: the partition ends before it`
        : `Offset ${event.offset} was not reached in time`,
    );
  }
  if (found instanceof Error) {
    return {
      code: LINEAGE_MISSES.EVENT_UNREADABLE,
      reason: `The message cannot be decoded: ${found.message}`,
      event,
    };
  }
  // Coordinates name a place, not an event: after a topic is recreated they hold another one.
  if (found.event.eventId !== event.eventId) {
    return {
      code: LINEAGE_MISSES.EVENT_REPLACED,
      reason:
        'Another event is at these coordinates: the topic was recreated or the views come from another cluster',
      event,
    };
  }
  return undefined;
}

/** The views the partitions' events make, in memory, through the consumer's own batch logic. */
async function replay(
  reads: readonly PartitionRead[],
  decoded: ReadonlyMap<string, SourcedEvent | Error>,
): Promise<Record<ViewName, Map<string, ViewDoc>>> {
  const docs = Object.fromEntries(VIEW_NAMES.map((v) => [v, new Map<string, ViewDoc>()])) as Record<
    ViewName,
    Map<string, ViewDoc>
  >;
  const store: ViewStore = {
    async load(view, ids) {
      return new Map(ids.flatMap((id) => (docs[view].has(id) ? [[id, docs[view].get(id) as ViewDoc]] : [])));
    },
    async write(view, changes) {
      for (const { after } of changes) docs[view].set(after._id, after);
      return changes.length;
    },
    // What the bounds cut is out of the documents, which is all an answer reads.
    archive: async () => undefined,
  };
  for (const read of reads) {
    const batch = read.messages
      .map((m) =>
        decoded.get(coordinatesKey({ topic: read.topic, partition: read.partition, offset: m.offset })),
      )
      .filter((e): e is SourcedEvent => e !== undefined && !(e instanceof Error));
    await materialize(batch, store);
  }
  return docs;
}
