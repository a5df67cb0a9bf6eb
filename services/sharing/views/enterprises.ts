import { payloadOf } from '../../../schemas/envelope';
import { blankDoc, mergeSection, type Projection } from '../projection';
import { ALL_EVENT_TYPES, at, businessRepresentatives, withPartySection } from './shared-sections';

/**
 * `enterprises`, one document per enterprise code:
 * - `registration`: name, legal form, head office, legal representative (and the one before),
 *   charter capital, status;
 * - `tax.<taxCode>`: the enterprise's tax codes (its own, its branches'), with status and debt;
 * - `vehicles.<plate>`: the vehicles it owns or owned;
 * - `dossiers.<id>`: the dossiers it filed.
 */
export const enterprisesProjection: Projection = {
  view: 'enterprises',
  handles: ALL_EVENT_TYPES,

  ids: ({ event }) => event.subjects.enterpriseCodes,

  evolve(current, sourced, id, read) {
    const doc = current ?? blankDoc(id);
    const shared = withPartySection(doc, sourced, { view: 'enterprises', id }, read);
    if (shared) return shared;
    const { event } = sourced;
    switch (event.eventType) {
      case 'EnterpriseRegistered': {
        const p = payloadOf(event);
        return mergeSection(
          doc,
          ['registration'],
          {
            enterpriseCode: p.enterpriseCode,
            name: p.name,
            legalForm: p.legalForm,
            address: p.address,
            legalRepresentativeCitizenId: p.legalRepresentativeCitizenId,
            charterCapital: p.charterCapital,
            registeredAt: at(p.registeredAt),
            amendmentNumber: 0,
            status: 'OPERATING',
          },
          sourced,
        );
      }
      case 'EnterpriseAmended': {
        const p = payloadOf(event);
        const representatives = businessRepresentatives(event, read);
        const fields: Record<string, unknown> = {
          enterpriseCode: p.enterpriseCode,
          amendmentNumber: p.amendmentNumber,
          amendedAt: at(p.amendedAt),
        };
        // An amendment carries only what it changes.
        if (p.name !== null) fields.name = p.name;
        if (p.legalForm !== null) fields.legalForm = p.legalForm;
        if (p.address !== null) fields.address = p.address;
        if (p.charterCapital !== null) fields.charterCapital = p.charterCapital;
        if (representatives.current !== undefined)
          fields.legalRepresentativeCitizenId = representatives.current;
        if (representatives.previous !== undefined) {
          fields.previousLegalRepresentativeCitizenId = representatives.previous;
          fields.legalRepresentativeChangedBy = event.eventId;
        }
        return mergeSection(doc, ['registration'], fields, sourced);
      }
      case 'EnterpriseStatusChanged': {
        const p = payloadOf(event);
        return mergeSection(
          doc,
          ['registration'],
          {
            enterpriseCode: p.enterpriseCode,
            status: p.status,
            statusEffectiveAt: at(p.effectiveAt),
            statusReason: p.reason,
          },
          sourced,
        );
      }
      default:
        return doc;
    }
  },
};
