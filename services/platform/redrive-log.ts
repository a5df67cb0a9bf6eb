import { type TopicDeclaration } from './topic-policy';

/**
 * Where every way back is recorded: each resend of a quarantined record by its agency, and each
 * redrive of a dead letter by an operator. It lives in the kernel because a connector and the
 * operators' `dlq` tool both write it.
 */
export const REDRIVE_LOG_TOPIC = 'lienthong.redrive-log';

/**
 * The redrive log as the topic policy declares it: an audit record (who sent what back, when, and
 * what came of it) kept as long as the lookup audit, on one partition so it reads in order.
 */
export function redriveLogTopicDeclaration(topic: string = REDRIVE_LOG_TOPIC): TopicDeclaration {
  return { topic, kind: 'audit', numPartitions: 1 };
}

/** What was sent back: a quarantined record by its agency, or a dead letter by an operator. */
export const REDRIVE_ACTIONS = { resend: 'resend', redrive: 'redrive' } as const;
export type RedriveAction = (typeof REDRIVE_ACTIONS)[keyof typeof REDRIVE_ACTIONS];

/** How one attempt ended. */
export const REDRIVE_OUTCOMES = {
  /** The corrected record was accepted and published. */
  accepted: 'accepted',
  /** The corrected record was refused again (and quarantined again with its new reasons). */
  rejected: 'rejected',
  /** The dead letter's original record went back to its topic. */
  republished: 'republished',
  /** The dead letter failed too often: it stays in the dead-letter topic with its history. */
  held: 'held',
} as const;
export type RedriveOutcome = (typeof REDRIVE_OUTCOMES)[keyof typeof REDRIVE_OUTCOMES];

/**
 * One entry of the redrive log. It names records by their coordinates and ids, and failing fields
 * by their paths, never by their values: the log is kept ten years and holds no personal data.
 */
export interface RedriveLogEntry {
  action: RedriveAction;
  /** ISO 8601, UTC. */
  at: string;
  /** Who: the API client id of an agency, or the operator's name. */
  actor: { kind: 'agency' | 'operator'; id: string };
  /** The agency whose record it is. */
  agency: string;
  /** What was sent back: the quarantine id, or the dead letter's coordinates. */
  subject: { quarantineId: string } | { deadLetter: { topic: string; partition: number; offset: string } };
  outcome: RedriveOutcome;
  /** Where the record went, when it was published. */
  target?: { topic: string; partition?: number; offset?: string; eventId?: string };
  /** The redrive attempt this was, counting from 1 (dead letters only). */
  attempt?: number;
  /** The codes and paths of a refusal, when `outcome` is `rejected`. */
  errors?: { path: string; code: string }[];
  /** A dead letter's failures so far, oldest first (dead letters only). */
  history?: { code: string; failedAt: string }[];
}

/** The Kafka record of an entry: keyed by agency, so one agency's history stays in order. */
export function redriveLogRecord(
  topic: string,
  entry: RedriveLogEntry,
): { topic: string; key: string; value: Buffer; headers: Record<string, string> } {
  return {
    topic,
    key: entry.agency,
    value: Buffer.from(JSON.stringify(entry), 'utf8'),
    headers: { 'content-type': 'application/json', 'lienthong-redrive-action': entry.action },
  };
}
