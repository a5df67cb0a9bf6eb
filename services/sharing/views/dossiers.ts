import { payloadOf } from '../../../schemas/envelope';
import { blankDoc, mergeSection, partyOf, type Projection, readSection, versionKey } from '../projection';
import { at, CLOSED_DOSSIER_STATUSES } from './shared-sections';

/**
 * `dossiers`, one document per dossier id:
 * - `dossier`: procedure, applicant, receiving and handling agency, channel, received and due
 *   dates, current status, and once closed whether it closed on time;
 * - `timeline.<version>`: every status with its time, agency and note, keyed by source version.
 */
export const dossiersProjection: Projection = {
  view: 'dossiers',
  handles: new Set(['DossierReceived', 'DossierStatusChanged']),

  ids: ({ event }) => event.subjects.dossierIds,

  evolve(current, sourced, id) {
    let doc = current ?? blankDoc(id);
    const { event } = sourced;
    const timeline = ['timeline', versionKey(event.sourceVersion)];
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
        return mergeSection(
          doc,
          timeline,
          { status: 'RECEIVED', at: at(p.receivedAt), agency: p.receivingAgency, note: null },
          sourced,
        );
      }
      case 'DossierStatusChanged': {
        const p = payloadOf(event);
        const closed = CLOSED_DOSSIER_STATUSES.has(p.status);
        const dueAt = readSection(doc, ['dossier'])?.dueAt;
        const fields: Record<string, unknown> = {
          dossierId: p.dossierId,
          handlingAgency: p.handlingAgency,
          status: p.status,
          open: !closed,
          closedAt: closed ? at(p.changedAt) : null,
          // On time means closed by the due date; an open dossier's lateness depends on the clock,
          // so it is left to the reader.
          onTime: closed && dueAt instanceof Date ? p.changedAt <= dueAt.getTime() : null,
        };
        doc = mergeSection(doc, ['dossier'], fields, sourced);
        return mergeSection(
          doc,
          timeline,
          { status: p.status, at: at(p.changedAt), agency: p.handlingAgency, note: p.note },
          sourced,
        );
      }
      default:
        return current;
    }
  },
};
