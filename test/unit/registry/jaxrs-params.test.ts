import {
  page,
  pathInt,
  queryFlag,
  queryInt,
  SCHEMA_SEARCH,
  versionId,
} from '../../../services/registry/jaxrs-params';

describe("request parameters read as Confluent's server (Jersey) reads them", () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['false', false],
    ['False', false],
    ['1', false],
    ['yes', false],
    [' true', false],
    ['', false],
    [undefined, false],
    [['true', 'false'], true],
    [['false', 'true'], false],
  ])('boolean %j is %s', (value, expected) => {
    expect(queryFlag({ deleted: value }, 'deleted')).toBe(expected);
  });

  it.each([
    ['5', 5],
    ['+5', 5],
    ['-1', -1],
    ['007', 7],
    ['', 0],
    ['   ', 0],
    [undefined, 0],
    [['3', 'x'], 3],
  ])('int %j is %s', (value, expected) => {
    expect(queryInt({ offset: value }, 'offset', 0)).toBe(expected);
  });

  it.each(['abc', '1.5', '2147483648', ' 5', '0x10'])('int %j answers 404 with error_code 404', (value) => {
    expect(() => queryInt({ limit: value }, 'limit', -1)).toThrow(
      expect.objectContaining({
        errorCode: 404,
        statusCode: 404,
        issues: [expect.objectContaining({ path: 'query.limit' })],
      }),
    );
    expect(() => pathInt(value, 'id')).toThrow(expect.objectContaining({ errorCode: 404 }));
  });

  it.each([
    ['latest', 'latest'],
    ['LATEST', 'latest'],
    [' latest ', 'latest'],
    ['-1', 'latest'],
    ['1', 1],
    [' 3 ', 3],
    ['+2', 2],
    ['2147483647', 2_147_483_647],
  ])('version %j is %s', (text, expected) => {
    expect(versionId(text)).toBe(expected);
  });

  it.each(['0', '-2', 'abc', '2147483648', '1.0', ''])('version %j is 42202', (text) => {
    expect(() => versionId(text)).toThrow(expect.objectContaining({ errorCode: 42202, statusCode: 422 }));
  });

  it('pages as Confluent does: offset, then a positive limit within the maximum, else the default', () => {
    const items = ['a', 'b', 'c', 'd'];
    expect(page(items, {})).toEqual(items);
    expect(page(items, { offset: '1', limit: '2' })).toEqual(['b', 'c']);
    expect(page(items, { offset: '0', limit: '-1' })).toEqual(items);
    expect(page(items, { offset: '10' })).toEqual([]);
    const many = Array.from({ length: 1_500 }, (_, i) => i);
    expect(page(many, { limit: '5000' }, SCHEMA_SEARCH)).toHaveLength(1_000);
    expect(page(many, { limit: '10' }, SCHEMA_SEARCH)).toHaveLength(10);
    expect(() => page(items, { offset: '-1' })).toThrow(expect.objectContaining({ statusCode: 400 }));
  });
});
