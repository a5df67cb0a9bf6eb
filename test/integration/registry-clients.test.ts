import { type Registry } from '../../services/registry/registry';
import { uniqueName } from '../support/fixtures';
import { registryHarness, type TestClientId } from '../support/registry';

/**
 * The requests Confluent's official clients send with their default settings, replayed byte for
 * byte (paths, query strings, headers, bodies), and what Confluent's server answers to each:
 * - Python: confluent-kafka 2.16 `SchemaRegistryClient` (httpx; `lookup_schema`, `register_schema`,
 *   `test_compatibility` and `update_mode` write Python booleans, `False`, into the query string;
 *   `get_subjects` and `get_versions` send `deleted_only` and `subject`, which the server ignores);
 * - Go: confluent-kafka-go v2 `schemaregistry` (`%t` booleans, a content type on every request).
 * The interop suite drives the real clients; this file pins each request's answer.
 */
const taxpayer = (extra: object[] = []) => ({
  type: 'record',
  name: 'Taxpayer',
  namespace: 'vn.hanoi.lienthong.test',
  fields: [{ name: 'taxCode', type: 'string' }, { name: 'debt', type: 'long' }, ...extra],
});
/** The same schema as the Go client's serializer writes it: other key order, other spacing. */
const taxpayerGoOrder = (extra: object[] = []) =>
  `{"fields":[{"type":"string","name":"taxCode"},{"type":"long","name":"debt"}${extra
    .map((f) => `,${JSON.stringify(f)}`)
    .join('')}],"namespace":"vn.hanoi.lienthong.test","type":"record","name":"Taxpayer"}`;

const PYTHON_ACCEPT =
  'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json';
const VND = 'application/vnd.schemaregistry.v1+json';

interface Answer {
  status: number;
  body: unknown;
  json: Record<string, unknown> & { error_code?: number };
  contentType: string;
}

describe("the registry answers Confluent's official clients as Confluent's server does", () => {
  const harness = registryHarness();
  let registry: Registry;

  beforeAll(async () => {
    registry = await harness.start();
  });
  afterAll(() => harness.stopAll());

  const auth = (client: TestClientId) =>
    `Basic ${Buffer.from(`${client}:${harness.keys[client]}`).toString('base64')}`;

  async function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Answer> {
    const response = await fetch(`${registry.url()}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // A raw schema or an empty answer stays text.
    }
    return {
      status: response.status,
      body: parsed,
      json: (parsed ?? {}) as Answer['json'],
      contentType: response.headers.get('content-type') ?? '',
    };
  }

  /** As confluent-kafka-python's `_RestClient.send_request` sends it. */
  const python = (client: TestClientId, method: string, path: string, body?: object) =>
    send(
      method,
      path,
      body === undefined
        ? { accept: PYTHON_ACCEPT, 'confluent-client-version': 'python/2.16.1', authorization: auth(client) }
        : {
            'content-type': VND,
            'confluent-accept-unknown-properties': 'true',
            'confluent-client-version': 'python/2.16.1',
            authorization: auth(client),
          },
      body === undefined ? undefined : JSON.stringify(body),
    );

  /** As confluent-kafka-go's `restService.HandleRequest` sends it. */
  const go = (client: TestClientId, method: string, path: string, body?: object) =>
    send(
      method,
      path,
      { 'content-type': VND, 'confluent-accept-unknown-properties': 'true', authorization: auth(client) },
      body === undefined ? undefined : JSON.stringify(body),
    );

  it('Python SchemaRegistryClient: every method the issue found refused, in its default form', async () => {
    const subject = uniqueName('py-taxpayer-value');
    const schema = { schema: JSON.stringify(taxpayer()), schemaType: 'AVRO', references: [] };

    // register_schema, and AvroSerializer with auto.register.schemas (the default).
    const registered = await python(
      'HN-CUCTHUE',
      'POST',
      `/subjects/${subject}/versions?normalize=False`,
      schema,
    );
    expect(registered).toMatchObject({ status: 200, json: { id: expect.any(Number), version: 1 } });
    expect(registered.contentType).toContain(VND);
    const id = registered.json.id as number;

    // lookup_schema, and AvroSerializer with use.latest.version=False, auto.register.schemas=False.
    const lookedUp = await python(
      'reader',
      'POST',
      `/subjects/${subject}?normalize=False&deleted=False`,
      schema,
    );
    expect(lookedUp).toMatchObject({ status: 200, json: { subject, version: 1, id } });

    // get_subjects and get_versions send deleted_only and subject, which Confluent's server ignores.
    const subjects = await python(
      'reader',
      'GET',
      `/subjects?deleted=false&deleted_only=false&offset=0&limit=-1`,
    );
    expect(subjects.status).toBe(200);
    expect(subjects.body).toContain(subject);
    const prefixed = await python(
      'reader',
      'GET',
      `/subjects?deleted=false&deleted_only=false&offset=0&limit=-1&subject=${encodeURIComponent(subject)}`,
    );
    expect(prefixed.body).toContain(subject);
    const versions = await python(
      'reader',
      'GET',
      `/subjects/${subject}/versions?deleted=false&deleted_only=false&offset=0&limit=-1`,
    );
    expect(versions).toMatchObject({ status: 200, body: [1] });

    // test_compatibility and test_compatibility_all_versions.
    const evolved = {
      ...schema,
      schema: JSON.stringify(taxpayer([{ name: 'ward', type: 'string', default: '' }])),
    };
    const latest = await python(
      'reader',
      'POST',
      `/compatibility/subjects/${subject}/versions/latest?normalize=False&verbose=False`,
      evolved,
    );
    expect(latest).toMatchObject({ status: 200, body: { is_compatible: true } });
    const all = await python(
      'reader',
      'POST',
      `/compatibility/subjects/${subject}/versions?normalize=False&verbose=False`,
      evolved,
    );
    expect(all).toMatchObject({ status: 200, body: { is_compatible: true } });
    const breaking = await python(
      'reader',
      'POST',
      `/compatibility/subjects/${subject}/versions?normalize=False&verbose=True`,
      { ...schema, schema: JSON.stringify(taxpayer([{ name: 'ward', type: 'string' }])) },
    );
    expect(breaking).toMatchObject({
      status: 200,
      body: { is_compatible: false, messages: [expect.stringContaining('ward')] },
    });

    // get_version, get_latest_version, get_schema (the deserializer), get_schema_versions, get_subjects_by_schema_id.
    expect(await python('reader', 'GET', `/subjects/${subject}/versions/1?deleted=False`)).toMatchObject({
      status: 200,
      json: { subject, version: 1, id },
    });
    expect(await python('reader', 'GET', `/subjects/${subject}/versions/latest`)).toMatchObject({
      status: 200,
      json: { version: 1, id },
    });
    const byId = await python('reader', 'GET', `/schemas/ids/${id}`);
    expect(byId).toMatchObject({ status: 200, json: { schema: expect.any(String) } });
    expect(JSON.parse(byId.json.schema as string)).toEqual(taxpayer());
    expect(await python('reader', 'GET', `/schemas/ids/${id}/versions?offset=0&limit=-1`)).toMatchObject({
      status: 200,
      body: [{ subject, version: 1 }],
    });
    expect(await python('reader', 'GET', `/schemas/ids/${id}/subjects?offset=0&limit=-1`)).toMatchObject({
      status: 200,
      body: [subject],
    });
    expect(
      await python('reader', 'GET', `/subjects/${subject}/versions/1/referencedby?offset=0&limit=-1`),
    ).toMatchObject({ status: 200, body: [] });
    // get_latest_with_metadata: no version here carries metadata.
    expect(
      await python('reader', 'GET', `/subjects/${subject}/metadata?deleted=false&key=owner&value=tax`),
    ).toMatchObject({ status: 404, json: { error_code: 40403 } });

    // set_compatibility and get_compatibility, get_config, get_global_mode, get_contexts.
    expect(await python('HN-CUCTHUE', 'PUT', `/config/${subject}`, { compatibility: 'FULL' })).toMatchObject({
      status: 200,
      body: { compatibility: 'FULL' },
    });
    expect(await python('reader', 'GET', `/config/${subject}`)).toMatchObject({
      status: 200,
      body: { compatibilityLevel: 'FULL' },
    });
    expect(await python('reader', 'GET', '/mode')).toMatchObject({
      status: 200,
      body: { mode: 'READWRITE' },
    });
    expect(await python('reader', 'GET', '/contexts?offset=0&limit=-1')).toMatchObject({
      status: 200,
      body: ['.'],
    });

    // delete_version and delete_subject, soft then permanent.
    expect(await python('HN-CUCTHUE', 'DELETE', `/subjects/${subject}`)).toMatchObject({
      status: 200,
      body: [1],
    });
    expect(await python('HN-CUCTHUE', 'DELETE', `/subjects/${subject}?permanent=true`)).toMatchObject({
      status: 200,
      body: [1],
    });
    expect(await python('reader', 'GET', `/schemas/ids/${id}`)).toMatchObject({
      status: 404,
      json: { error_code: 40403 },
    });
  });

  it('Go schemaregistry client: its routes and %t booleans, and one schema in any key order', async () => {
    const subject = uniqueName('go-taxpayer-value');
    // The Java, Python and kafkajs clients send this spelling; the Go client another.
    const first = await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions?normalize=false`, {
      schema: JSON.stringify(taxpayer(), null, 2),
    });
    expect(first.status).toBe(200);
    const id = first.json.id as number;

    const again = await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions?normalize=false`, {
      schema: taxpayerGoOrder(),
    });
    expect(again).toMatchObject({ status: 200, json: { id, version: 1 } });
    expect(
      await go('reader', 'POST', `/subjects/${subject}?normalize=false&deleted=false`, {
        schema: taxpayerGoOrder(),
      }),
    ).toMatchObject({ status: 200, json: { subject, version: 1, id } });
    // The same schema under another subject keeps its id, as Confluent's does.
    const other = uniqueName('go-copy-value');
    expect(
      await go('HN-CUCTHUE', 'POST', `/subjects/${other}/versions?normalize=false`, {
        schema: taxpayerGoOrder(),
      }),
    ).toMatchObject({ status: 200, json: { id, version: 1 } });
    expect(await go('reader', 'GET', `/schemas/ids/${id}/versions`)).toMatchObject({
      body: expect.arrayContaining([
        { subject, version: 1 },
        { subject: other, version: 1 },
      ]),
    });

    expect(await go('reader', 'GET', '/subjects')).toMatchObject({
      status: 200,
      body: expect.arrayContaining([subject, other]),
    });
    expect(
      await go('reader', 'GET', `/schemas/ids/${id}?subject=${encodeURIComponent(subject)}`),
    ).toMatchObject({
      status: 200,
      json: { schema: expect.any(String) },
    });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions/1?deleted=false`)).toMatchObject({
      status: 200,
    });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions`)).toMatchObject({
      status: 200,
      body: [1],
    });
    expect(await go('reader', 'GET', `/config/${subject}?defaultToGlobal=true`)).toMatchObject({
      status: 200,
      body: { compatibilityLevel: 'BACKWARD' },
    });
    expect(await go('reader', 'GET', `/config/${subject}`)).toMatchObject({
      status: 404,
      json: { error_code: 40408 },
    });
    expect(await go('reader', 'GET', '/config')).toMatchObject({
      status: 200,
      body: { compatibilityLevel: 'BACKWARD' },
    });
    expect(
      await go('HN-CUCTHUE', 'PUT', `/config/${subject}`, { compatibility: 'BACKWARD_TRANSITIVE' }),
    ).toMatchObject({
      status: 200,
    });

    const evolved = { schema: taxpayerGoOrder([{ name: 'ward', type: 'string', default: '' }]) };
    expect(await go('reader', 'POST', `/compatibility/subjects/${subject}/versions`, evolved)).toMatchObject({
      body: { is_compatible: true },
    });
    expect(
      await go('reader', 'POST', `/compatibility/subjects/${subject}/versions/1`, evolved),
    ).toMatchObject({
      body: { is_compatible: true },
    });
    const v2 = await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions?normalize=false`, evolved);
    expect(v2).toMatchObject({ status: 200, json: { version: 2 } });
    const refused = await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions?normalize=false`, {
      schema: taxpayerGoOrder([{ name: 'street', type: 'string' }]),
    });
    expect(refused).toMatchObject({ status: 409, json: { error_code: 40901, code: 'INCOMPATIBLE_SCHEMA' } });

    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}/versions/2?permanent=false`)).toMatchObject(
      {
        status: 200,
        body: 2,
      },
    );
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}?permanent=false`)).toMatchObject({
      status: 200,
      body: [1],
    });
  });

  it('soft and permanent deletes answer 40401 to 40407 where Confluent does', async () => {
    const subject = uniqueName('deleted-value');
    const schema = (extra: object[] = []) => ({ schema: JSON.stringify(taxpayer(extra)) });
    const firstId = (await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, schema())).json.id;
    await go(
      'HN-CUCTHUE',
      'POST',
      `/subjects/${subject}/versions`,
      schema([{ name: 'w', type: 'string', default: '' }]),
    );

    // A live version cannot go for good; a soft-deleted one cannot be soft-deleted again.
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}/versions/2?permanent=true`)).toMatchObject({
      status: 404,
      json: { error_code: 40407 },
    });
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}/versions/2`)).toMatchObject({
      status: 200,
      body: 2,
    });
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}/versions/2`)).toMatchObject({
      status: 404,
      json: { error_code: 40406 },
    });
    // A soft-deleted version of a live subject reads as an unknown version, unless asked for.
    expect(await go('reader', 'GET', `/subjects/${subject}/versions/2`)).toMatchObject({
      json: { error_code: 40402 },
    });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions/2?deleted=true`)).toMatchObject({
      status: 200,
    });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions?deleted=true`)).toMatchObject({
      body: [1, 2],
    });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions?deletedOnly=true`)).toMatchObject({
      body: [2],
    });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions?deletedAsNegative=true`)).toMatchObject({
      body: [1, -2],
    });
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}?permanent=true`)).toMatchObject({
      status: 404,
      json: { error_code: 40405 },
    });

    // A soft-deleted subject reads as unknown (40401) everywhere, and 40404 only to a second soft delete.
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}`)).toMatchObject({
      status: 200,
      body: [1],
    });
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}`)).toMatchObject({
      status: 404,
      json: { error_code: 40404 },
    });
    for (const path of [
      `/subjects/${subject}/versions`,
      `/subjects/${subject}/versions/1`,
      `/subjects/${subject}/versions/latest`,
    ]) {
      expect(await go('reader', 'GET', path)).toMatchObject({ status: 404, json: { error_code: 40401 } });
    }
    expect(await go('reader', 'POST', `/subjects/${subject}?deleted=false`, schema())).toMatchObject({
      status: 404,
      json: { error_code: 40401 },
    });
    expect(await go('reader', 'POST', `/subjects/${subject}?deleted=true`, schema())).toMatchObject({
      status: 200,
      json: { version: 1 },
    });
    expect(await go('reader', 'GET', `/subjects?deletedOnly=true&subjectPrefix=${subject}`)).toMatchObject({
      body: [subject],
    });
    expect(await go('reader', 'GET', `/subjects?subjectPrefix=${subject}`)).toMatchObject({ body: [] });

    // Registering again revives the subject with a new version; the same schema keeps its id, and
    // the soft-deleted version 1 that had it goes for good, as Confluent's server tombstones it.
    const revived = await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, schema());
    expect(revived).toMatchObject({ status: 200, json: { version: 3, id: firstId } });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions?deleted=true`)).toMatchObject({
      body: [2, 3],
    });

    const unknown = uniqueName('nobody-value');
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${unknown}`)).toMatchObject({
      json: { error_code: 40401 },
    });
    expect(await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}/versions/9`)).toMatchObject({
      json: { error_code: 40402 },
    });
    expect(await go('HN-CUCTHUE', 'DELETE', `/config/${unknown}`)).toMatchObject({
      json: { error_code: 40401 },
    });
  });

  describe('parameters, as Jersey reads them', () => {
    let subject: string;
    let id: number;
    beforeAll(async () => {
      subject = uniqueName('params-value');
      id = (
        await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, {
          schema: JSON.stringify(taxpayer()),
        })
      ).json.id as number;
      await go('HN-CUCTHUE', 'DELETE', `/subjects/${subject}`);
    });

    it.each([
      ['TRUE', true],
      ['True', true],
      ['1', false],
      ['yes', false],
      ['', false],
      ['true&deleted=false', true],
      ['false&deleted=true', false],
    ])('deleted=%s is %s', async (value, included) => {
      const answer = await go('reader', 'GET', `/subjects?deleted=${value}&subjectPrefix=${subject}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(included ? [subject] : []);
    });

    it('ignores parameters it does not know, and pages with offset and limit', async () => {
      expect(
        await go('reader', 'GET', `/subjects?deleted=true&subjectPrefix=${subject}&color=blue`),
      ).toMatchObject({
        body: [subject],
      });
      expect(
        await go('reader', 'GET', `/subjects?deleted=true&subjectPrefix=${subject}&offset=1`),
      ).toMatchObject({
        body: [],
      });
      expect(
        await go('reader', 'GET', `/subjects?deleted=true&subjectPrefix=${subject}&limit=1`),
      ).toMatchObject({
        body: [subject],
      });
    });

    it('answers 404 with error_code 404 to an int it cannot read, and 42202 to a bad version', async () => {
      for (const path of [
        '/subjects?offset=abc',
        '/subjects?limit=1.5',
        '/schemas/ids/abc',
        '/schemas/ids/99999999999',
      ]) {
        expect(await go('reader', 'GET', path)).toMatchObject({ status: 404, json: { error_code: 404 } });
      }
      expect(await go('reader', 'GET', '/schemas/ids/0')).toMatchObject({
        status: 404,
        json: { error_code: 40403 },
      });
      for (const version of ['0', '-2', 'abc', 'first']) {
        expect(await go('reader', 'GET', `/subjects/${subject}/versions/${version}`)).toMatchObject({
          status: 422,
          json: { error_code: 42202 },
        });
      }
      expect(await go('reader', 'GET', `/subjects/${subject}/versions/LATEST?deleted=true`)).toMatchObject({
        status: 404,
        json: { error_code: 40402 },
      });
      expect(await go('reader', 'GET', `/subjects/${subject}/versions/1?deleted=TRUE`)).toMatchObject({
        status: 200,
        json: { id },
      });
      expect(await go('reader', 'GET', '/subjects?offset=-1')).toMatchObject({
        status: 400,
        json: { code: 'MALFORMED_REQUEST' },
      });
    });
  });

  describe('bodies: what clients send by default is accepted; what cannot be honoured is refused', () => {
    const subject = uniqueName('bodies-value');
    const schema = JSON.stringify(taxpayer());

    it.each([
      ['null members', { schema, schemaType: null, references: null, metadata: null, ruleSet: null }],
      [
        'empty members',
        { schema, schemaType: 'AVRO', references: [], metadata: {}, ruleSet: { domainRules: [] } },
      ],
      [
        'lower-case type and unknown members',
        { schema, schemaType: 'avro', schemaTagsToAdd: [], propagateSchemaTags: false },
      ],
    ])('%s', async (_what, body) => {
      expect(
        await python('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions?normalize=False`, body),
      ).toMatchObject({
        status: 200,
        json: { version: 1 },
      });
    });

    it.each([
      ['another schema type', { schema, schemaType: 'PROTOBUF' }, 422, 42201],
      ['references', { schema, references: [{ name: 'X', subject: 'x-value', version: 1 }] }, 422, 42201],
      ['metadata', { schema, metadata: { properties: { owner: 'tax' } } }, 422, 42201],
      ['a rule set', { schema, ruleSet: { domainRules: [{ name: 'r', kind: 'CONDITION' }] } }, 422, 42210],
      ['an id, which only IMPORT mode takes', { schema, id: 7 }, 422, 42205],
      ['a version that is not the next', { schema, version: 9 }, 422, 42201],
      ['an empty schema on a new subject', { schema: '' }, 422, 42201],
      ['a schema that is not text', { schema: { type: 'string' } }, 400, 400],
    ])('%s is %s', async (_what, body, status, errorCode) => {
      const answer = await python(
        'HN-CUCTHUE',
        'POST',
        `/subjects/${uniqueName('refused-value')}/versions`,
        body,
      );
      expect(answer).toMatchObject({ status, json: { error_code: errorCode } });
    });

    it('no body is 422, a body that is not JSON 400, and force=true is refused', async () => {
      expect(await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`)).toMatchObject({
        status: 422,
        json: { error_code: 422 },
      });
      const notJson = await send(
        'POST',
        `/subjects/${subject}`,
        { 'content-type': VND, authorization: auth('reader') },
        '{"schema":',
      );
      expect(notJson).toMatchObject({ status: 400, json: { error_code: 400 } });
      expect(
        await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions?force=true`, { schema }),
      ).toMatchObject({
        status: 422,
        json: { error_code: 42205 },
      });
    });

    it('a compatibility level in any letter case; an unknown one is 42203', async () => {
      expect(
        await go('HN-CUCTHUE', 'PUT', `/config/${subject}`, { compatibility: 'full_transitive' }),
      ).toMatchObject({
        status: 200,
        body: { compatibility: 'FULL_TRANSITIVE' },
      });
      expect(
        await go('HN-CUCTHUE', 'PUT', `/config/${subject}`, { compatibility: 'SOMETIMES' }),
      ).toMatchObject({
        status: 422,
        json: { error_code: 42203 },
      });
      // Python's set_config with no level: nothing changes. Rule sets cannot be honoured here.
      expect(await python('HN-CUCTHUE', 'PUT', `/config/${subject}`, { normalize: true })).toMatchObject({
        status: 200,
        body: {},
      });
      expect(
        await python('HN-CUCTHUE', 'PUT', `/config/${subject}`, {
          compatibility: 'NONE',
          defaultRuleSet: { domainRules: [{ name: 'r', kind: 'CONDITION' }] },
        }),
      ).toMatchObject({ status: 422, json: { error_code: 42210 } });
      expect(await python('reader', 'PUT', `/config/${subject}`, {})).toMatchObject({ status: 403 });
      expect(await go('HN-CUCTHUE', 'DELETE', `/config/${subject}`)).toMatchObject({
        status: 200,
        body: { compatibilityLevel: 'FULL_TRANSITIVE' },
      });
    });
  });

  it('serves the routes the clients and the CLI probe: root, metadata, contexts, modes, schemas, global config', async () => {
    expect(await go('reader', 'GET', '/')).toMatchObject({ status: 200, body: {} });
    expect(await go('reader', 'POST', '/', { probe: 'x' })).toMatchObject({ status: 200, body: {} });
    const metadata = await go('reader', 'GET', '/v1/metadata/id');
    expect(metadata).toMatchObject({
      status: 200,
      body: {
        id: '',
        scope: {
          path: [],
          clusters: {
            'kafka-cluster': expect.stringMatching(/.+/),
            'schema-registry-cluster': harness.topic,
          },
        },
      },
    });
    expect(await go('reader', 'GET', '/schemas/types')).toMatchObject({ body: ['AVRO'] });
    expect(await go('reader', 'GET', '/nowhere')).toMatchObject({ status: 404, json: { error_code: 404 } });

    const subject = uniqueName('schemas-value');
    const { id } = (
      await go('HN-CUCTHUE', 'POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(taxpayer()) })
    ).json;
    expect(await go('reader', 'GET', `/schemas?subjectPrefix=${subject}&latestOnly=true`)).toMatchObject({
      status: 200,
      body: [{ subject, version: 1, id, schema: expect.any(String) }],
    });
    const raw = await go('reader', 'GET', `/schemas/ids/${id as number}/schema`);
    expect(raw).toMatchObject({ status: 200, body: taxpayer() });
    expect(await go('reader', 'GET', `/subjects/${subject}/versions/1/schema`)).toMatchObject({
      body: taxpayer(),
    });
    expect(await go('reader', 'GET', `/schemas/ids/${id as number}?fetchMaxId=true`)).toMatchObject({
      json: { maxId: expect.any(Number) },
    });

    expect(await go('reader', 'GET', `/mode/${subject}`)).toMatchObject({
      status: 404,
      json: { error_code: 40409 },
    });
    expect(await go('reader', 'GET', `/mode/${subject}?defaultToGlobal=true`)).toMatchObject({
      body: { mode: 'READWRITE' },
    });
    expect(
      await python('HN-CUCTHUE', 'PUT', `/mode/${subject}?force=False`, { mode: 'READWRITE' }),
    ).toMatchObject({
      status: 200,
      body: { mode: 'READWRITE' },
    });
    expect(
      await python('HN-CUCTHUE', 'PUT', `/mode/${subject}?force=False`, { mode: 'READONLY' }),
    ).toMatchObject({
      status: 422,
      json: { error_code: 42205 },
    });
    expect(await python('operator', 'PUT', '/mode?force=False', { mode: 'SOMETIMES' })).toMatchObject({
      status: 422,
      json: { error_code: 42204 },
    });

    // The registry-wide level: only an operator changes or removes it.
    expect(await go('HN-CUCTHUE', 'DELETE', '/config')).toMatchObject({
      status: 403,
      json: { error_code: 40301 },
    });
    expect(await go('operator', 'PUT', '/config', { compatibility: 'FULL' })).toMatchObject({ status: 200 });
    expect(await go('operator', 'DELETE', '/config')).toMatchObject({
      status: 200,
      body: { compatibilityLevel: 'FULL' },
    });
    expect(await go('reader', 'GET', '/config')).toMatchObject({ body: { compatibilityLevel: 'BACKWARD' } });
  });

  it('documents every route with its error answers in the OpenAPI description', async () => {
    const openapi = (await (await fetch(`${registry.url()}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        path,
        method,
        statuses: Object.keys(operation.responses),
      })),
    );
    // The operations endpoints answer without a credential, and their documents say so.
    const OPERATIONS = new Set(['/healthz', '/readyz', '/metrics']);
    const api = operations.filter(({ path }) => !OPERATIONS.has(path));
    expect(api.length).toBeGreaterThanOrEqual(30);
    for (const { path, method, statuses } of api) {
      expect({ path, method, statuses }).toEqual({
        path,
        method,
        statuses: expect.arrayContaining(['200', '401', '500', '503']),
      });
    }
    expect(operations.filter(({ path }) => OPERATIONS.has(path))).toHaveLength(3);
    expect(openapi.paths['/subjects/{subject}/versions']?.post?.responses).toHaveProperty('409');
    expect(openapi.paths['/compatibility/subjects/{subject}/versions']).toHaveProperty('post');
  });
});
