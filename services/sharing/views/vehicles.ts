import { payloadOf } from '../../../schemas/envelope';
import { blankDoc, entryKey, mergeSection, partyOf, type Projection } from '../projection';
import { at } from './shared-sections';

type Owner = { citizenId: string } | { enterpriseCode: string };

function owner(party: Parameters<typeof partyOf>[0]): Owner {
  const { view, id } = partyOf(party);
  return view === 'citizens' ? { citizenId: id } : { enterpriseCode: id };
}

/**
 * `vehicles`, one document per plate:
 * - `registration`: frame and engine numbers, kind, brand, model, current owner, status;
 * - `history.<record>@<version>`: every registration, transfer and deregistration, keyed by source
 *   record and version so that a replay rewrites the same entries instead of appending twice, and
 *   a plate issued again to another vehicle adds to the history instead of overwriting it.
 */
export const vehiclesProjection: Projection = {
  view: 'vehicles',
  handles: new Set(['VehicleRegistered', 'OwnershipTransferred', 'VehicleDeregistered']),

  ids: ({ event }) => event.subjects.plates,

  evolve(current, sourced, id) {
    let doc = current ?? blankDoc(id);
    const { event } = sourced;
    const history = ['history', entryKey(sourced.source)];
    switch (event.eventType) {
      case 'VehicleRegistered': {
        const p = payloadOf(event);
        doc = mergeSection(
          doc,
          ['registration'],
          {
            plate: p.plate,
            frameNumber: p.frameNumber,
            engineNumber: p.engineNumber,
            kind: p.kind,
            brand: p.brand,
            model: p.model,
            owner: owner(p.owner),
            registeredAt: at(p.registeredAt),
            status: 'REGISTERED',
          },
          sourced,
        );
        return mergeSection(
          doc,
          history,
          { event: event.eventType, at: at(p.registeredAt), owner: owner(p.owner) },
          sourced,
        );
      }
      case 'OwnershipTransferred': {
        const p = payloadOf(event);
        doc = mergeSection(doc, ['registration'], { plate: p.plate, owner: owner(p.newOwner) }, sourced);
        return mergeSection(
          doc,
          history,
          {
            event: event.eventType,
            at: at(p.transferredAt),
            owner: owner(p.newOwner),
            previousOwner: owner(p.previousOwner),
          },
          sourced,
        );
      }
      case 'VehicleDeregistered': {
        const p = payloadOf(event);
        const when = at(p.deregisteredAt);
        doc = mergeSection(
          doc,
          ['registration'],
          { plate: p.plate, status: 'DEREGISTERED', deregisteredAt: when, deregistrationReason: p.reason },
          sourced,
        );
        return mergeSection(doc, history, { event: event.eventType, at: when, reason: p.reason }, sourced);
      }
      default:
        return current;
    }
  },
};
