import { type Principal } from '../../../services/platform/credentials';
import { RegistryService, type SchemaRequest } from '../../../services/registry/registry-service';
import { RegistryState } from '../../../services/registry/registry-state';

/** The service over a log held in memory: every append applies at once, in order. */
function registry() {
  const state = new RegistryState();
  const service = new RegistryService({
    state,
    log: { append: async (key, value) => state.apply(key, value), catchUp: async () => undefined },
    declaredOwners: new Map([['tax-value', 'HN-CUCTHUE']]),
  });
  return { state, service };
}
const tax: Principal = { clientId: 'HN-CUCTHUE', role: 'agency', agency: 'HN-CUCTHUE' } as Principal;
const record = (...fields: object[]) =>
  JSON.stringify({
    type: 'record',
    name: 'R',
    namespace: 'n',
    fields: [{ name: 'a', type: 'string' }, ...fields],
  });
const body = (schema: string, extra: Partial<SchemaRequest> = {}): SchemaRequest => ({ schema, ...extra });
const code = (errorCode: number) => expect.objectContaining({ errorCode });

describe('RegistryService, with Confluent answers in Confluent cases', () => {
  it('registers once per canonical form: another spelling returns the version and id it has', async () => {
    const { service } = registry();
    const first = await service.register('tax-value', body(record()), tax);
    const reordered = '{"namespace":"n","fields":[{"type":"string","name":"a"}],"type":"record","name":"R"}';
    await expect(service.register('tax-value', body(reordered), tax)).resolves.toMatchObject({
      version: 1,
      id: first.id,
    });
    await expect(service.register('copy-value', body(reordered), tax)).resolves.toMatchObject({
      version: 1,
      id: first.id,
    });
    await expect(service.lookup('tax-value', body(reordered))).resolves.toMatchObject({ version: 1 });
  });

  it('re-registers the latest schema for a request without one, and refuses one with nothing before it', async () => {
    const { service } = registry();
    const first = await service.register('tax-value', body(record()), tax);
    await expect(service.register('tax-value', {}, tax)).resolves.toMatchObject({ id: first.id, version: 1 });
    await expect(service.register('other-value', { schema: '' }, tax)).rejects.toThrow(code(42201));
  });

  it('refuses what it cannot honour, and accepts the empty values clients send', async () => {
    const { service } = registry();
    await expect(
      service.register(
        'a-value',
        body(record(), { schemaType: 'AVRO', references: [], metadata: null, ruleSet: {} }),
        tax,
      ),
    ).resolves.toMatchObject({ version: 1 });
    await expect(service.register('b-value', body(record(), { schemaType: 'JSON' }), tax)).rejects.toThrow(
      code(42201),
    );
    await expect(
      service.register('b-value', body(record(), { references: [{ name: 'x' }] }), tax),
    ).rejects.toThrow(code(42201));
    await expect(
      service.register('b-value', body(record(), { metadata: { properties: { a: 'b' } } }), tax),
    ).rejects.toThrow(code(42201));
    await expect(
      service.register('b-value', body(record(), { ruleSet: { domainRules: [{ name: 'r' }] } }), tax),
    ).rejects.toThrow(code(42210));
    await expect(service.register('b-value', body(record(), { id: 3 }), tax)).rejects.toThrow(code(42205));
    await expect(service.register('b-value', body(record(), { version: 2 }), tax)).rejects.toThrow(
      code(42201),
    );
  });

  it('answers deletes with 40401, 40402, 40404 to 40407, and reads of soft-deleted things as not found', async () => {
    const { service } = registry();
    await service.register('tax-value', body(record()), tax);
    await service.register('tax-value', body(record({ name: 'b', type: 'int', default: 0 })), tax);
    await expect(service.deleteVersion('tax-value', 2, true, tax)).rejects.toThrow(code(40407));
    await expect(service.deleteVersion('tax-value', 2, false, tax)).resolves.toBe(2);
    await expect(service.deleteVersion('tax-value', 2, false, tax)).rejects.toThrow(code(40406));
    await expect(service.deleteVersion('tax-value', 7, false, tax)).rejects.toThrow(code(40402));
    await expect(service.version('tax-value', 2)).rejects.toThrow(code(40402));
    await expect(service.deleteSubject('tax-value', true, tax)).rejects.toThrow(code(40405));
    await expect(service.deleteSubject('tax-value', false, tax)).resolves.toEqual([1]);
    await expect(service.deleteSubject('tax-value', false, tax)).rejects.toThrow(code(40404));
    await expect(service.version('tax-value', 'latest')).rejects.toThrow(code(40401));
    await expect(service.versions('tax-value', 'live')).rejects.toThrow(code(40401));
    await expect(service.versions('tax-value', 'deleted')).resolves.toEqual([1, 2]);
    await expect(service.lookup('tax-value', body(record()))).rejects.toThrow(code(40401));
    await expect(service.deleteSubject('tax-value', true, tax)).resolves.toEqual([1, 2]);
    await expect(service.deleteSubject('tax-value', false, tax)).rejects.toThrow(code(40401));
  });

  it('tests one version alone, or what the level compares with; a missing numbered version is 40402', async () => {
    const { service } = registry();
    await expect(service.testCompatibility('tax-value', 'latest', body(record()))).resolves.toMatchObject({
      compatible: true,
    });
    await expect(service.testCompatibility('tax-value', 1, body(record()))).rejects.toThrow(code(40402));
    await service.register('tax-value', body(record()), tax);
    await service.setConfig('tax-value', 'FULL_TRANSITIVE', { ...tax, role: 'operator' } as Principal);
    await service.register('tax-value', body(record({ name: 'b', type: 'int', default: 0 })), tax);
    // `b` without a default reads version 2's data, but not version 1's, which has no `b`.
    const bRequired = body(record({ name: 'b', type: 'int' }));
    await expect(service.testCompatibility('tax-value', 2, bRequired)).resolves.toMatchObject({
      compatible: true,
    });
    await expect(service.testCompatibility('tax-value', 'latest', bRequired)).resolves.toMatchObject({
      compatible: true,
    });
    await expect(service.testCompatibility('tax-value', 'all', bRequired)).resolves.toMatchObject({
      compatible: false,
      messages: [expect.stringContaining('b')],
    });
    await expect(service.testCompatibility('tax-value', 'all', body('{'), true)).resolves.toMatchObject({
      compatible: false,
      messages: [expect.stringContaining('Invalid schema')],
    });
    await expect(service.testCompatibility('tax-value', 'all', body('{'))).rejects.toThrow(code(42201));
  });
});
