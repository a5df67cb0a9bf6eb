import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../../services/lookup/audit-chain';
import { type ConfigError } from '../../../services/platform/errors';
import { inForce, loadAgreements, sharingAgreements } from '../../../services/subscriptions/agreement';
import { loadContracts } from '../../../services/subscriptions/contracts';
import { configError } from '../../support/config-error';

const FILE = join(__dirname, '..', '..', '..', 'services', 'subscriptions', 'agreements.json');
const contracts = loadContracts();

/** A valid agreement; each test changes what it is about. */
function agreement(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'tax-new-enterprises',
    consumer: 'HN-CUCTHUE',
    purpose: 'The tax department registers every new enterprise as a taxpayer',
    legalBasis: 'Nghị định 01/2021/NĐ-CP',
    validFrom: '2026-01-01T00:00:00+07:00',
    validUntil: '2027-01-01T00:00:00+07:00',
    approvedBy: 'Decision 12/QĐ-LT',
    sources: [
      {
        topic: 'business-registration',
        events: { EnterpriseRegistered: { enterpriseCode: 'clear', legalRepresentativeCitizenId: 'last4' } },
      },
    ],
    ...overrides,
  };
}

const messagesOf = (error: ConfigError): string[] => error.issues.map((issue) => issue.message);
const check = (...agreements: Record<string, unknown>[]) =>
  sharingAgreements({ agreements }, contracts, 'test.json');

describe('sharing agreements', () => {
  it('loads the committed file, every agreement, each versioned by the SHA-256 of its canonical JSON', () => {
    const committed = JSON.parse(readFileSync(FILE, 'utf8')) as { agreements: { id: string }[] };
    const loaded = loadAgreements(FILE, contracts);
    expect(loaded.all().map((a) => a.id)).toEqual(committed.agreements.map((a) => a.id));
    for (const [i, a] of loaded.all().entries()) {
      expect(a.version).toBe(
        createHash('sha256').update(canonicalJson(committed.agreements[i])).digest('hex'),
      );
    }
  });

  it('changes the version of the agreement that changed, and of no other', () => {
    const other = agreement({
      id: 'other',
      sources: [{ topic: 'vehicle', events: { VehicleRegistered: { plate: 'clear' } } }],
    });
    const before = check(agreement(), other);
    const narrowed = check(
      agreement({
        sources: [
          { topic: 'business-registration', events: { EnterpriseRegistered: { enterpriseCode: 'clear' } } },
        ],
      }),
      other,
    );
    expect(narrowed.find('tax-new-enterprises')?.version).not.toBe(
      before.find('tax-new-enterprises')?.version,
    );
    expect(narrowed.find('other')?.version).toBe(before.find('other')?.version);
    // Key order is not a change.
    const reordered = Object.fromEntries(Object.entries(agreement()).reverse());
    expect(check(reordered).find('tax-new-enterprises')?.version).toBe(
      before.find('tax-new-enterprises')?.version,
    );
  });

  it('reads the validity as instants, delivering from validFrom unless deliverFrom says otherwise', () => {
    const a = check(agreement()).find('tax-new-enterprises');
    expect(a?.validFrom).toBe(Date.UTC(2025, 11, 31, 17));
    expect(a?.deliverFrom).toBe(a?.validFrom);
    expect(a && inForce(a, Date.UTC(2025, 11, 31, 16, 59))).toBe(false);
    expect(a && inForce(a, Date.UTC(2025, 11, 31, 17))).toBe(true);
    expect(a && inForce(a, Date.UTC(2026, 11, 31, 17))).toBe(false);
    const backfill = check(agreement({ deliverFrom: '2025-06-01T00:00:00Z' })).find('tax-new-enterprises');
    expect(backfill?.deliverFrom).toBe(Date.UTC(2025, 5, 1));
  });

  it('names every problem at once, each with its path, checked against the Avro contracts', () => {
    const error = configError(() =>
      check(
        agreement({
          consumer: 'HN-NOWHERE',
          validUntil: '2025-01-01T00:00:00+07:00',
          sources: [
            {
              topic: 'business-registration',
              events: {
                EnterpriseRegistered: {
                  enterpriseCode: 'clear',
                  shoeSize: 'clear',
                  legalForm: 'last4',
                  name: 'year',
                },
                EnterpriseDissolved: { enterpriseCode: 'clear' },
              },
            },
            { topic: 'weather', events: { Rain: { mm: 'clear' } } },
            { topic: 'tax', events: { TaxpayerRegistered: { taxCode: 'blur' } } },
          ],
        }),
        agreement({ extra: true }),
        agreement({ id: 'own', consumer: 'HN-DKKD' }),
      ),
    );
    expect(messagesOf(error).sort()).toEqual(
      [
        'test.json: /agreements/0/sources/1/topic must be one of dossier, tax, business-registration, vehicle',
        'test.json: /agreements/0/sources/2/events/TaxpayerRegistered/taxCode must be one of clear, last4, year',
        'test.json: /agreements/1 has an unknown property extra',
        'test.json: /agreements/0/consumer HN-NOWHERE has no system on the bus (one of HN-TTHCC, HN-CUCTHUE, HN-DKKD, HN-PC08)',
        'test.json: /agreements/0/validUntil must be after validFrom',
        'test.json: /agreements/0/deliverFrom must be before validUntil',
        'test.json: /agreements/0/sources/0/events/EnterpriseRegistered has no field shoeSize in vn.hanoi.lienthong.business_registration.EnterpriseRegistered',
        'test.json: /agreements/0/sources/0/events/EnterpriseRegistered/legalForm holds more than strings: last4 masks strings only',
        'test.json: /agreements/0/sources/0/events/EnterpriseRegistered/name is not a timestamp: year masks timestamps only',
        'test.json: /agreements/0/sources/0/events has no event type EnterpriseDissolved in the business-registration contract (one of EnterpriseRegistered, EnterpriseAmended, EnterpriseStatusChanged)',
        'test.json: /agreements/1/id tax-new-enterprises is declared a second time',
        'test.json: /agreements/0/sources/2/events/TaxpayerRegistered must show taxCode clear: it keys the topic, and the deliveries',
        "test.json: /agreements/2/sources/0/topic business-registration is HN-DKKD's own topic",
      ].sort(),
    );
  });

  it('lets last4 mask a record of strings, such as a party, and refuses a record holding an enum or a number', () => {
    expect(() =>
      check(
        agreement({
          sources: [
            {
              topic: 'vehicle',
              events: { OwnershipTransferred: { plate: 'clear', previousOwner: 'last4' } },
            },
          ],
        }),
      ),
    ).not.toThrow();
    expect(
      messagesOf(
        configError(() =>
          check(
            agreement({
              sources: [
                {
                  topic: 'business-registration',
                  events: { EnterpriseRegistered: { enterpriseCode: 'clear', charterCapital: 'last4' } },
                },
              ],
            }),
          ),
        ),
      ),
    ).toEqual([
      'test.json: /agreements/0/sources/0/events/EnterpriseRegistered/charterCapital holds more than strings: last4 masks strings only',
    ]);
  });

  it('names the file that cannot be read', () => {
    expect(messagesOf(configError(() => loadAgreements('/nonexistent/agreements.json', contracts)))).toEqual([
      '/nonexistent/agreements.json cannot be read as JSON',
    ]);
  });
});
