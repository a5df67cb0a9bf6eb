import { type Clock } from '../../services/platform/clock';
import { type ChildProcess, spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type MongoClient } from 'mongodb';
import { SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { lookupGrants } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { auditTopicDeclaration } from '../../services/lookup/audit-relay';
import { LINEAGE_GROUP_PREFIX } from '../../services/lookup/event-fetcher';
import { createMongoClient } from '../../services/platform/mongo';
import { type AuditEntry, keyIdOf } from '../../services/lookup/audit-chain';
import { DEFAULT_POLICY_FILE } from '../../services/lookup/config';
import { type FieldPolicies, loadFieldPolicies } from '../../services/lookup/field-policy';
import { type LookupLimits } from '../../services/lookup/app';
import { createLookupService, type LookupService } from '../../services/lookup/lookup-service';
import {
  busIssuer,
  createTokenVerifier,
  type LookupRole,
  mintToken,
  type TokenIssuer,
} from '../../services/lookup/tokens';
import { registryClient, registryKey } from './connector';
import { endpoint, freePort, scratchDir, stopped } from './fixtures';
import { grantAcls, kafkaEnvOf, testConnection, testKafka } from './kafka';
import { sharingHarness } from './sharing';

/** An answer of the lookup API, read whole. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  json(): Record<string, any>;
}

const ROOT = resolve(__dirname, '..', '..');

export const TOKEN_ISSUER = 'lienthong-test';
export const TOKEN_AUDIENCE = 'lienthong-lookup';

/** A refused request's audit entry, by an officer `actorId` of `agency`: what the trail's own tests append. */
export function refusalEntry(actorId: string, agency = 'HN-CONGAN'): AuditEntry {
  return {
    action: 'GET /v1/citizens/:id',
    actor: { id: actorId, agency, role: 'officer' },
    subject: null,
    dossierId: null,
    procedureCode: null,
    fields: [],
    sources: [],
    result: 'denied',
    reason: 'FORBIDDEN',
    status: 403,
    traceId: null,
    masks: [],
    policyVersion: 'f'.repeat(64),
  };
}

/** A test's own Ed25519 key pair. */
export function testKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export interface LookupHarnessOptions {
  /** The store client the lookup service uses, for command monitoring or a store of its own. */
  mongo?: () => MongoClient;
  limits?: Partial<LookupLimits>;
  auditWriteTimeoutMs?: number;
  /** Copy the audit trail to a Kafka topic of this test's own. */
  auditTopic?: boolean;
  /** Issuers trusted beside the test's own key, such as a local OpenID Connect issuer. */
  tokenIssuers?: () => TokenIssuer[];
  /** The lookup service's clock (its audit records' times, the minutes refusals are counted in). */
  clock?: Clock;
}

/**
 * The sharing service and the lookup service of one test file, on their own topics and database:
 * publish events, wait until they are in the views, then ask the lookup API through `app.inject`.
 */
export function lookupHarness(options: LookupHarnessOptions = {}) {
  const sharing = sharingHarness({ partitions: 2 });
  const tokenKeys = testKeys();
  const sealKey = testKeys();
  const logger = createLogger({ name: 'it-lookup', level: process.env.LOG_LEVEL ?? 'silent' });
  let lookup: LookupService | undefined;
  const children = new Set<ChildProcess>();
  const scratch = scratchDir('it-lookup');
  const kafka = testKafka('it-lookup', { principal: SERVICE_PRINCIPALS.lookup, logger });

  const harness = {
    sharing,
    sealKey,
    /** The key the service trusts for tokens: a dev sign-in under test mints with it. */
    tokenSigningKey: tokenKeys.privateKey,
    /** Earlier seal keys the service trusts at its next start, besides `sealKey`. */
    trustedSealKeys: [] as KeyObject[],
    auditTopic: `${sharing.topicPrefix}lookup.audit`,

    async setUp(): Promise<void> {
      await sharing.setUp();
      if (options.auditTopic)
        await withAdmin(testConnection(), 'it-topics', (admin) =>
          ensurePolicyTopics(admin, [auditTopicDeclaration(harness.auditTopic)]),
        );
      await grantAcls(
        lookupGrants(SERVICE_PRINCIPALS.lookup, {
          domainTopics: Object.values(sharing.topics),
          auditTopic: harness.auditTopic,
          lineageGroupPrefix: LINEAGE_GROUP_PREFIX,
        }),
      );
      await sharing.start();
      await harness.startLookup();
    },

    /** Starts the lookup service, on `policies` instead of the committed policy file when given. */
    async startLookup(mongo?: MongoClient, policies?: FieldPolicies): Promise<LookupService> {
      lookup = createLookupService({
        kafka,
        mongo:
          mongo ??
          options.mongo?.() ??
          createMongoClient({
            uri: endpoint('MONGODB_URI'),
            appName: 'it-lookup',
            logger,
            serverSelectionTimeoutMS: 2_000,
          }),
        dbName: sharing.dbName,
        registry: registryClient(),
        logger,
        ...(options.clock ? { clock: options.clock } : {}),
        policies: policies ?? loadFieldPolicies(DEFAULT_POLICY_FILE),
        verifyToken: createTokenVerifier({
          issuers: [
            busIssuer({
              keys: new Map([[keyIdOf(tokenKeys.publicKey), tokenKeys.publicKey]]),
              issuer: TOKEN_ISSUER,
              audience: TOKEN_AUDIENCE,
            }),
            ...(options.tokenIssuers?.() ?? []),
          ],
        }),
        sealKey: harness.sealKey,
        trustedSealKeys: harness.trustedSealKeys,
        sealEveryMs: 60_000,
        auditWriteTimeoutMs: options.auditWriteTimeoutMs ?? 2_000,
        auditTopic: options.auditTopic ? harness.auditTopic : null,
        limits: {
          perClientPerMinute: options.limits?.perClientPerMinute ?? 1_000_000,
          perPrincipalPerMinute: options.limits?.perPrincipalPerMinute ?? 100_000,
          perAgencyPerMinute: options.limits?.perAgencyPerMinute ?? 1_000_000,
          pageMax: options.limits?.pageMax ?? 200,
        },
        host: '127.0.0.1',
        port: 0,
      });
      await lookup.start();
      return lookup;
    },

    async stopLookup(): Promise<void> {
      await lookup?.stop();
      lookup = undefined;
    },

    lookup(): LookupService {
      if (!lookup) throw new Error('The lookup service is not started');
      return lookup;
    },

    /**
     * Runs `services/lookup/main.ts` as a process of its own, on this harness's database, audit
     * topic and keys, so that a test can run several instances and kill one; resolves once it is
     * ready. It logs at `LOG_LEVEL` (warn by default) to the test's output.
     */
    async spawnLookup(env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
      const keysFile = join(scratch.path, 'token-public-keys.json');
      const sealFile = join(scratch.path, 'audit-seal-key.pem');
      const publicKey = tokenKeys.publicKey.export({ type: 'spki', format: 'pem' });
      writeFileSync(keysFile, JSON.stringify({ keys: [{ kid: keyIdOf(tokenKeys.publicKey), publicKey }] }));
      writeFileSync(sealFile, sealKey.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const port = await freePort();
      // tsx as a loader in the same process: its CLI would run the service in a child that a kill misses.
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'services', 'lookup', 'main.ts')],
        {
          env: {
            ...process.env,
            ...kafkaEnvOf(SERVICE_PRINCIPALS.lookup),
            MONGODB_DB: sharing.dbName,
            SCHEMA_REGISTRY_CLIENT_ID: 'lienthong-reader',
            SCHEMA_REGISTRY_KEY: registryKey('lienthong-reader'),
            LOOKUP_JWT_KEYS_FILE: keysFile,
            LOOKUP_JWT_ISSUER: TOKEN_ISSUER,
            LOOKUP_JWT_AUDIENCE: TOKEN_AUDIENCE,
            LOOKUP_AUDIT_SEAL_KEY_FILE: sealFile,
            LOOKUP_AUDIT_TOPIC: harness.auditTopic,
            HOST: '127.0.0.1',
            PORT: String(port),
            LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
            ...env,
          },
          cwd: ROOT,
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      );
      children.add(child);
      child.once('exit', () => children.delete(child));
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `The lookup process ended before it was ready (${child.exitCode ?? child.signalCode})`,
          );
        const ready = await fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) return { child, url };
        if (Date.now() > deadline) throw new Error('The lookup process was not ready within 120 s');
        await new Promise((r) => setTimeout(r, 250));
      }
    },

    async tearDown(): Promise<void> {
      await Promise.all([...children].map((child) => stopped(child)));
      await harness.stopLookup();
      await sharing.tearDown();
      scratch.remove();
    },

    /**
     * A token of the test's issuer, signed by the key the service trusts; `ttlSeconds` may be
     * negative for an expired one, and `issuedAt` (epoch ms) puts its `iat` elsewhere than now.
     */
    token(role: LookupRole, sub: string, agency?: string, ttlSeconds = 600, issuedAt?: number): string {
      const now = issuedAt ?? (ttlSeconds > 0 ? undefined : Date.now() + (ttlSeconds - 60) * 1_000);
      return mintToken(
        tokenKeys.privateKey,
        { sub, role, ...(agency ? { agency } : {}) },
        {
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          ttlSeconds: Math.max(1, ttlSeconds),
          ...(now === undefined ? {} : { now }),
        },
      );
    },

    /** A token signed by a key the service does not trust. */
    forgedToken(role: LookupRole, sub: string, agency?: string): string {
      return mintToken(
        testKeys().privateKey,
        { sub, role, ...(agency ? { agency } : {}) },
        { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, ttlSeconds: 600 },
      );
    },

    /** An officer's token for a dossier's handling agency. */
    officer(agency: string, id = `CB-${agency.replace(/^HN-/, '')}-01`): string {
      return harness.token('officer', id, agency);
    },

    /** A GET over a real socket, as an officer's desk application would send it. */
    async get(
      url: string,
      request: { token?: string; dossier?: string; headers?: Record<string, string> } = {},
    ): Promise<Answer> {
      const headers: Record<string, string> = { ...request.headers };
      if (request.token) headers.authorization = `Bearer ${request.token}`;
      if (request.dossier) headers['x-dossier-id'] = request.dossier;
      const response = await fetch(`${harness.lookup().url()}${url}`, { headers });
      const text = await response.text();
      return {
        statusCode: response.status,
        headers: Object.fromEntries(response.headers),
        body: text,
        json: () => JSON.parse(text) as ReturnType<Answer['json']>,
      };
    },
  };
  return harness;
}
