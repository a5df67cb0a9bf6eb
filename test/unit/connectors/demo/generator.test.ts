import { businessRegistrationConnector } from '../../../../connectors/business-registration';
import {
  generateDemoCitizens,
  generateDemoData,
  generateRecords,
} from '../../../../connectors/demo/generator';
import { dossierConnector } from '../../../../connectors/dossier';
import { type AgencyDefinition } from '../../../../connectors/runtime/agency';
import { checkCccd, normalizePlate } from '../../../../connectors/runtime/identifiers';
import { taxConnector } from '../../../../connectors/tax';
import { vehicleConnector } from '../../../../connectors/vehicle';
import { TOPIC_NAMES, type TopicName } from '../../../../schemas/topics';
import { type LienthongEvent } from '../../../../schemas/generated/events';
import { encodeAvro } from '../../../../services/platform/avro';
import { nativeChecker, NOW, topicType } from '../connector-helpers';

const CONNECTORS: { [A in TopicName]: AgencyDefinition<A, never> } = {
  dossier: dossierConnector,
  tax: taxConnector,
  'business-registration': businessRegistrationConnector,
  vehicle: vehicleConnector,
};

/** Every record checked, mapped and encoded as the connector would; answers the events. */
function ingest(agency: TopicName, records: readonly unknown[]): LienthongEvent[] {
  const check = nativeChecker(CONNECTORS[agency]);
  const type = topicType(agency);
  return records.map((record) => {
    const errors = check(record);
    if (errors.length > 0)
      throw new Error(`${agency} record fails its schema: ${JSON.stringify({ record, errors })}`);
    const result = CONNECTORS[agency].map(record as never, { now: NOW });
    if (!result.ok)
      throw new Error(`${agency} record refused: ${JSON.stringify({ record, issues: result.issues })}`);
    encodeAvro(type, result.value.event);
    return result.value.event;
  });
}

const payload = (event: LienthongEvent): Record<string, unknown> =>
  Object.values(event.payload)[0] as Record<string, unknown>;

describe('generateDemoData', () => {
  const data = generateDemoData({ seed: 2024, citizens: 300 });
  const citizens = generateDemoCitizens(2024, 300);
  const cccds = new Set(citizens.map((c) => c.cccd));
  const events = Object.fromEntries(TOPIC_NAMES.map((a) => [a, ingest(a, data[a])])) as Record<
    TopicName,
    LienthongEvent[]
  >;
  const ofType = (agency: TopicName, eventType: string) =>
    events[agency].filter((e) => e.eventType === eventType).map(payload);

  it('is deterministic for a seed, and differs for another', () => {
    expect(generateDemoData({ seed: 2024, citizens: 300 })).toEqual(data);
    expect(generateDemoData({ seed: 2025, citizens: 300 })).not.toEqual(data);
  });

  it('makes every kind of record of every agency, each passing its schema and mapping', () => {
    const kinds = Object.fromEntries(
      TOPIC_NAMES.map((a) => [a, [...new Set(events[a].map((e) => e.eventType))].sort()]),
    );
    expect(kinds).toEqual({
      dossier: ['DossierReceived', 'DossierStatusChanged'],
      tax: ['TaxDebtUpdated', 'TaxpayerRegistered', 'TaxpayerStatusChanged'],
      'business-registration': ['EnterpriseAmended', 'EnterpriseRegistered', 'EnterpriseStatusChanged'],
      vehicle: ['OwnershipTransferred', 'VehicleDeregistered', 'VehicleRegistered'],
    });
  });

  it('makes citizens with valid, distinct CCCD numbers and Vietnamese names', () => {
    expect(cccds.size).toBe(300);
    for (const c of citizens) {
      expect(checkCccd(c.cccd, NOW)).toMatchObject({
        ok: true,
        value: { birthYear: c.birthYear, sex: c.sex },
      });
      expect(c.fullName).toMatch(/^\p{Lu}\p{Ll}+( \p{Lu}\p{Ll}*)+$/u);
    }
    expect(
      citizens.some((c) => /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/u.test(c.fullName)),
    ).toBe(true);
  });

  it('has every enterprise represented by a generated citizen, and registered as a taxpayer with a debt', () => {
    const enterprises = ofType('business-registration', 'EnterpriseRegistered');
    expect(enterprises.length).toBeGreaterThan(100);
    const taxpayers = new Set(ofType('tax', 'TaxpayerRegistered').map((p) => p.taxCode));
    const debtors = new Set(ofType('tax', 'TaxDebtUpdated').map((p) => p.taxCode));
    for (const e of enterprises) {
      expect(cccds.has(e.legalRepresentativeCitizenId as string)).toBe(true);
      expect(taxpayers.has(e.enterpriseCode)).toBe(true);
      expect(debtors.has(e.enterpriseCode)).toBe(true);
    }
    expect(new Set(enterprises.map((e) => e.enterpriseCode)).size).toBe(enterprises.length);
    expect(new Set(enterprises.map((e) => e.name)).size).toBe(enterprises.length);
  });

  it('gives household business taxpayers a generated citizen', () => {
    const households = ofType('tax', 'TaxpayerRegistered').filter((p) => p.kind === 'HOUSEHOLD_BUSINESS');
    expect(households.length).toBeGreaterThan(0);
    for (const h of households) expect(cccds.has(h.citizenId as string)).toBe(true);
  });

  it('registers vehicles with distinct Hà Nội plates to generated citizens or enterprises, and transfers some between citizens', () => {
    const enterprises = new Set(
      ofType('business-registration', 'EnterpriseRegistered').map((e) => e.enterpriseCode),
    );
    const owners = (party: unknown) =>
      Object.values(party as Record<string, { citizenId?: string; enterpriseCode?: string }>)[0] ?? {};
    const registered = ofType('vehicle', 'VehicleRegistered');
    expect(new Set(registered.map((v) => v.plate)).size).toBe(registered.length);
    for (const v of registered) {
      expect(normalizePlate(v.plate as string)).toMatchObject({ ok: true, value: { plate: v.plate } });
      expect(['29', '30', '31', '32', '33', '40']).toContain((v.plate as string).slice(0, 2));
      const owner = owners(v.owner);
      expect(cccds.has(owner.citizenId ?? '') || enterprises.has(owner.enterpriseCode ?? '')).toBe(true);
    }
    const plates = new Set(registered.map((v) => v.plate));
    const transfers = ofType('vehicle', 'OwnershipTransferred');
    expect(transfers.length).toBeGreaterThan(0);
    for (const t of transfers) {
      expect(plates.has(t.plate)).toBe(true);
      expect(cccds.has(owners(t.newOwner).citizenId ?? '')).toBe(true);
    }
  });

  it('files dossiers for generated citizens and enterprises, a transfer dossier before each transfer', () => {
    const enterprises = new Set(
      ofType('business-registration', 'EnterpriseRegistered').map((e) => e.enterpriseCode),
    );
    const received = events.dossier.filter((e) => e.eventType === 'DossierReceived');
    for (const e of received) {
      for (const id of e.subjects.citizenIds) expect(cccds.has(id)).toBe(true);
      for (const code of e.subjects.enterpriseCodes) expect(enterprises.has(code)).toBe(true);
    }
    expect(new Set(received.map((e) => e.subjects.dossierIds[0])).size).toBe(received.length);
    const transferDossiers = received.map(payload).filter((p) => p.procedureName === 'Đăng ký sang tên xe');
    expect(transferDossiers.length).toBe(ofType('vehicle', 'OwnershipTransferred').length);
  });

  it("sends each agency's records in dependency order: versions of a record only increase", () => {
    for (const agency of TOPIC_NAMES) {
      const last = new Map<string, number>();
      for (const e of events[agency]) {
        expect(e.sourceVersion).toBeGreaterThan(last.get(e.sourceRecordId) ?? 0);
        last.set(e.sourceRecordId, e.sourceVersion);
      }
      expect(new Set(events[agency].map((e) => e.eventId)).size).toBe(events[agency].length);
    }
  });
});

describe('generateRecords', () => {
  it.each(TOPIC_NAMES)('makes distinct %s records that all pass the schema and the mapping', (agency) => {
    const records = generateRecords(agency, 3000, 7);
    const events = ingest(agency, records);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3000);
    expect(generateRecords(agency, 3000, 7)).toEqual(records);
  });

  it('keeps identities distinct through a long run', () => {
    const records = generateRecords('tax', 450_000, 1).filter((r) => r.loaiBanGhi === 'DANG_KY_THUE');
    expect(new Set(records.map((r) => r.mst)).size).toBe(150_000);
    const vehicles = generateRecords('vehicle', 450_000, 1).filter((r) => r.loaiBanGhi === 'DANG_KY_MOI');
    expect(new Set(vehicles.map((r) => r.bienSo)).size).toBe(150_000);
  });
});
