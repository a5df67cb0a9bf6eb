import { RegistryState, type SchemaVersion } from '../../../services/registry/registry-state';

const schema = (n: number) => JSON.stringify({ type: 'record', name: `R${n}`, fields: [] });
const version = (subject: string, v: number, id: number, s: string, deleted = false): SchemaVersion => ({
  subject,
  version: v,
  id,
  schema: s,
  deleted,
});
const key = (subject: string, v: number) => ({
  keytype: 'SCHEMA' as const,
  subject,
  version: v,
  magic: 1 as const,
});

describe('RegistryState, applying the schema log in order', () => {
  it('accepts the next version and the next id, and serves them', () => {
    const state = new RegistryState();
    expect(state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(1)))).toBe('applied');
    expect(state.apply(key('tax-value', 2), version('tax-value', 2, 2, schema(2)))).toBe('applied');
    expect(state.versions('tax-value').map((v) => v.version)).toEqual([1, 2]);
    expect(state.schemaById(2)).toBe(schema(2));
    expect(state.nextClaim('tax-value', schema(3))).toEqual({ id: 3, version: 3 });
  });

  it('settles a race: of two claims on the same version, the first in the log wins', () => {
    const state = new RegistryState();
    // Two instances both read version 0 and claimed version 1 with id 1 for different schemas.
    expect(state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(1)))).toBe('applied');
    expect(state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(2)))).toBe('ignored');
    expect(state.versions('tax-value')).toEqual([version('tax-value', 1, 1, schema(1))]);
  });

  it('ignores a claim on an id another schema took, and one that skips a version', () => {
    const state = new RegistryState();
    state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(1)));
    expect(state.apply(key('vehicle-value', 1), version('vehicle-value', 1, 1, schema(2)))).toBe('ignored');
    expect(state.apply(key('vehicle-value', 2), version('vehicle-value', 2, 2, schema(2)))).toBe('ignored');
    expect(state.subjectNames()).toEqual(['tax-value']);
  });

  it('gives the same schema the same id under another subject', () => {
    const state = new RegistryState();
    state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(1)));
    expect(state.nextClaim('copy-value', schema(1))).toEqual({ id: 1, version: 1 });
    expect(state.apply(key('copy-value', 1), version('copy-value', 1, 1, schema(1)))).toBe('applied');
    expect(state.usesOf(1)).toEqual([
      { subject: 'copy-value', version: 1 },
      { subject: 'tax-value', version: 1 },
    ]);
  });

  it('soft-deletes, then removes only a soft-deleted version for good, and never reuses its number', () => {
    const state = new RegistryState();
    state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(1)));
    expect(state.apply(key('tax-value', 1), null)).toBe('ignored');
    expect(state.apply(key('tax-value', 1), version('tax-value', 1, 1, schema(1), true))).toBe('applied');
    expect(state.subjectNames()).toEqual([]);
    expect(state.subjectNames('all')).toEqual(['tax-value']);
    expect(state.apply(key('tax-value', 1), null)).toBe('applied');
    expect(state.hasSubject('tax-value')).toBe(false);
    expect(state.nextClaim('tax-value', schema(5)).version).toBe(2);
  });

  it('keeps the last compatibility level per subject and globally, and forgets a deleted one', () => {
    const state = new RegistryState();
    const config = (subject: string | null) => ({ keytype: 'CONFIG' as const, subject, magic: 0 as const });
    state.apply(config(null), { compatibilityLevel: 'FULL' });
    state.apply(config('tax-value'), { compatibilityLevel: 'NONE' });
    state.apply(config('tax-value'), { compatibilityLevel: 'FORWARD' });
    expect(state.globalLevel).toBe('FULL');
    expect(state.subjectLevel('tax-value')).toBe('FORWARD');
    state.apply(config('tax-value'), null);
    expect(state.subjectLevel('tax-value')).toBeUndefined();
  });

  describe('schemas in canonical form, with logs written before it', () => {
    const javaOrder = '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":"string"}]}';
    const otherOrder = '{"namespace":"n","fields":[{"type":"string","name":"a"}],"name":"R","type":"record"}';

    it('reads every spelling in canonical form, and a new subject reuses the first id', () => {
      const state = new RegistryState();
      expect(state.apply(key('a-value', 1), version('a-value', 1, 1, otherOrder))).toBe('applied');
      expect(state.schemaById(1)).toBe(javaOrder);
      expect(state.versions('a-value')[0]?.schema).toBe(javaOrder);
      expect(state.nextClaim('b-value', javaOrder)).toEqual({ id: 1, version: 1 });
      // A canonical record that reuses an id first written in another spelling takes effect.
      expect(state.apply(key('b-value', 1), version('b-value', 1, 1, javaOrder))).toBe('applied');
    });

    it('keeps the ids and versions of an older log that gave two spellings two ids', () => {
      const state = new RegistryState();
      state.apply(key('a-value', 1), version('a-value', 1, 1, javaOrder));
      expect(state.apply(key('a-value', 2), version('a-value', 2, 2, otherOrder))).toBe('applied');
      expect(state.versions('a-value').map((v) => [v.version, v.id])).toEqual([
        [1, 1],
        [2, 2],
      ]);
      expect(state.schemaById(2)).toBe(javaOrder);
      expect(state.nextClaim('c-value', javaOrder).id).toBe(1);
    });

    it('refuses a second new id for the same canonical text, which only a race writes', () => {
      const state = new RegistryState();
      state.apply(key('a-value', 1), version('a-value', 1, 1, javaOrder));
      expect(state.apply(key('b-value', 1), version('b-value', 1, 2, javaOrder))).toBe('ignored');
    });

    it('forgets a schema id once no version uses it, and serves soft-deleted ones by id', () => {
      const state = new RegistryState();
      state.apply(key('a-value', 1), version('a-value', 1, 1, javaOrder));
      state.apply(key('a-value', 1), version('a-value', 1, 1, javaOrder, true));
      expect(state.schemaById(1)).toBe(javaOrder);
      expect(state.usesOf(1)).toEqual([]);
      expect(state.usesOf(1, 'all')).toEqual([{ subject: 'a-value', version: 1 }]);
      state.apply(key('a-value', 1), null);
      expect(state.schemaById(1)).toBeUndefined();
      expect(state.maxId()).toBe(1);
    });
  });
});
