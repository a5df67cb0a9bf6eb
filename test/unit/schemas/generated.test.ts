import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAvroSchema } from '../../../services/platform/avro';
import { payloadOf } from '../../../schemas/envelope';
import {
  type BusinessRegistrationEvent,
  type DossierEvent,
  type DossierReceivedEvent,
  type EnterpriseAmendedEvent,
  type EnterpriseRegisteredEvent,
  type EnterpriseStatusChangedEvent,
  type EventOfType,
  type LienthongEvent,
  type OwnershipTransferredEvent,
  type TaxDebtUpdatedEvent,
  type TaxEvent,
  type TaxpayerRegisteredEvent,
  type TaxpayerStatusChangedEvent,
  type VehicleDeregisteredEvent,
  type VehicleEvent,
  type VehicleRegisteredEvent,
  type DossierStatusChangedEvent,
  TAXPAYER_STATUS_SYMBOLS,
} from '../../../schemas/generated/events';
import { GENERATED_PATH } from '../../../schemas/codegen';
import { TOPICS } from '../../../schemas/topics';
import dossierReceived from '../../fixtures/avro/dossier/v1/DossierReceived.json';
import dossierStatusChanged from '../../fixtures/avro/dossier/v1/DossierStatusChanged.json';
import taxpayerRegistered from '../../fixtures/avro/tax/v1/TaxpayerRegistered.json';
import taxpayerStatusChanged from '../../fixtures/avro/tax/v1/TaxpayerStatusChanged.json';
import taxDebtUpdated from '../../fixtures/avro/tax/v1/TaxDebtUpdated.json';
import enterpriseRegistered from '../../fixtures/avro/business-registration/v1/EnterpriseRegistered.json';
import enterpriseAmended from '../../fixtures/avro/business-registration/v1/EnterpriseAmended.json';
import enterpriseStatusChanged from '../../fixtures/avro/business-registration/v1/EnterpriseStatusChanged.json';
import vehicleRegistered from '../../fixtures/avro/vehicle/v1/VehicleRegistered.json';
import ownershipTransferred from '../../fixtures/avro/vehicle/v1/OwnershipTransferred.json';
import vehicleDeregistered from '../../fixtures/avro/vehicle/v1/VehicleDeregistered.json';
import { readText, ROOT } from './avro-fixtures';

/**
 * A generated type as TypeScript infers a JSON import: string literals widen to `string`. Checking
 * a fixture against `Json<T>` catches a missing, misnamed or mistyped field at typecheck time; the
 * tests below check the literals (eventType, enum symbols) at run time.
 */
type Json<T> = T extends string
  ? string
  : T extends number | boolean | null
    ? T
    : T extends readonly (infer U)[]
      ? Json<U>[]
      : { [K in keyof T]: Json<T[K]> };

// Typecheck-level: each golden fixture has the shape of its generated event type.
const typed = [
  ['dossier', dossierReceived satisfies Json<DossierReceivedEvent>],
  ['dossier', dossierStatusChanged satisfies Json<DossierStatusChangedEvent>],
  ['tax', taxpayerRegistered satisfies Json<TaxpayerRegisteredEvent>],
  ['tax', taxpayerStatusChanged satisfies Json<TaxpayerStatusChangedEvent>],
  ['tax', taxDebtUpdated satisfies Json<TaxDebtUpdatedEvent>],
  ['business-registration', enterpriseRegistered satisfies Json<EnterpriseRegisteredEvent>],
  ['business-registration', enterpriseAmended satisfies Json<EnterpriseAmendedEvent>],
  ['business-registration', enterpriseStatusChanged satisfies Json<EnterpriseStatusChangedEvent>],
  ['vehicle', vehicleRegistered satisfies Json<VehicleRegisteredEvent>],
  ['vehicle', ownershipTransferred satisfies Json<OwnershipTransferredEvent>],
  ['vehicle', vehicleDeregistered satisfies Json<VehicleDeregisteredEvent>],
] as const;

// A value written against the generated types, exactly: literals and all.
const debt = {
  eventId: '2f0e8c63-8a3b-5d0e-9a57-0c1f6f1c2b9d',
  eventType: 'TaxDebtUpdated',
  occurredAt: Date.UTC(2024, 9, 31, 16, 59, 59),
  sourceAgency: 'HN-CUCTHUE',
  sourceRecordId: 'NO-2024-10-0109567894',
  sourceVersion: 18,
  subjects: { citizenIds: [], enterpriseCodes: ['0109567894'], plates: [], dossierIds: [] },
  payload: {
    'vn.hanoi.lienthong.tax.TaxDebtUpdated': { taxCode: '0109567894', amount: '0', asOf: 1730393999000 },
  },
} satisfies TaxEvent;

// The types refuse what avsc would refuse or decode differently.
// @ts-expect-error eventType must name the payload's record
const mismatched: TaxEvent = { ...debt, eventType: 'TaxpayerRegistered' };
const numeric: TaxDebtUpdatedEvent['payload'] = {
  'vn.hanoi.lienthong.tax.TaxDebtUpdated': {
    ...debt.payload['vn.hanoi.lienthong.tax.TaxDebtUpdated'],
    // @ts-expect-error a decimal is a string, never a number
    amount: 0,
  },
};
type Owner = VehicleRegisteredEvent['payload']['vn.hanoi.lienthong.vehicle.VehicleRegistered']['owner'];
// @ts-expect-error a union of records is wrapped in its branch name
const unwrapped: Owner = { citizenId: '001085012345' };
void [mismatched, numeric, unwrapped];

/** Narrowing on eventType reaches the payload without a cast: the point of the discriminant. */
function keyOf(event: LienthongEvent): string {
  switch (event.eventType) {
    case 'DossierReceived':
    case 'DossierStatusChanged':
      return payloadOf(event).dossierId;
    case 'TaxpayerRegistered':
    case 'TaxpayerStatusChanged':
    case 'TaxDebtUpdated':
      return payloadOf(event).taxCode;
    case 'EnterpriseRegistered':
    case 'EnterpriseAmended':
    case 'EnterpriseStatusChanged':
      return payloadOf(event).enterpriseCode;
    case 'VehicleRegistered':
    case 'OwnershipTransferred':
    case 'VehicleDeregistered':
      return payloadOf(event).plate;
  }
}

describe('generated event types', () => {
  const decoders = new Map(
    (Object.keys(TOPICS) as (keyof typeof TOPICS)[]).map((t) => [
      t,
      parseAvroSchema(readText(TOPICS[t].schemaPath)),
    ]),
  );

  it.each(typed.map(([topic, fixture]) => [fixture.eventType, topic, fixture] as const))(
    'describe what the schema decodes for %s',
    (_eventType, topic, fixture) => {
      const type = decoders.get(topic);
      const decoded = type?.fromBuffer(type.toBuffer(fixture)) as LienthongEvent;
      expect(decoded).toEqual(fixture);
      // The payload's only key is the branch that eventType names.
      expect(Object.keys(decoded.payload)).toEqual([
        `${TOPICS[topic].envelope.replace(/\.[^.]+$/, '')}.${decoded.eventType}`,
      ]);
      expect(keyOf(decoded)).toBe(
        (payloadOf(decoded) as unknown as Record<string, string>)[TOPICS[topic].keyField],
      );
    },
  );

  it('narrow by eventType', () => {
    const event: EventOfType<'TaxDebtUpdated'> = debt;
    expect(payloadOf(event).amount).toBe('0');
    expect(decoders.get('tax')?.isValid(debt)).toBe(true);
    const all: (DossierEvent | TaxEvent | BusinessRegistrationEvent | VehicleEvent)[] = [debt];
    expect(all).toHaveLength(1);
  });

  it('export enum symbols in schema order', () => {
    expect(TAXPAYER_STATUS_SYMBOLS).toEqual(['ACTIVE', 'SUSPENDED', 'CLOSED', 'LEFT_ADDRESS']);
  });
});

describe('codegen --check', () => {
  const tsx = require.resolve('tsx/cli');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [tsx, 'schemas/codegen.ts', '--check', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  it('passes: the generated types are current', () => {
    const result = run();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 30_000);

  it('fails with a clear message when the generated file is stale or missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lienthong-codegen-'));
    try {
      const stale = path.join(dir, 'events.ts');
      writeFileSync(
        stale,
        readFileSync(path.join(ROOT, GENERATED_PATH), 'utf8').replace("'DESK'", "'COUNTER'"),
      );
      const result = run('--out', stale);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/stale.*Run `npx tsx schemas\/codegen.ts`/s);

      const missing = run('--out', path.join(dir, 'none.ts'));
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
