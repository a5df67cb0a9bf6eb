import { setTimeout as sleep } from 'node:timers/promises';
import { generateRecords } from '../../connectors/demo/generator';
import { TOPIC_NAMES, type TopicName } from '../../schemas/topics';
import { connectorHarness } from '../support/connector';
import { DEFINITIONS } from '../support/event-stream';

/** Where a connector said a record went. */
export interface AcceptedRecord {
  topic: string;
  /** The record's place in its agency's list, which says what was sent. */
  index: number;
  eventId: string;
  partition: number;
  offset: string;
}

/** One agency's connector and the records it is sent, in order. */
export interface LoadTarget {
  agency: TopicName;
  url: string;
  apiKey: string;
  records: readonly unknown[];
}

/** One answer to a POST, or a request that got none (status 0). */
export interface LoadAnswer {
  at: number;
  agency: TopicName;
  status: number;
}

interface RecordOutcome {
  status?: string;
  eventId?: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

/**
 * Load through the connectors' HTTP API, as an agency system sends it: per agency, one batch at a
 * time, in order, at a steady pace; a batch not answered 2xx is sent again, unchanged, until it
 * is, so that no record is given up and one entity's records stay in order. The records of a batch
 * sent more than once may be in the log more than once, and are remembered as resent.
 */
export function connectorLoad(targets: readonly LoadTarget[], options: { batch: number; pauseMs: number }) {
  const accepted: AcceptedRecord[] = [];
  const answers: LoadAnswer[] = [];
  /** `agency/index` of every record in a batch that was sent more than once. */
  const resent = new Set<string>();
  const rejected: string[] = [];
  let stopping = false;

  const post = async (target: LoadTarget, batch: readonly unknown[]) => {
    try {
      const response = await fetch(`${target.url}/v1/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await response.json().catch(() => ({}))) as { records?: RecordOutcome[] };
      return { status: response.status, records: body.records ?? [] };
    } catch {
      return { status: 0, records: [] };
    }
  };

  const run = async (target: LoadTarget): Promise<void> => {
    for (let next = 0; !stopping && next < target.records.length; next += options.batch) {
      const batch = target.records.slice(next, next + options.batch);
      for (let attempt = 0; ; attempt += 1) {
        if (attempt > 0) for (let i = 0; i < batch.length; i += 1) resent.add(`${target.agency}/${next + i}`);
        const answer = await post(target, batch);
        answers.push({ at: Date.now(), agency: target.agency, status: answer.status });
        if (answer.status >= 200 && answer.status < 300) {
          answer.records.forEach((r, i) => {
            if (r.status === 'accepted' && r.eventId && r.topic && r.offset !== undefined)
              accepted.push({
                topic: r.topic,
                index: next + i,
                eventId: r.eventId,
                partition: r.partition ?? -1,
                offset: r.offset,
              });
            else rejected.push(`${target.agency}/${next + i}`);
          });
          break;
        }
        await sleep(250);
      }
      await sleep(options.pauseMs);
    }
  };

  let running: Promise<unknown> | undefined;
  return {
    accepted,
    answers,
    resent,
    rejected,
    start(): void {
      running = Promise.all(targets.map(run));
    },
    /** Stops after the batches in flight are answered 2xx. */
    async stop(): Promise<void> {
      stopping = true;
      await running;
    },
  };
}

/** A connector of each agency, writing to `topics`: the ones a fault test loads. */
export function agencyConnectors(topics: Readonly<Record<TopicName, string>>) {
  return TOPIC_NAMES.map((agency) => ({
    agency,
    harness: connectorHarness(DEFINITIONS[agency], { topic: topics[agency] }),
  }));
}

/**
 * {@link connectorLoad} through every agency's connector, each sent `recordsPerAgency` demo
 * records of its own, more than a run sends: the load stops when told to. `records` are what
 * each agency is sent, in order, for checking what a connector wrote against.
 */
export function agencyLoad(
  connectors: ReturnType<typeof agencyConnectors>,
  recordsPerAgency: number,
  options: { batch: number; pauseMs: number },
) {
  const seed = Date.now() % 1_000_000;
  const records = Object.fromEntries(
    TOPIC_NAMES.map((agency) => [agency, generateRecords(agency, recordsPerAgency, seed)]),
  ) as Record<TopicName, unknown[]>;
  const load = connectorLoad(
    connectors.map((c) => ({
      agency: c.agency,
      url: c.harness.url(),
      apiKey: c.harness.apiKey,
      records: records[c.agency],
    })),
    options,
  );
  return Object.assign(load, { records });
}

/** A fault's unavailability, from the answers given between its start and its end. */
export interface Unavailability {
  /** The longest time without a 2xx answer, from the fault's start to its end, in ms. */
  longestGapMs: number;
  /** Answers 503, and requests that got no answer at all. */
  unavailable: number;
  notAnswered: number;
  answered2xx: number;
}

export function unavailability(answers: readonly LoadAnswer[], from: number, to: number): Unavailability {
  const during = answers.filter((a) => a.at >= from && a.at <= to);
  let last = from;
  let longestGapMs = 0;
  for (const a of during) {
    if (a.status < 200 || a.status >= 300) continue;
    longestGapMs = Math.max(longestGapMs, a.at - last);
    last = a.at;
  }
  longestGapMs = Math.max(longestGapMs, to - last);
  return {
    longestGapMs,
    unavailable: during.filter((a) => a.status === 503).length,
    notAnswered: during.filter((a) => a.status === 0).length,
    answered2xx: during.filter((a) => a.status >= 200 && a.status < 300).length,
  };
}
