import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type Registry } from '../../services/registry/registry';
import { uniqueName } from '../support/fixtures';
import { registryHarness } from '../support/registry';

/** A taxpayer record as an agency might first publish it. */
type Field = { name: string } & Record<string, unknown>;
const taxpayer = (fields: Field[] = [], symbols = ['ACTIVE', 'SUSPENDED', 'CLOSED']) => ({
  type: 'record',
  name: 'Taxpayer',
  namespace: 'vn.hanoi.lienthong.test',
  fields: [
    { name: 'taxCode', type: 'string' },
    { name: 'debt', type: 'int' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols } },
    ...fields,
  ] as Field[],
});
const avro = (schema: object) => ({ type: SchemaType.AVRO as const, schema: JSON.stringify(schema) });

describe('the schema registry, through the Confluent client', () => {
  const harness = registryHarness();
  let registry: Registry;

  beforeAll(async () => {
    registry = await harness.start();
  });
  afterAll(() => harness.stopAll());

  it('registers a schema, encodes in the Confluent wire format, and decodes by id', async () => {
    const subject = uniqueName('taxpayer-value');
    const producer = harness.client(registry, 'HN-CUCTHUE');
    const { id } = await producer.register(avro(taxpayer()), { subject });

    const value = { taxCode: '0101234567', debt: 1_250_000, status: 'ACTIVE' };
    const bytes = await producer.encode(id, value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(bytes.length).toBeGreaterThan(5);

    // A fresh client has no cache: it must fetch the schema by id from the registry.
    const consumer = harness.client(registry, 'reader');
    await expect(consumer.decode(bytes)).resolves.toEqual(value);
    await expect(consumer.getLatestSchemaId(subject)).resolves.toBe(id);
  });

  it('answers an identical schema with the same id, whatever its white space', async () => {
    const subject = uniqueName('taxpayer-value');
    const client = harness.client(registry, 'HN-CUCTHUE');
    const first = await client.register(avro(taxpayer()), { subject });
    const again = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
      schema: JSON.stringify(taxpayer(), null, 2),
    });
    expect(again).toMatchObject({ status: 200, body: { id: first.id, version: 1 } });
    const versions = await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions`);
    expect(versions.body).toEqual([1]);
  });

  it('evolves compatibly: a new version gets a new id, and old bytes still decode', async () => {
    const subject = uniqueName('taxpayer-value');
    const client = harness.client(registry, 'HN-CUCTHUE');
    const v1 = await client.register(avro(taxpayer()), { subject });
    const oldBytes = await client.encode(v1.id, { taxCode: '0101234567', debt: 5, status: 'CLOSED' });
    const v2 = await client.register(
      avro(taxpayer([{ name: 'managingTaxOffice', type: 'string', default: 'Cục Thuế Hà Nội' }])),
      { subject },
    );
    expect(v2.id).not.toBe(v1.id);
    const latest = await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions/latest`);
    expect(latest.body).toMatchObject({ subject, version: 2, id: v2.id });
    await expect(harness.client(registry, 'reader').decode(oldBytes)).resolves.toEqual({
      taxCode: '0101234567',
      debt: 5,
      status: 'CLOSED',
    });
  });

  describe('refuses breaking changes with 409 and names the field', () => {
    const cases: {
      change: string;
      level: string;
      broken: object;
      compatible: object;
      field: string;
    }[] = [
      {
        change: 'a new field without a default',
        level: 'BACKWARD',
        broken: taxpayer([{ name: 'district', type: 'string' }]),
        compatible: taxpayer([{ name: 'district', type: 'string', default: 'Long Biên' }]),
        field: 'district',
      },
      {
        change: 'a rename without an alias',
        level: 'BACKWARD',
        broken: {
          ...taxpayer(),
          fields: taxpayer().fields.map((f) => (f.name === 'debt' ? { ...f, name: 'amountOwed' } : f)),
        },
        compatible: {
          ...taxpayer(),
          fields: taxpayer().fields.map((f) =>
            f.name === 'debt' ? { ...f, name: 'amountOwed', aliases: ['debt'] } : f,
          ),
        },
        field: 'amountOwed',
      },
      {
        change: 'int to string',
        level: 'BACKWARD',
        broken: {
          ...taxpayer(),
          fields: taxpayer().fields.map((f) => (f.name === 'debt' ? { ...f, type: 'string' } : f)),
        },
        compatible: {
          ...taxpayer(),
          fields: taxpayer().fields.map((f) => (f.name === 'debt' ? { ...f, type: 'long' } : f)),
        },
        field: 'debt',
      },
      {
        change: 'a removed enum symbol',
        level: 'BACKWARD',
        broken: taxpayer([], ['ACTIVE', 'SUSPENDED']),
        compatible: taxpayer([], ['ACTIVE', 'SUSPENDED', 'CLOSED', 'LEFT_ADDRESS']),
        field: 'CLOSED',
      },
      {
        change: 'a removed enum symbol',
        level: 'FULL_TRANSITIVE',
        broken: taxpayer([], ['ACTIVE', 'SUSPENDED']),
        // Under FULL, old readers must read new data too: no symbol may be added or removed without a default.
        compatible: taxpayer([{ name: 'note', type: ['null', 'string'], default: null }]),
        field: 'CLOSED',
      },
    ];

    it.each(cases)('$change under $level', async ({ level, broken, compatible, field }) => {
      const subject = uniqueName('taxpayer-value');
      const client = harness.client(registry, 'HN-CUCTHUE');
      await client.register(avro(taxpayer()), {
        subject,
        compatibility: COMPATIBILITY[level as keyof typeof COMPATIBILITY],
      });
      const config = await harness.http(registry, 'reader', 'GET', `/config/${subject}`);
      expect(config.body).toEqual({ compatibilityLevel: level });

      const refused = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
        schema: JSON.stringify(broken),
      });
      expect(refused.status).toBe(409);
      // Confluent's server answers 40901 since version 8.2 (409 before).
      expect(refused.body.error_code).toBe(40901);
      expect(refused.body.code).toBe('INCOMPATIBLE_SCHEMA');
      expect(refused.body.message).toContain(field);
      expect(JSON.stringify(refused.body.errors)).toContain(field);

      const check = await harness.http(
        registry,
        'reader',
        'POST',
        `/compatibility/subjects/${subject}/versions/latest?verbose=true`,
        { schema: JSON.stringify(broken) },
      );
      expect(check.body.is_compatible).toBe(false);

      const accepted = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
        schema: JSON.stringify(compatible),
      });
      expect(accepted.status).toBe(200);
      const versions = await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions`);
      expect(versions.body).toEqual([1, 2]);
    });
  });

  it('keeps ids and versions across a restart, and a second instance serves the same', async () => {
    const subject = uniqueName('taxpayer-value');
    const client = harness.client(registry, 'HN-CUCTHUE');
    const v1 = await client.register(avro(taxpayer()), { subject });
    const v2 = await client.register(avro(taxpayer([{ name: 'ward', type: 'string', default: '' }])), {
      subject,
    });

    const second = await harness.start();
    const fromSecond = await harness.http(second, 'reader', 'GET', `/subjects/${subject}/versions/2`);
    expect(fromSecond.body).toMatchObject({ id: v2.id, version: 2 });

    // Written through the second instance, read through the first at once.
    const v3 = await harness.client(second, 'HN-CUCTHUE').register(
      avro(
        taxpayer([
          { name: 'ward', type: 'string', default: '' },
          { name: 'street', type: 'string', default: '' },
        ]),
      ),
      { subject },
    );
    const fromFirst = await harness.http(registry, 'reader', 'GET', `/schemas/ids/${v3.id}`);
    expect(fromFirst.status).toBe(200);

    await harness.stopAll();
    registry = await harness.start();
    for (const [version, id] of [
      [1, v1.id],
      [2, v2.id],
      [3, v3.id],
    ] as const) {
      const after = await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions/${version}`);
      expect(after.body).toMatchObject({ subject, version, id });
    }
  });

  it('orders racing writes through two instances into one history, which both serve at once', async () => {
    const subject = uniqueName('taxpayer-value');
    const second = await harness.start();
    // Twelve versions, each with a field of its own and a default: compatible in any order.
    const schemas = Array.from({ length: 12 }, (_, i) =>
      avro(taxpayer([{ name: `extra${i}`, type: 'string', default: '' }])),
    );
    const ids = await Promise.all(
      schemas.map(async (schema, i) => {
        const through = i % 2 === 0 ? registry : second;
        const { id } = await harness.client(through, 'HN-CUCTHUE').register(schema, { subject });
        // Read your write on the other instance, at once.
        const other = i % 2 === 0 ? second : registry;
        const read = await harness.http(other, 'reader', 'GET', `/schemas/ids/${id}`);
        expect(read.status).toBe(200);
        return id;
      }),
    );
    expect(new Set(ids).size).toBe(schemas.length);

    // One gapless history, the same on both: each schema has one version, each version one id.
    const versions = Array.from({ length: schemas.length }, (_, i) => i + 1);
    for (const instance of [registry, second]) {
      expect((await harness.http(instance, 'reader', 'GET', `/subjects/${subject}/versions`)).body).toEqual(
        versions,
      );
    }
    const history = await Promise.all(
      versions.map(async (version) => {
        const [first, other] = await Promise.all(
          [registry, second].map(
            async (instance) =>
              (await harness.http(instance, 'reader', 'GET', `/subjects/${subject}/versions/${version}`))
                .body,
          ),
        );
        expect(other).toEqual(first);
        return first?.id;
      }),
    );
    expect([...history].sort()).toEqual([...ids].sort());
  });

  describe('bad input', () => {
    let subject: string;
    beforeAll(async () => {
      subject = uniqueName('taxpayer-value');
      await harness.client(registry, 'HN-CUCTHUE').register(avro(taxpayer()), { subject });
    });

    it('a malformed schema gets 422 with the parse error', async () => {
      const notJson = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
        schema: '{"type": "record", "name": ',
      });
      expect(notJson.status).toBe(422);
      expect(notJson.body).toMatchObject({ error_code: 42201, code: 'INVALID_SCHEMA' });
      expect(notJson.body.message).toMatch(/JSON/);

      const unknownType = await harness.http(
        registry,
        'HN-CUCTHUE',
        'POST',
        `/subjects/${subject}/versions`,
        {
          schema: JSON.stringify({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'strin' }] }),
        },
      );
      expect(unknownType.status).toBe(422);
      expect(unknownType.body.message).toContain('strin');
    });

    it('an unknown subject or version gets 404 with Confluent codes', async () => {
      const noSubject = await harness.http(
        registry,
        'reader',
        'GET',
        `/subjects/${uniqueName('nobody')}/versions`,
      );
      expect(noSubject.status).toBe(404);
      expect(noSubject.body.error_code).toBe(40401);
      const noVersion = await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions/99`);
      expect(noVersion.status).toBe(404);
      expect(noVersion.body.error_code).toBe(40402);
      const noSchema = await harness.http(registry, 'reader', 'GET', '/schemas/ids/999999');
      expect(noSchema.body.error_code).toBe(40403);
      const badVersion = await harness.http(registry, 'reader', 'GET', `/subjects/${subject}/versions/abc`);
      expect(badVersion.status).toBe(422);
      expect(badVersion.body).toMatchObject({ error_code: 42202, errors: [{ path: 'params.version' }] });
    });

    it('a wrong agency gets 403, a reader may not write, and nobody unauthenticated gets in', async () => {
      const body = { schema: JSON.stringify(taxpayer([{ name: 'x', type: 'string', default: '' }])) };
      const otherAgency = await harness.http(
        registry,
        'HN-DKKD',
        'POST',
        `/subjects/${subject}/versions`,
        body,
      );
      expect(otherAgency.status).toBe(403);
      expect(otherAgency.body).toMatchObject({ error_code: 40301, code: 'FORBIDDEN' });
      expect(otherAgency.body.message).toContain('HN-CUCTHUE');
      const config = await harness.http(registry, 'HN-DKKD', 'PUT', `/config/${subject}`, {
        compatibility: 'NONE',
      });
      expect(config.status).toBe(403);
      const reader = await harness.http(registry, 'reader', 'POST', `/subjects/${subject}/versions`, body);
      expect(reader.status).toBe(403);
      const global = await harness.http(registry, 'HN-CUCTHUE', 'PUT', '/config', { compatibility: 'NONE' });
      expect(global.status).toBe(403);

      const anonymous = await harness.http(registry, null, 'GET', '/subjects');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error_code).toBe(40101);
      const wrongKey = await harness.http(registry, null, 'GET', '/subjects', undefined, {
        authorization: `Basic ${Buffer.from('HN-CUCTHUE:guess').toString('base64')}`,
      });
      expect(wrongKey.status).toBe(401);
    });

    it('an oversized body gets 413', async () => {
      const huge = { schema: JSON.stringify({ type: 'string', doc: 'x'.repeat(70 * 1024) }) };
      const response = await harness.http(
        registry,
        'HN-CUCTHUE',
        'POST',
        `/subjects/${subject}/versions`,
        huge,
      );
      expect(response.status).toBe(413);
      expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('__proto__, bad JSON and a bad compatibility level get 4xx with the path; unknown members are ignored', async () => {
      // Confluent's server ignores members it does not know, and so do we: they change nothing.
      const unknown = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
        schema: JSON.stringify(taxpayer()),
        $where: 'sleep(1000)',
      });
      expect(unknown).toMatchObject({ status: 200, body: { version: 1 } });

      const proto = await harness.http(
        registry,
        'HN-CUCTHUE',
        'POST',
        `/subjects/${subject}/versions`,
        '{"schema": "\\"string\\"", "__proto__": {"admin": true}}',
      );
      expect(proto.status).toBe(400);

      const badJson = await harness.http(
        registry,
        'HN-CUCTHUE',
        'POST',
        `/subjects/${subject}/versions`,
        '{"schema": ',
      );
      expect(badJson.status).toBe(400);
      expect(badJson.body.code).toBe('MALFORMED_REQUEST');

      const wrongType = await harness.http(registry, 'HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
        schema: 42,
      });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body).toMatchObject({
        error_code: 400,
        errors: [{ path: 'body.schema', message: 'must be string,null' }],
      });

      const level = await harness.http(registry, 'HN-CUCTHUE', 'PUT', `/config/${subject}`, {
        compatibility: 'SOMETIMES',
      });
      expect(level.status).toBe(422);
      expect(level.body.error_code).toBe(42203);

      const badSubject = await harness.http(registry, 'HN-CUCTHUE', 'POST', '/subjects/%24where/versions', {
        schema: JSON.stringify(taxpayer()),
      });
      expect(badSubject.status).toBe(422);
      expect(badSubject.body.error_code).toBe(42208);
    });
  });

  it('serves the seven compatibility levels, soft deletes, and the operations endpoints', async () => {
    const subject = uniqueName('taxpayer-value');
    await harness.client(registry, 'HN-CUCTHUE').register(avro(taxpayer()), { subject });
    for (const level of [
      'NONE',
      'BACKWARD',
      'BACKWARD_TRANSITIVE',
      'FORWARD',
      'FORWARD_TRANSITIVE',
      'FULL',
      'FULL_TRANSITIVE',
    ]) {
      const put = await harness.http(registry, 'HN-CUCTHUE', 'PUT', `/config/${subject}`, {
        compatibility: level,
      });
      expect(put.body).toEqual({ compatibility: level });
    }
    const global = await harness.http(registry, 'operator', 'GET', '/config');
    expect(global.body).toEqual({ compatibilityLevel: 'BACKWARD' });

    const deleted = await harness.http(registry, 'HN-CUCTHUE', 'DELETE', `/subjects/${subject}`);
    expect(deleted.body).toEqual([1]);
    const listed = await harness.http(registry, 'reader', 'GET', '/subjects');
    expect(listed.body).not.toContain(subject);
    const withDeleted = await harness.http(registry, 'reader', 'GET', '/subjects?deleted=true');
    expect(withDeleted.body).toContain(subject);

    const health = await fetch(`${registry.url()}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${registry.url()}/metrics`)).text();
    expect(metrics).toContain('http_requests_total');
    const openapi = (await (await fetch(`${registry.url()}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toContain('/subjects/{subject}/versions');
  });
});
