import { payloadOf } from '../../../schemas/envelope';
import {
  blankDoc,
  entryKey,
  mergeSection,
  partyOf,
  type Projection,
  readSection,
  type ViewDoc,
} from '../projection';
import { at, CLOSED_DOSSIER_STATUSES } from './shared-sections';

/** The status that stops a dossier's time limit until the next status. */
const PAUSING_STATUS = 'SUPPLEMENT_REQUESTED';

/**
 * `dossiers`, one document per dossier id:
 * - `dossier`: procedure, applicant, receiving and handling agency, channel, received and due
 *   dates, current status, and once closed whether it closed on time;
 * - `timeline.<record>@<version>`: every status with its time, agency and note.
 */
export const dossiersProjection: Projection = {
  view: 'dossiers',
  handles: new Set(['DossierReceived', 'DossierStatusChanged']),

  ids: ({ event }) => event.subjects.dossierIds,

  evolve(current, sourced, id) {
    let doc = current ?? blankDoc(id);
    const { event } = sourced;
    const timeline = ['timeline', entryKey(sourced.source)];
    switch (event.eventType) {
      case 'DossierReceived': {
        const p = payloadOf(event);
        const { view, id: applicantId } = partyOf(p.applicant);
        doc = mergeSection(
          doc,
          ['dossier'],
          {
            dossierId: p.dossierId,
            procedureCode: p.procedureCode,
            procedureName: p.procedureName,
            applicant: view === 'citizens' ? { citizenId: applicantId } : { enterpriseCode: applicantId },
            receivingAgency: p.receivingAgency,
            handlingAgency: p.receivingAgency,
            channel: p.channel,
            receivedAt: at(p.receivedAt),
            dueAt: at(p.dueAt),
            status: 'RECEIVED',
            open: true,
          },
          sourced,
        );
        doc = mergeSection(
          doc,
          timeline,
          { status: 'RECEIVED', at: at(p.receivedAt), agency: p.receivingAgency, note: null },
          sourced,
        );
        return withOnTime(doc);
      }
      case 'DossierStatusChanged': {
        const p = payloadOf(event);
        const closed = CLOSED_DOSSIER_STATUSES.has(p.status);
        const fields: Record<string, unknown> = {
          dossierId: p.dossierId,
          handlingAgency: p.handlingAgency,
          status: p.status,
          open: !closed,
          closedAt: closed ? at(p.changedAt) : null,
          // Judged from the whole timeline below; an open dossier's lateness depends on the clock,
          // so it is left to the reader.
          onTime: null,
        };
        doc = mergeSection(doc, ['dossier'], fields, sourced);
        doc = mergeSection(
          doc,
          timeline,
          { status: p.status, at: at(p.changedAt), agency: p.handlingAgency, note: p.note },
          sourced,
        );
        return withOnTime(doc);
      }
      default:
        return current;
    }
  },
};

/**
 * Sets `dossier.onTime` from the dossier's due date, closing time and timeline; returns `doc`
 * itself when the verdict does not change.
 *
 * The rule: the legal time limit stops while the dossier awaits the applicant's supplement (from a
 * `SUPPLEMENT_REQUESTED` status to the next status, or to the closing if none came before it) and
 * runs otherwise. A closed dossier is on time when `closedAt − paused ≤ dueAt`, that is when it
 * closed by the due date moved later by every pause. The verdict is derived from the timeline
 * ordered by the statuses' own times, not from the order events arrived in, so a status that
 * arrives late (after the closing) gives the same verdict as one that arrived in order; it stays
 * stamped with the closing event, the one that made the dossier judgeable.
 *
 * @see schemas/dossier.avsc, `DossierStatus`: "SUPPLEMENT_REQUESTED: ... the time limit is paused"
 */
export function withOnTime(doc: ViewDoc): ViewDoc {
  const dossier = readSection(doc, ['dossier']);
  if (!dossier) return doc;
  const onTime = onTimeOf(dossier.dueAt, dossier.closedAt, doc.timeline);
  if (onTime === (dossier.onTime ?? null)) return doc;
  return { ...doc, dossier: { ...dossier, onTime } };
}

/** Milliseconds the time limit stood still before `until`, from a dossier's timeline. */
export function pausedBefore(timeline: unknown, until: number): number {
  const entries = Object.values(
    (timeline ?? {}) as Record<
      string,
      { status?: unknown; at?: unknown; source?: { sourceVersion: number } }
    >,
  )
    .filter(
      (e): e is { status: string; at: Date; source?: { sourceVersion: number } } => e.at instanceof Date,
    )
    .filter((e) => e.at.getTime() <= until)
    // Two statuses in the same millisecond keep their source order.
    .sort(
      (a, b) =>
        a.at.getTime() - b.at.getTime() || (a.source?.sourceVersion ?? 0) - (b.source?.sourceVersion ?? 0),
    );
  let paused = 0;
  let since: number | undefined;
  for (const { status, at: when } of entries) {
    if (status === PAUSING_STATUS) since ??= when.getTime();
    else if (since !== undefined) {
      paused += when.getTime() - since;
      since = undefined;
    }
  }
  return since === undefined ? paused : paused + (until - since);
}

function onTimeOf(dueAt: unknown, closedAt: unknown, timeline: unknown): boolean | null {
  if (!(dueAt instanceof Date) || !(closedAt instanceof Date)) return null;
  const closed = closedAt.getTime();
  return closed - pausedBefore(timeline, closed) <= dueAt.getTime();
}
