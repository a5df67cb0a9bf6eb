import { businessRegistrationConnector } from '../../connectors/business-registration';
import { generateRecords } from '../../connectors/demo/generator';
import { dossierConnector } from '../../connectors/dossier';
import { type AgencyDefinition } from '../../connectors/runtime/agency';
import { taxConnector } from '../../connectors/tax';
import { vehicleConnector } from '../../connectors/vehicle';
import { type LienthongEvent } from '../../schemas/generated/events';
import { TOPIC_NAMES, type TopicName } from '../../schemas/topics';

/** The four agencies' connector definitions, by topic. */
export const DEFINITIONS: Record<TopicName, AgencyDefinition> = {
  dossier: dossierConnector as AgencyDefinition,
  tax: taxConnector as AgencyDefinition,
  'business-registration': businessRegistrationConnector as AgencyDefinition,
  vehicle: vehicleConnector as AgencyDefinition,
};

export interface StreamEvent {
  topic: TopicName;
  key: string;
  event: LienthongEvent;
}

/**
 * `count` valid events, a quarter from each agency, made by the connectors' own mappings from the
 * benchmark record generator, and interleaved across agencies. Each entity's events keep their
 * order, as they would reach Kafka from its agency.
 */
export function generateEventStream(count: number, seed = 7): StreamEvent[] {
  const perAgency = Math.ceil(count / TOPIC_NAMES.length);
  const lanes = TOPIC_NAMES.map((topic) =>
    generateRecords(topic, perAgency, seed).map((record): StreamEvent => {
      const mapped = DEFINITIONS[topic].map(record, { now: Date.UTC(2030, 0, 1) });
      if (!mapped.ok)
        throw new Error(`The generator made an invalid ${topic} record: ${JSON.stringify(mapped.issues)}`);
      return { topic, key: mapped.value.key, event: mapped.value.event };
    }),
  );
  const out: StreamEvent[] = [];
  for (let i = 0; out.length < count; i += 1) {
    for (const lane of lanes) {
      const next = lane[i];
      if (next && out.length < count) out.push(next);
    }
  }
  return out;
}
