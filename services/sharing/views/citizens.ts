import { checkCccd } from '../../../connectors/runtime/identifiers';
import { payloadOf } from '../../../schemas/envelope';
import { blankDoc, mergeSection, type Projection, readSection, sectionKey, withDerived } from '../projection';
import { ALL_EVENT_TYPES, businessRepresentatives, withPartySection } from './shared-sections';

/**
 * `citizens`, one document per citizen identity number:
 * - `identity`: what the number itself says (province of birth registration, sex, birth year);
 * - `tax.<taxCode>`: each tax code the citizen holds (personal, household business), with status and debt;
 * - `enterprises.<code>`: the enterprises the citizen represents, or represented, at law;
 * - `vehicles.<plate>`: the vehicles the citizen owns or owned;
 * - `dossiers.<id>`: the dossiers the citizen filed, with their status and due date.
 */
export const citizensProjection: Projection = {
  view: 'citizens',
  handles: ALL_EVENT_TYPES,

  ids({ event }, read) {
    switch (event.eventType) {
      case 'EnterpriseRegistered':
      case 'EnterpriseAmended':
      case 'EnterpriseStatusChanged':
        return businessRepresentatives(event, read).all;
      default:
        // Connectors list every citizen an event concerns: applicants, taxpayers, both owners.
        return event.subjects.citizenIds;
    }
  },

  evolve(current, sourced, id, read) {
    const doc = withDerived(current ?? blankDoc(id), 'identity', identityOf(id));
    const shared = withPartySection(doc, sourced, { view: 'citizens', id }, read);
    if (shared) return shared;
    const { event } = sourced;
    switch (event.eventType) {
      case 'EnterpriseRegistered':
      case 'EnterpriseAmended':
      case 'EnterpriseStatusChanged': {
        const payload = payloadOf(event);
        const code = payload.enterpriseCode;
        const role =
          businessRepresentatives(event, read).current === id
            ? 'LEGAL_REPRESENTATIVE'
            : 'FORMER_LEGAL_REPRESENTATIVE';
        const fields: Record<string, unknown> = { enterpriseCode: code, role };
        const enterprise = readSection(read.get('enterprises', code), ['registration']);
        const name = 'name' in payload && payload.name !== null ? payload.name : enterprise?.name;
        if (name !== undefined) fields.name = name;
        if ('status' in payload) fields.status = payload.status;
        else if (event.eventType === 'EnterpriseRegistered') fields.status = 'OPERATING';
        else if (enterprise?.status !== undefined) fields.status = enterprise.status;
        return mergeSection(doc, ['enterprises', sectionKey(code)], fields, sourced);
      }
      default:
        return doc;
    }
  },
};

/**
 * What a citizen identity number says about its holder. Derived from the id alone, so it carries
 * no provenance and is the same whichever event created the document.
 */
export function identityOf(citizenId: string): Record<string, unknown> {
  // The number passed a connector's check on its way in; only that check's birth-year bound needs a clock.
  const parts = checkCccd(citizenId, Number.MAX_SAFE_INTEGER);
  if (!parts.ok) return { citizenId };
  return {
    citizenId,
    birthProvinceCode: parts.value.province,
    sex: parts.value.sex,
    birthYear: parts.value.birthYear,
  };
}
