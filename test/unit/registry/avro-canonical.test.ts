import { canonicalAvroSchema } from '../../../services/registry/avro-canonical';
import { parseSchema } from '../../../services/registry/registry-service';

const canonical = (schema: unknown) => canonicalAvroSchema(schema);

describe("canonicalAvroSchema, Avro Java's toString as Confluent stores it", () => {
  it.each([
    {
      what: 'standard attributes in Avro order, whatever order they came in',
      input: { fields: [{ type: 'string', name: 'a' }], name: 'R', type: 'record', namespace: 'n' },
      output: '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":"string"}]}',
    },
    {
      what: 'a dotted name split into name and namespace',
      input: { type: 'record', name: 'vn.hanoi.R', fields: [] },
      output: '{"type":"record","name":"R","namespace":"vn.hanoi","fields":[]}',
    },
    {
      what: 'a field: name, type, doc, default, order, aliases, then custom properties in written order',
      input: {
        type: 'record',
        name: 'R',
        fields: [
          {
            z: 1,
            aliases: ['old'],
            default: 'x',
            name: 'a',
            doc: 'D',
            type: 'string',
            order: 'DESCENDING',
            a: 2,
          },
          { name: 'b', type: 'int', order: 'ascending' },
        ],
      },
      output:
        '{"type":"record","name":"R","fields":[{"name":"a","type":"string","doc":"D","default":"x",' +
        '"order":"descending","aliases":["old"],"z":1,"a":2},{"name":"b","type":"int"}]}',
    },
    {
      what: 'a primitive object without properties as its name, and one with a logical type kept whole',
      input: {
        type: 'record',
        name: 'R',
        fields: [
          { name: 'a', type: { type: 'string' } },
          { name: 'b', type: { logicalType: 'date', type: 'int' } },
        ],
      },
      output:
        '{"type":"record","name":"R","fields":[{"name":"a","type":"string"},' +
        '{"name":"b","type":{"type":"int","logicalType":"date"}}]}',
    },
    {
      what: 'a named type written twice as a reference, short in its own namespace',
      input: {
        type: 'record',
        name: 'R',
        namespace: 'n',
        fields: [
          { name: 'a', type: { type: 'enum', name: 'n.E', symbols: ['X'], default: 'X', doc: 'd' } },
          { name: 'b', type: 'n.E' },
          { name: 'c', type: ['null', 'E'] },
        ],
      },
      output:
        '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"enum","name":"E",' +
        '"doc":"d","symbols":["X"],"default":"X"}},{"name":"b","type":"E"},{"name":"c","type":["null","E"]}]}',
    },
    {
      what: 'a nested type in another namespace, or in none, says so',
      input: {
        type: 'record',
        name: 'R',
        namespace: 'n',
        fields: [
          { name: 'a', type: { type: 'fixed', size: 4, name: 'm.F' } },
          { name: 'b', type: { type: 'record', name: 'G', namespace: '', fields: [] } },
          { name: 'c', type: 'm.F' },
        ],
      },
      output:
        '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"fixed","name":"F",' +
        '"namespace":"m","size":4}},{"name":"b","type":{"type":"record","name":"G","namespace":"","fields":[]}},' +
        '{"name":"c","type":"m.F"}]}',
    },
    {
      what: 'arrays and maps, with their properties after items and values',
      input: { values: { items: 'long', type: 'array' }, type: 'map', 'java-class': 'x' },
      output: '{"type":"map","values":{"type":"array","items":"long"},"java-class":"x"}',
    },
  ])('$what', ({ input, output }) => {
    expect(canonical(input)).toBe(output);
  });

  it('gives the same text, so the same identity, to two spellings of one schema', () => {
    const goOrder =
      '{"fields":[{"default":null,"type":["null","string"],"name":"note"},{"type":"string","name":"taxCode"}],' +
      '"namespace":"vn.hanoi.lienthong.test","name":"Taxpayer","type":"record"}';
    const javaOrder = JSON.stringify(
      {
        type: 'record',
        name: 'vn.hanoi.lienthong.test.Taxpayer',
        fields: [
          { name: 'note', type: ['null', 'string'], default: null },
          { name: 'taxCode', type: { type: 'string' } },
        ],
      },
      null,
      2,
    );
    expect(parseSchema(goOrder).canonical).toBe(parseSchema(javaOrder).canonical);
    expect(parseSchema(goOrder).canonical).toBe(
      '{"type":"record","name":"Taxpayer","namespace":"vn.hanoi.lienthong.test","fields":' +
        '[{"name":"note","type":["null","string"],"default":null},{"name":"taxCode","type":"string"}]}',
    );
  });

  it('keeps what changes a schema apart: a doc, a default or a custom property', () => {
    const base = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    const withDoc = { ...base, doc: 'about R' };
    const withDefault = { ...base, fields: [{ name: 'a', type: 'string', default: '' }] };
    const texts = [base, withDoc, withDefault].map((s) => parseSchema(JSON.stringify(s)).canonical);
    expect(new Set(texts).size).toBe(3);
  });

  it('refuses what is not an Avro schema with 42201 at body.schema', () => {
    for (const text of [
      '{"type": "record", "name": ',
      '{"type":"record","name":"X","fields":[{"name":"a","type":"strin"}]}',
    ]) {
      expect(() => parseSchema(text)).toThrow(
        expect.objectContaining({
          errorCode: 42201,
          issues: [expect.objectContaining({ path: 'body.schema' })],
        }),
      );
    }
  });
});
