import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { businessRegistrationConnector } from '../../connectors/business-registration';
import { dossierConnector } from '../../connectors/dossier';
import { type AgencyDefinition } from '../../connectors/runtime/agency';
import { buildConnectorApp, type ConnectorAppOptions } from '../../connectors/runtime/app';
import { taxConnector } from '../../connectors/tax';
import { vehicleConnector } from '../../connectors/vehicle';
import { buildConsoleApp } from '../../services/console/app';
import { buildLookupApp, type LookupAppOptions } from '../../services/lookup/app';
import { systemClock } from '../../services/platform/clock';
import { createKafka } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import { buildRegistryApp, type RegistryAppOptions } from '../../services/registry/app';
import { createEventDecoder } from '../../services/sharing/event-decoder';
import { createSharingService } from '../../services/sharing/sharing-service';
import { createSubscriptionsService } from '../../services/subscriptions/subscriptions-service';

/** Every HTTP service's OpenAPI document, by service name. */
export type ServiceDocuments = Record<string, Record<string, unknown>>;

/**
 * Builds every HTTP service in process and asks each for `GET /openapi.json`. Nothing connects:
 * the clients given are never used to describe a service, and nothing listens.
 */
export async function serviceDocuments(): Promise<ServiceDocuments> {
  const logger = createLogger({ name: 'openapi-documents', level: 'silent' });
  // Clients that would connect on first use, which describing a service never makes.
  const kafka = createKafka({
    brokers: ['127.0.0.1:9'],
    clientId: 'openapi-documents',
    logger,
    // Never connected: the documents are built without a broker.
    security: { protocol: 'PLAINTEXT' },
  });
  const mongo = new MongoClient('mongodb://127.0.0.1:9/');
  const registry = new SchemaRegistry({ host: 'http://127.0.0.1:9' });
  // `hooks` are the registrations a service makes while it is built (no-ops here); any other use throws.
  const unused = <T>(what: string, hooks: Record<string, () => void> = {}): T =>
    new Proxy(hooks, {
      get: (target, key) => {
        if (typeof key === 'string' && key in target) return target[key];
        throw new Error(`${what} is not used to describe a service`);
      },
    }) as T;

  const apps: Record<string, FastifyInstance> = {
    registry: await buildRegistryApp({
      service: unused<RegistryAppOptions['service']>('the registry service'),
      authenticate: () => undefined,
      logger,
      bodyLimit: 1_024,
      ready: () => true,
    }),
    lookup: await buildLookupApp({
      logger,
      db: mongo.db('openapi-documents'),
      trail: unused<LookupAppOptions['trail']>('the audit trail', { onStored: () => undefined }),
      policies: unused<LookupAppOptions['policies']>('the field policies', { all: () => [] }),
      verifyToken: () => ({ ok: false, refusal: 'TOKEN_MISSING' }),
      kafka,
      decoder: createEventDecoder({ registry }),
      limits: { perClientPerMinute: 600, perPrincipalPerMinute: 60, perAgencyPerMinute: 600, pageMax: 100 },
      ready: () => true,
    }),
    sharing: createSharingService({
      kafka,
      mongo,
      dbName: 'openapi-documents',
      registry,
      logger,
      groupId: 'openapi-documents',
      batchSize: 1,
      concurrency: 1,
      host: '127.0.0.1',
      port: 0,
    }).app,
    subscriptions: createSubscriptionsService({
      kafka,
      registry,
      logger,
      agreements: [],
      host: '127.0.0.1',
      port: 0,
    }).app,
  };
  const connectors: AgencyDefinition[] = [
    dossierConnector,
    taxConnector,
    businessRegistrationConnector,
    vehicleConnector,
  ] as AgencyDefinition[];
  for (const definition of connectors) {
    apps[`connector-${definition.name}`] = await buildConnectorApp({
      definition,
      ingest: unused<ConnectorAppOptions['ingest']>('ingest'),
      imports: unused<ConnectorAppOptions['imports']>('imports'),
      quarantine: unused<ConnectorAppOptions['quarantine']>('quarantine'),
      authenticate: () => undefined,
      logger,
      limits: { bodyLimit: 1_024, maxRecords: 100, importLimit: 1_024 },
      clock: systemClock,
      ready: () => true,
    });
  }

  // The console with a placeholder page and its development sign-in, so that every route is described.
  const page = mkdtempSync(join(tmpdir(), 'lienthong-openapi-console-'));
  writeFileSync(join(page, 'index.html'), '<!doctype html>');
  apps.console = await buildConsoleApp({
    logger,
    assetsDir: page,
    upstreams: {
      lookup: 'http://127.0.0.1:9',
      registry: 'http://127.0.0.1:9',
      sharing: 'http://127.0.0.1:9',
      connectors: {},
    },
    devSignIn: {
      signingKey: generateKeyPairSync('ed25519').privateKey,
      issuer: 'openapi-documents',
      audience: 'openapi-documents',
      ttlSeconds: 60,
      demo: [],
    },
  });
  rmSync(page, { recursive: true, force: true });

  const documents: ServiceDocuments = {};
  try {
    for (const [name, app] of Object.entries(apps)) {
      const answer = await app.inject({ method: 'GET', url: '/openapi.json' });
      if (answer.statusCode !== 200)
        throw new Error(`${name}: GET /openapi.json answered ${answer.statusCode}`);
      documents[name] = answer.json();
    }
  } finally {
    await Promise.all(Object.values(apps).map((app) => app.close()));
  }
  return documents;
}
