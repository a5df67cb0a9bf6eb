/**
 * Confluent's official clients in two other languages, Python (`confluent-kafka`) and Go
 * (`confluent-kafka-go/v2`), with their default settings, against lienthong's real registry,
 * broker and sharing service. Each runs as a child process (test/interop/*-client/) that prints
 * one JSON line per client call; this file asserts on them.
 *
 * For each client:
 * 1. every registry call the client makes for Avro, on a subject of this run's own;
 * 2. tax events produced with the client's own AvroSerializer, in each of its modes, which the
 *    sharing service must apply to the `enterprises` view;
 * 3. a connector's events read with the client's AvroDeserializer.
 * Across the two: a schema Python registered is found by Go with its keys in another order.
 */
import { join } from 'node:path';
import { type Kafka } from 'kafkajs';
import { generateRecords } from '../../connectors/demo/generator';
import { taxConnector } from '../../connectors/tax/index';
import { payloadOf } from '../../schemas/envelope';
import { type LienthongEvent } from '../../schemas/generated/events';
import { TOPICS } from '../../schemas/topics';
import { createLogger } from '../../services/platform/logger';
import { connectorHarness, registryClient, registryKey, send } from '../support/connector';
import { endpoint, scratchDir, uniqueName } from '../support/fixtures';
import { readMessages, testConnection, testKafka } from '../support/kafka';
import { REGISTRY_ERRORS } from '../../services/registry/registry-errors';
import { createEventDecoder } from '../../services/sharing/event-decoder';
import { sharingHarness, traceparentFor } from '../support/sharing';
import { type DriverStep, ensureInteropClients, type InteropClients, runDriver } from './clients';
import {
  type InteropPlan,
  keyOrderCase,
  probeSchemas,
  producedEvents,
  SERIALIZER_MODES,
  taxCodeFrom,
  taxContract,
} from './plan';

/** The tax department registers and produces: its own topic, its own subjects. */
const AGENCY = TOPICS.tax.owner;
/** Each driver's whole run, registry calls to the last consumed message. */
const DRIVER_BUDGET_S = 90;
const CONNECTOR_RECORDS = 3;

const sharing = sharingHarness();
const connector = connectorHarness(taxConnector);
const scratch = scratchDir('interop');
/** This run's own Avro namespace: no other run's subject shares its schemas' ids. */
const NAMESPACE = `vn.hanoi.lienthong.interop.${uniqueName('run').replace('-', '_')}`;
const keyOrder = keyOrderCase(uniqueName('interop-key-order'), NAMESPACE);
/** Every subject this file's drivers register under, for the clean-up of a run cut short. */
const registered = new Set([keyOrder.subject]);
let clients: InteropClients;
let kafka: Kafka;
/** The connector's events as lienthong's own decoder reads them, by `partition/offset`. */
const connectorEvents = new Map<string, LienthongEvent>();

beforeAll(async () => {
  // A no-op once cached; on a fresh machine this downloads and builds (3 min 20 s here).
  clients = await ensureInteropClients((line) => process.stderr.write(`[interop] ${line}\n`));
  await sharing.setUp();
  await sharing.start();
  await connector.start();
  const answer = await send(connector.url(), '/v1/records', {
    apiKey: connector.apiKey,
    contentType: 'application/json',
    body: JSON.stringify(generateRecords('tax', CONNECTOR_RECORDS, 12)),
  });
  expect(answer.status).toBe(200);
  kafka = testKafka('it-interop-read', { logger: createLogger({ name: 'it', level: 'silent' }) });
  // The sharing service's own decoder: a decimal reads as its decimal string.
  const decoder = createEventDecoder({ registry: registryClient() });
  for (const m of await readMessages(kafka, connector.topic, CONNECTOR_RECORDS)) {
    connectorEvents.set(`${m.partition}/${m.offset}`, await decoder.decode('tax', m.rawValue));
  }
}, 600_000);

afterAll(async () => {
  // What the drivers did not delete themselves (the serializers' subject, a run cut short):
  // soft, then hard delete; a subject already gone answers 404, which is fine.
  registered.add(`${sharing.topics.tax}-value`);
  for (const subject of registered) {
    for (const permanent of [false, true]) {
      await registryRequest('DELETE', `/subjects/${subject}?permanent=${permanent}`);
    }
  }
  await connector.dispose();
  await sharing.tearDown();
  scratch.remove();
});

/** A raw registry request with the agency's credential, for what the test checks beside a client. */
async function registryRequest(method: string, path: string): Promise<{ status: number; body: unknown }> {
  const credential = Buffer.from(`${AGENCY}:${registryKey(AGENCY)}`).toString('base64');
  const response = await fetch(`${endpoint('SCHEMA_REGISTRY_URL')}${path}`, {
    method,
    headers: { authorization: `Basic ${credential}` },
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/**
 * The operator's SASL_SSL settings in librdkafka's words: the drivers stand for any client of the
 * bus, and read and write scratch topics of this file's own.
 */
function librdkafkaSecurity(): Record<string, string> {
  const { security } = testConnection();
  if (security.protocol === 'PLAINTEXT') return {};
  return {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanisms': security.mechanism,
    'sasl.username': security.username,
    'sasl.password': security.password,
    ...(process.env.KAFKA_SSL_CA_FILE ? { 'ssl.ca.location': process.env.KAFKA_SSL_CA_FILE } : {}),
  };
}

function planFor(language: string, taxCode: string): InteropPlan {
  const subject = `${uniqueName(`interop-${language}`)}-value`;
  registered.add(subject);
  return {
    registry: { url: endpoint('SCHEMA_REGISTRY_URL'), user: AGENCY, key: registryKey(AGENCY) },
    bootstrapServers: endpoint('KAFKA_BROKERS'),
    kafkaConfig: librdkafkaSecurity(),
    registryCalls: {
      subject,
      // Were the ownership check gone, the probe would still be refused there: it is incompatible.
      foreignSubject: TOPICS['business-registration'].valueSubject,
      schemas: probeSchemas(`${NAMESPACE}.${language}`),
    },
    keyOrder,
    produce: { topic: sharing.topics.tax, schema: taxContract(), events: producedEvents(taxCode) },
    consume: { topic: connector.topic, group: uniqueName(`interop-${language}`), count: CONNECTOR_RECORDS },
  };
}

/** A step's result, failing with what the registry answered when the call did not succeed. */
function resultOf(steps: Map<string, DriverStep>, name: string): unknown {
  const step = steps.get(name);
  if (!step?.ok) {
    throw new Error(`${name} (${step?.call ?? 'never ran'}) failed: ${JSON.stringify(step ?? null)}`);
  }
  return step.result;
}

/**
 * The event as both drivers print it: the payload unwrapped from its union, timestamps in epoch
 * ms, and plain data rather than avsc's record instances.
 */
function comparable(event: LienthongEvent): unknown {
  return JSON.parse(JSON.stringify({ ...event, payload: payloadOf(event) }));
}

/**
 * The enterprise's view once its tax section comes from `eventId`, or as it stands after 30 s,
 * for the assertion to show what is missing.
 */
async function viewHolding(taxCode: string, eventId: string): Promise<unknown> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const doc = await sharing.view('enterprises', taxCode);
    const section = (doc?.tax as Record<string, { source?: { eventId?: string } }> | undefined)?.[taxCode];
    if (section?.source?.eventId === eventId || Date.now() > deadline) return doc;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const LANGUAGES = [
  { language: 'python', taxCode: taxCodeFrom(10_700_001), command: () => clients.python },
  { language: 'go', taxCode: taxCodeFrom(10_700_101), command: () => clients.go },
] as const;

/** The Python driver's steps, for the Go run to find the id Python registered. */
let pythonRun: Map<string, DriverStep> | undefined;
function pythonSteps(): Map<string, DriverStep> {
  if (!pythonRun) throw new Error('The Python driver did not run before the Go driver');
  return pythonRun;
}

// In this order: Go looks up the schema Python registered.
describe.each(LANGUAGES)(
  'Confluent’s $language client, default settings',
  ({ language, taxCode, command }) => {
    let plan: InteropPlan | undefined;
    let steps: Map<string, DriverStep>;
    const subject = (): string => plan?.registryCalls.subject ?? '';
    const result = (name: string): unknown => resultOf(steps, name);

    beforeAll(
      async () => {
        plan = planFor(language, taxCode);
        steps = await runDriver(
          command(),
          plan,
          join(scratch.path, `${language}-plan.json`),
          DRIVER_BUDGET_S,
        );
        if (language === 'python') pythonRun = steps;
      },
      (DRIVER_BUDGET_S + 30) * 1000,
    );

    describe('registry calls', () => {
      it('registers a schema, lists it and reads it back by id, version and latest', () => {
        const id = result('register');
        expect(id).toEqual(expect.any(Number));
        expect(result('get_subjects')).toContain(subject());
        expect(result('get_versions')).toEqual([1]);
        expect(JSON.parse(result('get_schema') as string)).toEqual(
          JSON.parse(plan?.registryCalls.schemas.v1 ?? ''),
        );
        expect(result('get_version')).toMatchObject({ id, version: 1, subject: subject() });
        expect(result('get_latest_version')).toMatchObject({ id, version: 1, subject: subject() });
        expect(result('get_schema_versions')).toEqual([{ subject: subject(), version: 1 }]);
      });

      it('looks the schema up under its subject', () => {
        const id = result('register');
        if (language === 'python') expect(result('lookup_schema')).toMatchObject({ id, version: 1 });
        else {
          expect(result('lookup_schema')).toBe(id);
          expect(result('lookup_version')).toBe(1);
        }
      });

      it('tests compatibility against the latest version, all versions and a given one', () => {
        expect(result('test_compatibility')).toBe(true);
        expect(result('test_compatibility_all')).toBe(true);
        expect(result('test_incompatible')).toBe(false);
      });

      it('evolves compatibly into version 2 and is refused an incompatible change with 409', () => {
        expect(result('register_evolved')).toEqual(expect.any(Number));
        expect(result('register_evolved')).not.toBe(result('register'));
        expect(result('get_versions_evolved')).toEqual([1, 2]);
        expect(steps.get('register_incompatible')).toMatchObject({
          ok: false,
          error_code: REGISTRY_ERRORS.INCOMPATIBLE_SCHEMA.errorCode,
          ...(language === 'python' ? { status: 409 } : {}),
        });
      });

      it('sets and reads the subject’s compatibility, and reads the registry-wide level', async () => {
        // Python's client hands back the body of the PUT, Go's the level it names.
        expect(result('set_compatibility')).toEqual(
          language === 'python' ? { compatibility: 'FORWARD' } : 'FORWARD',
        );
        expect(result('get_compatibility')).toBe('FORWARD');
        const global = await registryRequest('GET', '/config');
        expect(global.body).toMatchObject({ compatibilityLevel: result('get_compatibility_global') });
      });

      it('reads and changes the subject’s config, and reads the registry’s config, modes and contexts', async () => {
        expect(result('get_config')).toEqual({ compatibilityLevel: 'FORWARD' });
        expect(result('set_config')).toEqual({ compatibility: 'FULL' });
        expect(result('get_config_after_set')).toEqual({ compatibilityLevel: 'FULL' });
        const global = await registryRequest('GET', '/config');
        expect(result('get_config_global')).toEqual(global.body);
        expect(result('get_contexts')).toEqual(['.']);
        // No version carries metadata here, so none matches: Confluent's answer, 40403.
        expect(steps.get('get_latest_with_metadata')).toMatchObject({ ok: false, error_code: 40403 });
        if (language === 'python') {
          expect(result('delete_config')).toEqual({ compatibilityLevel: 'FULL' });
          expect(steps.get('get_compatibility_after_delete')).toMatchObject({
            ok: false,
            status: 404,
            error_code: 40408,
          });
          expect(result('get_schema_types')).toContain('AVRO');
          expect(result('get_subjects_by_schema_id')).toEqual([subject()]);
          expect(result('get_referenced_by')).toEqual([]);
          expect(steps.get('get_mode')).toMatchObject({ ok: false, status: 404, error_code: 40409 });
          expect(result('get_global_mode')).toBe('READWRITE');
        }
      });

      it('soft-deletes a version, then the subject, which then reads as not found (40401)', () => {
        expect(result('delete_version')).toBe(2);
        expect(result('get_versions_after_delete')).toEqual([1]);
        expect(result('get_version_deleted')).toMatchObject({ version: 2, id: result('register_evolved') });
        if (language === 'python') expect(result('get_versions_deleted')).toEqual([1, 2]);
        else expect(result('lookup_version_deleted')).toBe(2);
        expect(result('delete_subject')).toEqual([1]);
        expect(result('get_subjects_after_delete')).not.toContain(subject());
        if (language === 'python') expect(result('get_subjects_deleted')).toContain(subject());
        expect(steps.get('get_latest_after_delete')).toMatchObject({ ok: false, error_code: 40401 });
      });

      it('hard-deletes the soft-deleted version, then the soft-deleted subject, which then is gone', () => {
        expect(result('delete_version_permanent')).toBe(2);
        // Python asks with deleted=true, so a version only soft-deleted would still be listed.
        expect(result('get_versions_after_permanent')).toEqual([1]);
        expect(result('delete_subject_permanent')).toEqual([1]);
        expect(result('get_subjects_after_permanent')).not.toContain(subject());
      });
    });

    it('is refused a read without a credential (401) and a write to another agency’s subject (403)', () => {
      expect(steps.get('get_subjects_anonymous')).toMatchObject({
        ok: false,
        error_code: 40101,
        ...(language === 'python' ? { status: 401 } : {}),
      });
      expect(steps.get('register_foreign')).toMatchObject({
        ok: false,
        error_code: 40301,
        ...(language === 'python' ? { status: 403 } : {}),
      });
    });

    if (language === 'go') {
      it('finds the id Python registered when the keys come in another order, with no new version', () => {
        const registered = resultOf(pythonSteps(), 'key_order_register');
        expect(registered).toEqual(expect.any(Number));
        expect(result('key_order_lookup')).toBe(registered);
        expect(result('key_order_register')).toBe(registered);
        expect(result('key_order_serializer')).toBe(registered);
        expect(result('key_order_versions')).toEqual([1]);
      });
    }

    it('produces with its AvroSerializer in each mode, and the sharing service applies the events', async () => {
      const events = plan?.produce.events ?? [];
      // Python registers the .avsc as written: the schema the contract tool registered under
      // `tax-value`, so the same id. Go's serializer registers hamba/avro's printing, without the
      // docs: another schema (see README), whose id is any.
      const contract = await registryRequest('GET', `/subjects/${TOPICS.tax.valueSubject}/versions/latest`);
      const contractId = (contract.body as { id: number }).id;
      SERIALIZER_MODES.forEach((mode, i) => {
        expect(result(`produce_${i}`)).toMatchObject({
          mode,
          schemaId: language === 'python' ? contractId : expect.any(Number),
        });
      });
      const last = events[events.length - 1]?.event;
      expect(await viewHolding(taxCode, last?.eventId ?? '')).toMatchObject({
        tax: {
          [taxCode]: {
            taxCode,
            kind: 'ENTERPRISE',
            status: 'ACTIVE',
            debt: '3750000',
            // The client's Kafka headers carried the trace context through.
            source: {
              eventId: last?.eventId,
              topic: sharing.topics.tax,
              traceId: traceparentFor(last?.eventId ?? '').slice(3, 35),
            },
          },
        },
      });
      expect(sharing.service().stats().deadLettered).toBe(0);
    });

    it('reads the connector’s events with its AvroDeserializer, field for field', () => {
      const consumed = result('consume') as { partition: number; offset: number; value: unknown }[];
      expect(consumed).toHaveLength(CONNECTOR_RECORDS);
      for (const message of consumed) {
        const expected = connectorEvents.get(`${message.partition}/${message.offset}`);
        expect(expected).toBeDefined();
        expect(message.value).toEqual(comparable(expected as LienthongEvent));
      }
    });
  },
);
