import { payloadOf } from '../../schemas/envelope';
import { type TopicName } from '../../schemas/topics';
import { AGENCY_SYSTEM_ROLE, type AuditEntry } from '../lookup/audit-chain';
import { ExposureCollector } from '../lookup/exposures';
import { type Agreement } from './agreement';
import { type Derivation } from './deriver';

/** The action of a delivery record: not a route, since nobody asked; the agreement's release. */
export const DELIVERY_ACTION = 'DELIVER agreement';

/** The view that holds the entity a source contract's events are keyed by. */
const VIEW_OF_TOPIC: Readonly<Record<TopicName, string>> = {
  'business-registration': 'enterprises',
  tax: 'enterprises',
  vehicle: 'vehicles',
  dossier: 'dossiers',
};

/**
 * The audit entry of one derived event: a data flow from the source agency to the consumer
 * agency's system, under this version of the agreement. Its fields are `<topic>.<event type>.<field>`,
 * masked as the agreement declares; its exposures are the citizen ids those fields hold, found by
 * their keys as a lookup's are (the legal representative, the new owner, the previous owner shown
 * by its last four digits); its `citizenIds` add the source event's subjects, whose data it is.
 */
export function deliveryAuditEntry(
  agreement: Agreement,
  topic: TopicName,
  derivation: Derivation,
): AuditEntry {
  const { event, derived } = derivation;
  const rules = agreement.sources.find((s) => s.topic === topic)?.events[event.eventType] ?? {};
  const source = payloadOf(event) as unknown as Record<string, unknown>;
  const prefix = `${topic}.${event.eventType}`;
  const masks = derived.fields.map((name) => ({ field: `${prefix}.${name}`, mask: rules[name] ?? 'clear' }));
  const exposed = new ExposureCollector();
  for (const name of derived.fields) exposed.walk({ [name]: source[name] }, prefix, rules[name] ?? 'clear');
  const exposures = exposed.exposures();
  const citizenIds = [
    ...new Set([...exposures.map((e) => e.citizenId), ...event.subjects.citizenIds]),
  ].sort();
  return {
    action: DELIVERY_ACTION,
    actor: {
      id: `${agreement.consumer}/${agreement.id}`,
      agency: agreement.consumer,
      role: AGENCY_SYSTEM_ROLE,
    },
    subject: { view: VIEW_OF_TOPIC[topic], id: derivation.target.key },
    dossierId: null,
    procedureCode: null,
    fields: masks.map((m) => m.field),
    sources: [event.sourceAgency],
    masks,
    exposures,
    citizenIds,
    flow: {
      agreementId: agreement.id,
      agreementVersion: agreement.version,
      purpose: agreement.purpose,
      legalBasis: agreement.legalBasis,
      topic,
      eventType: event.eventType,
      eventId: derived.value.eventId,
      sourceEventId: event.eventId,
    },
    policyVersion: agreement.version,
    result: 'allowed',
    reason: null,
    // Nobody asked over HTTP: the agreement let the event go, as a 200 would have.
    status: 200,
    traceId: null,
  };
}
