import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type MongoClient } from 'mongodb';
import { SERVICE_PRINCIPALS } from '../../deploy/local/topics';
import { lookupGrants } from '../../services/platform/acl-policy';
import { withAdmin } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/logger';
import { ensurePolicyTopics } from '../../services/platform/topic-policy';
import { auditTopicDeclaration } from '../../services/lookup/audit-relay';
import { LINEAGE_GROUP_PREFIX } from '../../services/lookup/event-fetcher';
import { createMongoClient } from '../../services/platform/mongo';
import { keyIdOf } from '../../services/lookup/audit-chain';
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
import { registryClient } from './connector';
import { endpoint } from './fixtures';
import { grantAcls, testConnection, testKafka } from './kafka';
import { sharingHarness } from './sharing';

/** An answer of the lookup API, read whole. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  json(): Record<string, any>;
}

export const TOKEN_ISSUER = 'lienthong-test';
export const TOKEN_AUDIENCE = 'lienthong-lookup';

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

    async tearDown(): Promise<void> {
      await harness.stopLookup();
      await sharing.tearDown();
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
