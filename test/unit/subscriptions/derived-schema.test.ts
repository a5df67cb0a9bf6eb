import { decodeAvro, encodeAvro } from '../../../services/platform/avro';
import { checkCompatibility } from '../../../services/registry/compatibility';
import { sharingAgreements } from '../../../services/subscriptions/agreement';
import { loadContracts } from '../../../services/subscriptions/contracts';
import {
  deriveContract,
  derivedEventId,
  derivedPayload,
} from '../../../services/subscriptions/derived-schema';
import { citizen, enterprise, eventOf } from '../sharing/events';

const contracts = loadContracts();
const T = Date.UTC(2026, 2, 14, 3);

/** One agreement over vehicle transfers and registrations, with `fields` for transfers. */
function contractOf(transfer: Record<string, string>, extra: Record<string, Record<string, string>> = {}) {
  const agreements = sharingAgreements(
    {
      agreements: [
        {
          id: 'tax-vehicle-transfers',
          consumer: 'HN-CUCTHUE',
          purpose: 'The registration fee is owed by the new owner',
          legalBasis: 'Nghị định 10/2022/NĐ-CP',
          validFrom: '2026-01-01T00:00:00+07:00',
          validUntil: '2031-01-01T00:00:00+07:00',
          approvedBy: 'Decision 13/QĐ-LT',
          sources: [{ topic: 'vehicle', events: { OwnershipTransferred: transfer, ...extra } }],
        },
      ],
    },
    contracts,
  );
  const agreement = agreements.find('tax-vehicle-transfers');
  if (!agreement) throw new Error('no agreement');
  return deriveContract(agreement, contracts);
}

const transfer = eventOf(
  'OwnershipTransferred',
  { record: 'DKX-1', version: 2, occurredAt: T, subjects: { citizenIds: ['001089012345', '001195004321'] } },
  {
    plate: '30K-456.78',
    previousOwner: citizen('001089012345'),
    newOwner: citizen('001195004321'),
    transferredAt: T,
  },
);

describe('derived contracts', () => {
  it('carries exactly the allowed fields, masked as declared, and encodes under its own schema', () => {
    const contract = contractOf({ plate: 'clear', previousOwner: 'last4', transferredAt: 'year' });
    const derived = contract.derive('vehicle', transfer);
    if (!derived) throw new Error('not derived');
    expect(derived.fields).toEqual(['plate', 'previousOwner', 'transferredAt'].sort());
    const decoded = decodeAvro(
      contract.type,
      encodeAvro(contract.type, derived?.value),
    ) as typeof derived.value;
    expect(derivedPayload(decoded)).toEqual({
      plate: '30K-456.78',
      previousOwner: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: '********2345' } },
      transferredAt: 2026,
    });
    expect(decoded).toMatchObject({
      eventType: 'OwnershipTransferred',
      occurredAt: T,
      sourceAgency: 'HN-PC08',
      sourceEventId: transfer.eventId,
      agreementId: 'tax-vehicle-transfers',
      agreementVersion: contract.agreement.version,
    });
    // The new owner is not allowed: not in the schema, so it cannot be sent.
    expect(JSON.stringify(contract.schema)).not.toContain('newOwner');
    // Nor are the envelope's subjects, which name every citizen concerned.
    expect(JSON.stringify(decoded)).not.toContain('001195004321');
  });

  it('covers only the event types the agreement names', () => {
    const contract = contractOf({ plate: 'clear' });
    const registered = eventOf(
      'VehicleRegistered',
      { record: 'DKX-1', version: 1, occurredAt: T, subjects: {} },
      {
        plate: '30K-456.78',
        frameNumber: 'F',
        engineNumber: 'E',
        kind: 'CAR',
        brand: 'VinFast',
        model: null,
        owner: enterprise('0108912347'),
        registeredAt: T,
      },
    );
    expect(contract.derive('vehicle', registered)).toBeUndefined();
    expect(contract.derive('vehicle', transfer)?.value.payload).toEqual({ plate: '30K-456.78' });
    // Two event types: the payload names its branch.
    const both = contractOf({ plate: 'clear' }, { VehicleRegistered: { plate: 'clear', kind: 'clear' } });
    expect(both.derive('vehicle', registered)?.value.payload).toEqual({
      'vn.hanoi.lienthong.agreement.tax_vehicle_transfers.VehicleRegistered': {
        plate: '30K-456.78',
        kind: 'CAR',
      },
    });
  });

  it('gives a derived event the same id every time, and a new one under a changed agreement', () => {
    const contract = contractOf({ plate: 'clear' });
    const first = contract.derive('vehicle', transfer)?.value.eventId;
    expect(contract.derive('vehicle', transfer)?.value.eventId).toBe(first);
    expect(first).toBe(derivedEventId(contract.agreement, transfer.eventId));
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(
      contractOf({ plate: 'clear', newOwner: 'clear' }).derive('vehicle', transfer)?.value.eventId,
    ).not.toBe(first);
  });

  it('never lets a narrowed agreement send a field it no longer allows, even from events derived before', () => {
    const wide = contractOf({
      plate: 'clear',
      newOwner: 'clear',
      previousOwner: 'clear',
      transferredAt: 'clear',
    });
    const before = wide.derive('vehicle', transfer)?.value;
    if (!before) throw new Error('not derived');
    const narrow = contractOf({ plate: 'clear', previousOwner: 'last4', transferredAt: 'year' });
    expect(narrow.reproject(before)).toEqual({
      plate: '30K-456.78',
      previousOwner: { 'vn.hanoi.lienthong.common.CitizenParty': { citizenId: '********2345' } },
      transferredAt: 2026,
    });
    // Derived under the current version: as it is; masked twice: as masked once.
    const now = narrow.derive('vehicle', transfer)?.value;
    if (!now) throw new Error('not derived');
    expect(narrow.reproject(now)).toEqual(narrow.reproject(before));
    expect(narrow.reproject({ ...now, agreementVersion: 'older' })).toEqual(narrow.reproject(before));
    // An event type no longer covered is not sent at all.
    expect(
      contractOf({ plate: 'clear' }, {}).reproject({ ...before, eventType: 'VehicleRegistered' }),
    ).toBeUndefined();
  });

  it('makes narrowing and widening an agreement compatible changes of its subject', () => {
    const wide = contractOf({ plate: 'clear', newOwner: 'clear', transferredAt: 'clear' }).schema;
    const narrow = contractOf({ plate: 'clear' }).schema;
    expect(checkCompatibility('FULL_TRANSITIVE', narrow, [wide]).issues).toEqual([]);
    expect(checkCompatibility('FULL_TRANSITIVE', wide, [narrow]).issues).toEqual([]);
  });
});
