import {
  canRead,
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  type CompatibilityIssue,
  isCompatibilityLevel,
} from '../../../services/registry/compatibility';

const NAMESPACE = 'vn.gov.hanoi.tax';

function record(
  name: string,
  fields: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { type: 'record', name, namespace: NAMESPACE, fields, ...extra };
}

const status = (symbols: string[], extra: Record<string, unknown> = {}) => ({
  type: 'enum',
  name: 'Status',
  symbols,
  ...extra,
});

const debt = (statusType: unknown) =>
  record('TaxDebt', [
    { name: 'taxpayerId', type: 'string' },
    { name: 'status', type: statusType },
  ]);

function only(issues: readonly CompatibilityIssue[]): CompatibilityIssue {
  expect(issues).toHaveLength(1);
  return issues[0] as CompatibilityIssue;
}

describe('isCompatibilityLevel', () => {
  it('accepts the seven Confluent levels and nothing else', () => {
    expect(COMPATIBILITY_LEVELS.every(isCompatibilityLevel)).toBe(true);
    expect(['backward', 'FULLY', '', null, 1].some(isCompatibilityLevel)).toBe(false);
  });
});

describe('a new field', () => {
  const v1 = record('Payment', [{ name: 'id', type: 'string' }]);

  it('is refused under BACKWARD without a default, naming the field', () => {
    // Given a new version adding `amount` with no default
    const v2 = record('Payment', [
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'long' },
    ]);
    // When it is checked against v1
    const verdict = checkCompatibility('BACKWARD', v2, [v1]);
    // Then it is refused because old records carry no amount
    expect(verdict.compatible).toBe(false);
    expect(verdict.comparedWith).toBe(0);
    expect(only(verdict.issues)).toEqual({
      errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE',
      path: 'amount',
      description:
        "The field 'amount' at path 'amount' in the new schema has no default value and is missing in the old schema",
    });
  });

  it('passes BACKWARD with a default', () => {
    const v2 = record('Payment', [
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'long', default: 0 },
    ]);
    expect(checkCompatibility('BACKWARD', v2, [v1])).toEqual({ compatible: true, issues: [] });
  });

  it('passes BACKWARD with a null default on an optional field', () => {
    const v2 = record('Payment', [
      { name: 'id', type: 'string' },
      { name: 'note', type: ['null', 'string'], default: null },
    ]);
    expect(checkCompatibility('BACKWARD', v2, [v1]).compatible).toBe(true);
  });
});

describe('a renamed field', () => {
  const v1 = record('Taxpayer', [{ name: 'fullName', type: 'string' }]);

  it('is refused without an alias, naming the new field', () => {
    // Given `fullName` renamed to `displayName`
    const v2 = record('Taxpayer', [{ name: 'displayName', type: 'string' }]);
    // When checked backward
    const issue = only(canRead(v2, v1));
    // Then the new name has nothing to read from
    expect(issue.errorType).toBe('READER_FIELD_MISSING_DEFAULT_VALUE');
    expect(issue.path).toBe('displayName');
    expect(issue.description).toContain("'displayName'");
  });

  it("passes with aliases: ['fullName']", () => {
    const v2 = record('Taxpayer', [{ name: 'displayName', type: 'string', aliases: ['fullName'] }]);
    expect(canRead(v2, v1)).toEqual([]);
    expect(checkCompatibility('BACKWARD', v2, [v1]).compatible).toBe(true);
  });

  it('passes a renamed record when the reader aliases the old full name', () => {
    const v2 = record('Citizen', [{ name: 'fullName', type: 'string' }], {
      namespace: 'vn.gov.hanoi.people',
      aliases: [`${NAMESPACE}.Taxpayer`],
    });
    expect(canRead(v2, v1)).toEqual([]);
    expect(only(canRead(record('Citizen', [{ name: 'fullName', type: 'string' }]), v1)).errorType).toBe(
      'NAME_MISMATCH',
    );
  });
});

describe('a changed field type', () => {
  const v1 = record('Payment', [{ name: 'amount', type: 'int' }]);

  it('refuses int to string with TYPE_MISMATCH naming the field', () => {
    const v2 = record('Payment', [{ name: 'amount', type: 'string' }]);
    const verdict = checkCompatibility('BACKWARD', v2, [v1]);
    expect(verdict.compatible).toBe(false);
    expect(only(verdict.issues)).toEqual({
      errorType: 'TYPE_MISMATCH',
      path: 'amount',
      description:
        "The field 'amount' at path 'amount' has type 'string' in the new schema, which cannot read 'int' from the old schema",
    });
  });

  it('passes int to long, and refuses it FORWARD because long does not narrow to int', () => {
    const v2 = record('Payment', [{ name: 'amount', type: 'long' }]);
    expect(checkCompatibility('BACKWARD', v2, [v1]).compatible).toBe(true);
    const forward = checkCompatibility('FORWARD', v2, [v1]);
    expect(only(forward.issues)).toMatchObject({ errorType: 'TYPE_MISMATCH', path: 'amount' });
    expect(only(forward.issues).description).toMatch(
      /^The old schema cannot read data written with the new schema: /,
    );
  });

  it.each([
    ['int', 'long'],
    ['int', 'float'],
    ['int', 'double'],
    ['long', 'float'],
    ['long', 'double'],
    ['float', 'double'],
    ['string', 'bytes'],
    ['bytes', 'string'],
  ])('promotes %s to %s', (written, read) => {
    expect(canRead(read, written)).toEqual([]);
  });

  it.each([
    ['long', 'int'],
    ['double', 'float'],
    ['boolean', 'int'],
    ['null', 'string'],
    ['int', 'string'],
  ])('does not promote %s to %s', (written, read) => {
    expect(only(canRead(read, written)).errorType).toBe('TYPE_MISMATCH');
  });

  it('ignores logical types but keeps the underlying fixed size of a decimal', () => {
    const money = (size: number) => ({
      type: 'fixed',
      name: 'Money',
      size,
      logicalType: 'decimal',
      precision: 18,
      scale: 2,
    });
    expect(canRead({ type: 'long', logicalType: 'timestamp-millis' }, 'int')).toEqual([]);
    expect(canRead({ type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 }, 'string')).toEqual([]);
    const issue = only(
      canRead(
        record('Payment', [{ name: 'amount', type: money(16) }]),
        record('Payment', [{ name: 'amount', type: money(8) }]),
      ),
    );
    expect(issue).toMatchObject({ errorType: 'FIXED_SIZE_MISMATCH', path: 'amount' });
  });
});

describe('enum symbols', () => {
  const v1 = debt(status(['OPEN', 'PAID', 'WRITTEN_OFF']));
  const removed = debt(status(['OPEN', 'PAID']));
  const added = debt(status(['OPEN', 'PAID', 'WRITTEN_OFF', 'DISPUTED']));

  it('refuses a removed symbol under BACKWARD, naming the field and the symbol', () => {
    const verdict = checkCompatibility('BACKWARD', removed, [v1]);
    expect(verdict.compatible).toBe(false);
    const issue = only(verdict.issues);
    expect(issue).toMatchObject({ errorType: 'MISSING_ENUM_SYMBOLS', path: 'status' });
    expect(issue.description).toContain("'status'");
    expect(issue.description).toContain("'WRITTEN_OFF'");
  });

  it('refuses a removed symbol under FULL_TRANSITIVE against the newest version that has it', () => {
    // Given v2 only documents the enum, and the candidate removes a symbol both versions have
    const v2 = debt(status(['OPEN', 'PAID', 'WRITTEN_OFF'], { doc: 'Unchanged symbols' }));
    const verdict = checkCompatibility('FULL_TRANSITIVE', removed, [v1, v2]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.comparedWith).toBe(1);
    expect(verdict.issues.map((issue) => issue.errorType)).toEqual(['MISSING_ENUM_SYMBOLS']);
  });

  it('passes an added symbol under BACKWARD', () => {
    expect(checkCompatibility('BACKWARD', added, [v1]).compatible).toBe(true);
  });

  it('refuses an added symbol under FORWARD, since the old reader does not know it', () => {
    const verdict = checkCompatibility('FORWARD', added, [v1]);
    expect(verdict.compatible).toBe(false);
    const issue = only(verdict.issues);
    expect(issue).toMatchObject({ errorType: 'MISSING_ENUM_SYMBOLS', path: 'status' });
    expect(issue.description).toContain("'DISPUTED'");
    expect(issue.description).toMatch(/^The old schema cannot read/);
  });

  it('passes an added symbol under FORWARD when the old enum has a default', () => {
    const withDefault = debt(status(['OPEN', 'PAID', 'WRITTEN_OFF', 'UNKNOWN'], { default: 'UNKNOWN' }));
    const next = debt(status(['OPEN', 'PAID', 'WRITTEN_OFF', 'UNKNOWN', 'DISPUTED'], { default: 'UNKNOWN' }));
    expect(checkCompatibility('FORWARD', next, [withDefault]).compatible).toBe(true);
  });
});

describe('records nested in a union', () => {
  const amount = { name: 'amount', type: 'long' };
  const envelope = (debtUpdated: unknown[]) =>
    record('Envelope', [
      { name: 'eventId', type: 'string' },
      {
        name: 'payload',
        type: [
          { type: 'record', name: 'TaxpayerRegistered', fields: [{ name: 'taxpayerId', type: 'string' }] },
          { type: 'record', name: 'TaxDebtUpdated', fields: debtUpdated },
        ],
      },
    ]);
  const v1 = envelope([{ name: 'taxpayerId', type: 'string' }]);

  it('names the branch and the field added without a default', () => {
    const v2 = envelope([{ name: 'taxpayerId', type: 'string' }, amount]);
    const issue = only(checkCompatibility('BACKWARD', v2, [v1]).issues);
    expect(issue).toEqual({
      errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE',
      path: 'payload.TaxDebtUpdated.amount',
      description:
        "The field 'amount' at path 'payload.TaxDebtUpdated.amount' in the new schema has no default value and is missing in the old schema",
    });
  });

  it('passes when that field has a default', () => {
    const v2 = envelope([
      { name: 'taxpayerId', type: 'string' },
      { ...amount, default: 0 },
    ]);
    expect(checkCompatibility('BACKWARD', v2, [v1]).compatible).toBe(true);
  });

  it('refuses a removed branch as MISSING_UNION_BRANCH on the union field', () => {
    const v2 = record('Envelope', [
      { name: 'eventId', type: 'string' },
      {
        name: 'payload',
        type: [
          { type: 'record', name: 'TaxpayerRegistered', fields: [{ name: 'taxpayerId', type: 'string' }] },
        ],
      },
    ]);
    const issue = only(canRead(v2, v1));
    expect(issue).toMatchObject({ errorType: 'MISSING_UNION_BRANCH', path: 'payload' });
    expect(issue.description).toContain("'TaxDebtUpdated'");
  });

  it('keeps optional fields out of the path and reads a plain value into an optional one', () => {
    const reader = record('Payment', [{ name: 'amount', type: ['null', 'long'], default: null }]);
    expect(canRead(reader, record('Payment', [{ name: 'amount', type: 'int' }]))).toEqual([]);
    const issue = only(canRead(reader, record('Payment', [{ name: 'amount', type: ['null', 'string'] }])));
    expect(issue).toMatchObject({ errorType: 'MISSING_UNION_BRANCH', path: 'amount' });
    expect(only(canRead('long', ['null', 'long']))).toMatchObject({ errorType: 'TYPE_MISMATCH', path: '' });
  });
});

describe('named references and recursion', () => {
  it('resolves names in the enclosing namespace, and fields of arrays and maps', () => {
    const schema = (lineAmount: string) =>
      record('Invoice', [
        { name: 'status', type: status(['OPEN']) },
        { name: 'previous', type: ['null', 'Status'], default: null },
        {
          name: 'lines',
          type: { type: 'array', items: record('Line', [{ name: 'amount', type: lineAmount }]) },
        },
        { name: 'labels', type: { type: 'map', values: `${NAMESPACE}.Line` } },
      ]);
    expect(canRead(schema('long'), schema('int'))).toEqual([]);
    expect(canRead(schema('int'), schema('long')).map((issue) => issue.path)).toEqual([
      'lines[].amount',
      'labels{}.amount',
    ]);
  });

  it('terminates on recursive records', () => {
    const node = (extra: unknown[]) =>
      record('Node', [
        { name: 'value', type: 'int' },
        { name: 'next', type: ['null', 'Node'], default: null },
        ...extra,
      ]);
    expect(canRead(node([]), node([]))).toEqual([]);
    expect(only(canRead(node([{ name: 'weight', type: 'int' }]), node([]))).path).toBe('weight');
  });

  it('throws on a reference to an undeclared name', () => {
    expect(() => canRead(record('A', [{ name: 'b', type: 'Missing' }]), 'int')).toThrow(
      "Unknown Avro type 'Missing'",
    );
  });
});

describe('transitive levels', () => {
  // v1 has no `amount`; v2 adds it with a default; v3 drops the default.
  const v1 = record('Payment', [{ name: 'id', type: 'string' }]);
  const v2 = record('Payment', [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'long', default: 0 },
  ]);
  const v3 = record('Payment', [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'long' },
  ]);

  it('BACKWARD compares with the latest version only', () => {
    expect(checkCompatibility('BACKWARD', v3, [v1, v2])).toEqual({ compatible: true, issues: [] });
  });

  it('BACKWARD_TRANSITIVE refuses against v1 with comparedWith 0', () => {
    const verdict = checkCompatibility('BACKWARD_TRANSITIVE', v3, [v1, v2]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.comparedWith).toBe(0);
    expect(only(verdict.issues)).toMatchObject({
      errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE',
      path: 'amount',
    });
  });

  it('FORWARD_TRANSITIVE asks every old version to read the candidate', () => {
    // v1 reads v3 (it skips `amount`); v2 reads v3 too. A v4 without `id` is refused by both, newest first.
    expect(checkCompatibility('FORWARD_TRANSITIVE', v3, [v1, v2]).compatible).toBe(true);
    const v4 = record('Payment', [{ name: 'amount', type: 'long' }]);
    const verdict = checkCompatibility('FORWARD_TRANSITIVE', v4, [v1, v2]);
    expect(verdict.comparedWith).toBe(1);
    expect(only(verdict.issues)).toMatchObject({
      errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE',
      path: 'id',
    });
  });
});

describe('NONE and FULL', () => {
  const v1 = record('Payment', [{ name: 'amount', type: 'int' }]);

  it('NONE accepts anything', () => {
    expect(checkCompatibility('NONE', 'string', [v1])).toEqual({ compatible: true, issues: [] });
  });

  it('accepts the first version at every level', () => {
    for (const level of COMPATIBILITY_LEVELS) expect(checkCompatibility(level, v1, []).compatible).toBe(true);
  });

  it('FULL refuses a change only the forward direction catches', () => {
    // int → long is backward compatible, but the old reader cannot read a long.
    const v2 = record('Payment', [{ name: 'amount', type: 'long' }]);
    expect(checkCompatibility('BACKWARD', v2, [v1]).compatible).toBe(true);
    const verdict = checkCompatibility('FULL', v2, [v1]);
    expect(verdict.compatible).toBe(false);
    expect(only(verdict.issues).description).toBe(
      "The old schema cannot read data written with the new schema: the field 'amount' at path 'amount' " +
        "has type 'int' in the old schema, which cannot read 'long' from the new schema",
    );
  });

  it('FULL refuses a change only the backward direction catches', () => {
    const v2 = record('Payment', [
      { name: 'amount', type: 'int' },
      { name: 'currency', type: 'string' },
    ]);
    expect(checkCompatibility('FORWARD', v2, [v1]).compatible).toBe(true);
    expect(only(checkCompatibility('FULL', v2, [v1]).issues).path).toBe('currency');
  });

  it('FULL passes a field added with a default', () => {
    const v2 = record('Payment', [
      { name: 'amount', type: 'int' },
      { name: 'currency', type: 'string', default: 'VND' },
    ]);
    expect(checkCompatibility('FULL', v2, [v1])).toEqual({ compatible: true, issues: [] });
  });
});
