import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConfigError, ERROR_CODES } from '../../../services/platform/errors';
import { DEFAULT_POLICY_FILE } from '../../../services/lookup/config';
import {
  fieldPolicies,
  type FieldPolicy,
  loadFieldPolicies,
  masked,
  projectDocument,
} from '../../../services/lookup/field-policy';
import { type Provenance, type ViewDoc } from '../../../services/sharing/projection';
import { configError } from '../../support/config-error';

const FOUNDER = '001089012345';
const ENTERPRISE = '0101234567';

/** A valid policy entry; each test changes what it is about. */
function policy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    procedureCode: '1.004227',
    agency: 'HN-UBND-*',
    purpose: 'The district checks the applicant and the dossier',
    views: { citizens: { identity: { citizenId: 'clear', birthYear: 'clear' } } },
    ...overrides,
  };
}

const messagesOf = (error: ConfigError): string[] => error.issues.map((issue) => issue.message);

/** Provenance as the sharing service stamps a section; only `agency` matters to a projection. */
function provenance(agency: string, eventId: string): Provenance {
  return {
    agency,
    topic: 'any',
    partition: 0,
    offset: '7',
    eventId,
    eventType: 'Any',
    sourceRecordId: 'R-1',
    sourceVersion: 1,
    occurredAt: new Date(Date.UTC(2024, 0, 15)),
    ingestedAt: new Date(Date.UTC(2024, 5, 1)),
    traceId: null,
  };
}

describe('loadFieldPolicies', () => {
  it('versions the policies by the SHA-256 of the file, as `sha256sum` gives it', () => {
    const digest = createHash('sha256').update(readFileSync(DEFAULT_POLICY_FILE)).digest('hex');
    expect(loadFieldPolicies(DEFAULT_POLICY_FILE).version).toBe(digest);
  });

  it('loads the committed policy file, every entry in file order', () => {
    const committed = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8')) as {
      policies: { procedureCode: string; agency: string }[];
    };
    const policies = loadFieldPolicies(DEFAULT_POLICY_FILE);
    expect(policies.all().map((p) => `${p.procedureCode} ${p.agency}`)).toEqual(
      committed.policies.map((p) => `${p.procedureCode} ${p.agency}`),
    );
    expect(policies.find('1.010700', 'HN-PC08')?.views.citizens?.tax?.taxCode).toBe('last4');
  });

  it('refuses a file that is not JSON, naming the variable and the path', () => {
    const error = configError(() => loadFieldPolicies(`${DEFAULT_POLICY_FILE}.missing`));
    expect(error.code).toBe(ERROR_CODES.CONFIG_INVALID);
    expect(error.issues).toEqual([
      { variable: 'LOOKUP_POLICY_FILE', message: `${DEFAULT_POLICY_FILE}.missing cannot be read as JSON` },
    ]);
  });
});

describe('fieldPolicies', () => {
  it('names a section and a field that no view holds, and a pair granted twice, all at once', () => {
    const error = configError(() =>
      fieldPolicies({
        policies: [
          policy({ views: { citizens: { passport: { number: 'clear' }, identity: { fullName: 'clear' } } } }),
          policy({ purpose: 'The same procedure and agency granted again' }),
        ],
      }),
    );
    expect(error.issues.every((issue) => issue.variable === 'LOOKUP_POLICY_FILE')).toBe(true);
    expect(messagesOf(error)).toEqual([
      'the field policy file: /policies/0/views/citizens has no section passport',
      'the field policy file: /policies/0/views/citizens/identity has no field fullName',
      'the field policy file: /policies/1 grants 1.004227 HN-UBND-* a second time',
    ]);
  });

  it('names an unknown mask, an extra top-level property and a bad procedure code, all at once', () => {
    const error = configError(() =>
      fieldPolicies(
        {
          reviewer: 'someone',
          policies: [
            policy({ views: { citizens: { identity: { citizenId: 'hidden' } } } }),
            policy({ procedureCode: '1.4227', agency: 'HN-STP' }),
          ],
        },
        'policies.json',
      ),
    );
    expect(messagesOf(error)).toEqual(
      expect.arrayContaining([
        'policies.json: / has an unknown property reviewer',
        expect.stringMatching(/^policies\.json: \/policies\/0\/views\/citizens\/identity\/citizenId /),
        expect.stringMatching(/^policies\.json: \/policies\/1\/procedureCode must match pattern/),
      ]),
    );
  });

  it('names the extra property itself, so that the reviewer knows which line to remove', () => {
    const error = configError(() => fieldPolicies({ reviewer: 'someone', policies: [policy()] }));
    expect(messagesOf(error)).toEqual([expect.stringContaining('reviewer')]);
  });

  it('reports the entries that fail the schema and those naming unknown fields in one pass', () => {
    const error = configError(() =>
      fieldPolicies({
        policies: [
          policy({ procedureCode: 'one' }),
          policy({ agency: 'HN-STP', views: { citizens: { identity: { fullName: 'clear' } } } }),
        ],
      }),
    );
    expect(messagesOf(error)).toEqual([
      expect.stringContaining('/policies/0/procedureCode'),
      'the field policy file: /policies/1/views/citizens/identity has no field fullName',
    ]);
  });

  it('refuses a view that the sharing service does not materialize', () => {
    const error = configError(() =>
      fieldPolicies({ policies: [policy({ views: { persons: { identity: { citizenId: 'clear' } } } })] }),
    );
    expect(messagesOf(error)).toEqual([expect.stringContaining('persons')]);
  });

  it.each([
    ['an agency outside Hà Nội', { agency: 'HCM-PC08' }, '/policies/0/agency'],
    ['a wildcard not after a dash', { agency: 'HN-UBND*' }, '/policies/0/agency'],
    ['a purpose too short to review', { purpose: 'checks' }, '/policies/0/purpose'],
    ['a property the schema does not know', { note: 'x' }, '/policies/0'],
  ])('refuses %s', (_name, overrides, path) => {
    const error = configError(() => fieldPolicies({ policies: [policy(overrides)] }));
    expect(messagesOf(error)).toEqual([
      expect.stringMatching(new RegExp(`^the field policy file: ${path} `)),
    ]);
  });

  it('refuses a file with no policies', () => {
    expect(messagesOf(configError(() => fieldPolicies({ policies: [] })))).toEqual([
      'the field policy file: /policies must NOT have fewer than 1 items',
    ]);
  });
});

describe('find', () => {
  const policies = fieldPolicies({
    policies: [
      policy({ purpose: 'Every district committee, by prefix' }),
      policy({ agency: 'HN-UBND-HK', purpose: 'Hoàn Kiếm district, exactly' }),
      policy({ procedureCode: '1.001612', agency: 'HN-UBND-*', purpose: 'Household businesses, by prefix' }),
    ],
  });
  const purposeOf = (found: FieldPolicy | undefined) => found?.purpose;

  it('prefers the exact agency over a wildcard that also matches', () => {
    expect(purposeOf(policies.find('1.004227', 'HN-UBND-HK'))).toBe('Hoàn Kiếm district, exactly');
  });

  it('falls back to the wildcard for another agency under its prefix', () => {
    expect(purposeOf(policies.find('1.004227', 'HN-UBND-BD'))).toBe('Every district committee, by prefix');
    expect(purposeOf(policies.find('1.001612', 'HN-UBND-HK'))).toBe('Household businesses, by prefix');
  });

  it('matches the wildcard by prefix only', () => {
    expect(policies.find('1.004227', 'HN-UBND')).toBeUndefined();
    expect(policies.find('1.004227', 'HN-UBNDX')).toBeUndefined();
    expect(policies.find('1.004227', 'XHN-UBND-HK')).toBeUndefined();
  });

  it('finds nothing for another procedure or agency', () => {
    expect(policies.find('1.003003', 'HN-UBND-HK')).toBeUndefined();
    expect(policies.find('1.004227', 'HN-STP')).toBeUndefined();
  });
});

describe('masked', () => {
  it('shows a value as it is under clear', () => {
    const address = { street: 'Số 12 phố Nguyễn Văn Cừ' };
    expect(masked(address, 'clear')).toBe(address);
    expect(masked(FOUNDER, 'clear')).toBe(FOUNDER);
  });

  it('keeps the last four characters of a string under last4', () => {
    expect(masked(FOUNDER, 'last4')).toBe('********2345');
    expect(masked(ENTERPRISE, 'last4')).toBe('******4567');
  });

  it('masks every string inside an object, however deep', () => {
    expect(masked({ citizenId: FOUNDER }, 'last4')).toEqual({ citizenId: '********2345' });
    expect(masked({ owner: { enterpriseCode: ENTERPRISE }, count: 3 }, 'last4')).toEqual({
      owner: { enterpriseCode: '******4567' },
      count: 3,
    });
  });

  it('masks every string inside a list', () => {
    expect(masked([FOUNDER, { citizenId: FOUNDER }], 'last4')).toEqual([
      '********2345',
      { citizenId: '********2345' },
    ]);
  });

  it('leaves strings of four characters or fewer, and values that hold no string, as they are', () => {
    expect(masked('1234', 'last4')).toBe('1234');
    expect(masked('abc', 'last4')).toBe('abc');
    expect(masked('', 'last4')).toBe('');
    expect(masked(1989, 'last4')).toBe(1989);
    expect(masked(null, 'last4')).toBeNull();
  });

  it('reduces a date to its UTC year under year', () => {
    // 20:00 UTC on 31 December is already New Year in Hà Nội; the mask keeps the UTC year.
    expect(masked(new Date(Date.UTC(2023, 11, 31, 20)), 'year')).toBe(2023);
    expect(masked(new Date(Date.UTC(2024, 1, 14, 17)), 'year')).toBe(2024);
  });

  it('leaves a value that is not a date as it is under year', () => {
    expect(masked('2024-02-14', 'year')).toBe('2024-02-14');
    expect(masked(1989, 'year')).toBe(1989);
    expect(masked(null, 'year')).toBeNull();
  });
});

describe('projectDocument', () => {
  const plateA = { key: '29A-123%2E45', plate: '29A-123.45' };
  const plateB = { key: '30K-456%2E78', plate: '30K-456.78' };
  const debtAsOf = new Date(Date.UTC(2024, 1, 14, 17));
  const until = new Date(Date.UTC(2024, 1, 24, 2));

  const citizen: ViewDoc = {
    _id: FOUNDER,
    identity: { citizenId: FOUNDER, birthProvinceCode: '001', sex: 'male', birthYear: 1989 },
    // Keys in reverse order: the output follows key order, not insertion order.
    vehicles: {
      [plateB.key]: {
        plate: plateB.plate,
        ownership: 'CURRENT',
        status: 'REGISTERED',
        source: provenance('HN-PC08', 'e-vehicle-b'),
      },
      [plateA.key]: {
        plate: plateA.plate,
        ownership: 'FORMER',
        status: 'REGISTERED',
        until,
        source: provenance('HN-PC08', 'e-vehicle-a'),
      },
    },
    tax: {
      [FOUNDER]: {
        taxCode: FOUNDER,
        kind: 'INDIVIDUAL',
        debt: '125000000',
        debtAsOf,
        source: provenance('HN-CUCTHUE', 'e-tax'),
      },
    },
    enterprises: {
      [ENTERPRISE]: {
        enterpriseCode: ENTERPRISE,
        role: 'LEGAL_REPRESENTATIVE',
        source: provenance('HN-DKKD', 'e'),
      },
    },
  };

  const rules = {
    identity: { citizenId: 'last4', birthYear: 'clear' },
    vehicles: { plate: 'clear', ownership: 'clear', until: 'clear' },
    tax: { taxCode: 'last4', debtAsOf: 'year' },
    dossiers: { dossierId: 'clear' },
  } as const;

  it('names the event of every section it returns, and those of the late fills and of derived values', () => {
    const stamp = (eventId: string, offset: string) => ({ ...provenance('HN-MOTCUA', eventId), offset });
    const dossier: ViewDoc = {
      _id: 'D-1',
      dossier: {
        dossierId: 'D-1',
        onTime: true,
        source: stamp('e-closed', '9'),
        filledFrom: {
          v000000000001: {
            eventId: 'e-received',
            topic: 'any',
            partition: 0,
            offset: '12',
            fields: ['dueAt'],
          },
        },
      },
      timeline: { 'R-1@v1': { status: 'RECEIVED', source: stamp('e-received', '12') } },
    };
    const events = (rules: Record<string, Record<string, 'clear'>>) =>
      projectDocument(dossier, 'dossiers', rules).events.map(
        (e) => `${e.role} ${e.path} ${e.eventId}@${e.offset}`,
      );
    expect(events({ dossier: { dossierId: 'clear' } })).toEqual([
      'section dossier e-closed@9',
      'filled dossier e-received@12',
    ]);
    // `onTime` is judged from the timeline: its entries' events count, though it is not served.
    expect(events({ dossier: { onTime: 'clear' } })).toEqual([
      'section dossier e-closed@9',
      'filled dossier e-received@12',
      'derived timeline.R-1@v1 e-received@12',
    ]);
  });

  it('keeps the allowed fields present, masked, and turns map sections into lists in key order', () => {
    expect(projectDocument(citizen, 'citizens', rules).data).toEqual({
      identity: { citizenId: '********2345', birthYear: 1989 },
      vehicles: [
        { plate: plateA.plate, ownership: 'FORMER', until },
        { plate: plateB.plate, ownership: 'CURRENT' },
      ],
      tax: [{ taxCode: '********2345', debtAsOf: 2024 }],
    });
  });

  it('lists the fields returned, sorted, with [] for map sections', () => {
    expect(projectDocument(citizen, 'citizens', rules).fields).toEqual([
      'identity.birthYear',
      'identity.citizenId',
      'tax[].debtAsOf',
      'tax[].taxCode',
      'vehicles[].ownership',
      'vehicles[].plate',
      'vehicles[].until',
    ]);
  });

  it('names the mask of each returned field, in the order of the fields', () => {
    expect(projectDocument(citizen, 'citizens', rules).masks).toEqual([
      { field: 'identity.birthYear', mask: 'clear' },
      { field: 'identity.citizenId', mask: 'last4' },
      { field: 'tax[].debtAsOf', mask: 'year' },
      { field: 'tax[].taxCode', mask: 'last4' },
      { field: 'vehicles[].ownership', mask: 'clear' },
      { field: 'vehicles[].plate', mask: 'clear' },
      { field: 'vehicles[].until', mask: 'clear' },
    ]);
  });

  it('lists the agencies of the returned sections, sorted, and never the provenance itself', () => {
    const projected = projectDocument(citizen, 'citizens', rules);
    expect(projected.sources).toEqual(['HN-CUCTHUE', 'HN-PC08']);
    const json = JSON.stringify(projected.data);
    expect(json).not.toContain('"source"');
    expect(json).not.toContain('e-vehicle-a');
  });

  it('leaves out of the sources an agency whose section gave no allowed field', () => {
    const projected = projectDocument(citizen, 'citizens', { enterprises: { status: 'clear' } });
    expect(projected).toEqual({
      data: { enterprises: [{}] },
      fields: [],
      sources: [],
      masks: [],
      exposures: [],
      // The entry is shown, empty: it is there because of its event.
      events: [
        {
          path: `enterprises.${ENTERPRISE}`,
          role: 'section',
          agency: 'HN-DKKD',
          topic: 'any',
          partition: 0,
          offset: '7',
          eventId: 'e',
        },
      ],
    });
  });

  it('keeps a single section an object, with only the allowed fields it holds', () => {
    const enterprise: ViewDoc = {
      _id: ENTERPRISE,
      registration: {
        enterpriseCode: ENTERPRISE,
        name: 'Công ty TNHH Liên Thông Xanh',
        legalRepresentativeCitizenId: FOUNDER,
        charterCapital: '5000000000',
        source: provenance('HN-DKKD', 'e-registered'),
      },
    };
    const projected = projectDocument(enterprise, 'enterprises', {
      registration: { name: 'clear', legalRepresentativeCitizenId: 'last4', amendedAt: 'clear' },
    });
    expect(projected).toEqual({
      data: {
        registration: { name: 'Công ty TNHH Liên Thông Xanh', legalRepresentativeCitizenId: '********2345' },
      },
      fields: ['registration.legalRepresentativeCitizenId', 'registration.name'],
      sources: ['HN-DKKD'],
      masks: [
        { field: 'registration.legalRepresentativeCitizenId', mask: 'last4' },
        { field: 'registration.name', mask: 'clear' },
      ],
      // The full id of the representative the answer masked: whom the answer concerns.
      exposures: [
        {
          citizenId: FOUNDER,
          as: 'legal-representative',
          fields: ['registration.legalRepresentativeCitizenId'],
          mask: 'last4',
        },
      ],
      events: [
        {
          path: 'registration',
          role: 'section',
          agency: 'HN-DKKD',
          topic: 'any',
          partition: 0,
          offset: '7',
          eventId: 'e-registered',
        },
      ],
    });
  });

  it("gives the justice department the committed policy's identity only, with the number masked", () => {
    const rulesOfJustice = loadFieldPolicies(DEFAULT_POLICY_FILE).find('2.000488', 'HN-STP')?.views.citizens;
    expect(rulesOfJustice).toBeDefined();
    expect(projectDocument(citizen, 'citizens', rulesOfJustice ?? {})).toEqual({
      data: {
        identity: { citizenId: '********2345', birthYear: 1989, birthProvinceCode: '001', sex: 'male' },
      },
      fields: ['identity.birthProvinceCode', 'identity.birthYear', 'identity.citizenId', 'identity.sex'],
      sources: [],
      masks: [
        { field: 'identity.birthProvinceCode', mask: 'clear' },
        { field: 'identity.birthYear', mask: 'clear' },
        { field: 'identity.citizenId', mask: 'last4' },
        { field: 'identity.sex', mask: 'clear' },
      ],
      exposures: [{ citizenId: FOUNDER, as: 'subject', fields: ['identity.citizenId'], mask: 'last4' }],
      // The identity is derived from the number alone: no event.
      events: [],
    });
  });
});
