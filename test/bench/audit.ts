/**
 * Audit benchmark: what a flood costs the audit trail, and what `verify` costs at size, on the
 * local store. It prints figures and asserts nothing. Run with `npm run bench:audit`
 * (`-- --records N`: the trail verified, 100,000 by default; `-- --flood N`: requests of the
 * flood, 3,000 by default).
 *
 * 1. Flood: N requests with a forged token from one client to `GET /v1/citizens/:id`, 16 at a time,
 *    through the lookup app on a scratch database: once with no per-client limit (each 401 is a
 *    record of its own, as before the limit existed), once with a limit of 600 a minute. Each run
 *    prints the records the flood wrote and its wall time.
 * 2. Verify: a scratch trail filled with N chained records and sealed, then a full walk, 100 more
 *    records appended through the trail, and an incremental walk from the seal the full one verified.
 */
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type Db, MongoClient } from 'mongodb';
import { LocalStack, stackConfig } from '../../deploy/local/stack';
import { buildLookupApp } from '../../services/lookup/app';
import {
  type AuditEntry,
  type AuditRecord,
  chain,
  GENESIS_HASH,
  keyIdOf,
} from '../../services/lookup/audit-chain';
import { AUDIT_RECORDS, createAuditTrail } from '../../services/lookup/audit-trail';
import { DEFAULT_POLICY_FILE } from '../../services/lookup/config';
import { loadFieldPolicies } from '../../services/lookup/field-policy';
import { busIssuer, createTokenVerifier, mintToken } from '../../services/lookup/tokens';
import { createLogger } from '../../services/platform/logger';
import { statementChunks } from '../../services/platform/mongo';
import { type EventDecoder } from '../../services/sharing/event-decoder';
import { type Kafka } from 'kafkajs';

const argument = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) || fallback : fallback;
};
const RECORDS = argument('--records', 100_000);
const FLOOD = argument('--flood', 3_000);
const FLOOD_LIMIT = 600;
const CONCURRENCY = 16;
const APPENDED = 100;

const logger = createLogger({ name: 'bench-audit', level: 'warn' });
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const keys = (): { privateKey: KeyObject; publicKey: KeyObject } => {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: createPublicKey(privateKey) };
};

/** A refused lookup, as most of a trail is. */
const ENTRY: AuditEntry = {
  action: 'GET /v1/citizens/:id',
  actor: { id: 'CB-PC08-01', agency: 'HN-PC08', role: 'officer' },
  subject: { view: 'citizens', id: '001099000001' },
  dossierId: 'HS-2026-000001',
  procedureCode: '1.000001',
  fields: [],
  masks: [],
  sources: [],
  result: 'denied',
  reason: 'DOSSIER_OTHER_AGENCY',
  status: 403,
  traceId: null,
  policyVersion: 'sha256:bench',
};

async function flood(db: Db, perClientPerMinute: number): Promise<{ records: number; ms: number }> {
  const trail = createAuditTrail({
    db,
    logger,
    sealKey: keys(),
    sealEveryMs: 3_600_000,
    writeTimeoutMs: 10_000,
  });
  await trail.open();
  const before = trail.head().seq;
  const tokenKey = keys();
  const app = await buildLookupApp({
    logger,
    db,
    trail,
    policies: loadFieldPolicies(DEFAULT_POLICY_FILE),
    verifyToken: createTokenVerifier({
      issuers: [
        busIssuer({
          keys: new Map([[keyIdOf(tokenKey.publicKey), tokenKey.publicKey]]),
          issuer: 'bench',
          audience: 'bench',
        }),
      ],
    }),
    // A forged token is refused before any view, lineage or Kafka read.
    kafka: {} as Kafka,
    decoder: {} as EventDecoder,
    limits: { perClientPerMinute, perPrincipalPerMinute: 1e9, perAgencyPerMinute: 1e9, pageMax: 200 },
    ready: () => true,
  });
  await app.ready();
  const forged = mintToken(
    keys().privateKey,
    { sub: 'CB-X', role: 'officer', agency: 'HN-PC08' },
    {
      issuer: 'bench',
      audience: 'bench',
      ttlSeconds: 600,
    },
  );
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < FLOOD) {
        sent += 1;
        await app.inject({
          method: 'GET',
          url: '/v1/citizens/001099000001',
          headers: { authorization: `Bearer ${forged}`, 'x-dossier-id': 'HS-2026-000001' },
        });
      }
    }),
  );
  const ms = performance.now() - started;
  // The aggregates of the minute are written at close, as at shutdown.
  await app.close();
  await trail.close();
  return { records: trail.head().seq - before, ms };
}

async function fill(db: Db, count: number): Promise<void> {
  const records = db.collection<AuditRecord>(AUDIT_RECORDS);
  let hash = GENESIS_HASH;
  const at = new Date();
  for (let seq = 1; seq <= count;) {
    const batch: AuditRecord[] = [];
    for (; batch.length < 1_000 && seq <= count; seq += 1) {
      const record = chain(ENTRY, seq, hash, at);
      hash = record.hash;
      batch.push(record);
    }
    for (const chunk of statementChunks(batch)) await records.insertMany(chunk, { ordered: true });
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const stack = new LocalStack(stackConfig(), log);
  await stack.up();
  const uri = stack.endpoints.MONGODB_URI;
  const client = new MongoClient(uri);
  await client.connect();
  const suffix = Math.random().toString(36).slice(2, 8);
  const dbs: Db[] = [];
  const scratch = (name: string): Db => {
    const db = client.db(`bench_audit_${name}_${suffix}`);
    dbs.push(db);
    return db;
  };
  try {
    log(`audit benchmark, ${cpus().length} cores, store ${uri}`);
    const open = await flood(scratch('flood_open'), 1e9);
    const limited = await flood(scratch('flood_limited'), FLOOD_LIMIT);
    log(`flood of ${FLOOD} forged-token requests from one client, ${CONCURRENCY} at a time:`);
    log(`  no per-client limit:        ${open.records} audit records, ${open.ms.toFixed(0)} ms`);
    log(
      `  limit ${FLOOD_LIMIT} a minute:        ${limited.records} audit records, ${limited.ms.toFixed(0)} ms`,
    );

    const db = scratch('verify');
    const filled = await timed(() => fill(db, RECORDS));
    // Reading the head of a large trail is slow on FerretDB (no sort pushdown): no timeout here.
    const trail = createAuditTrail({
      db,
      logger,
      sealKey: keys(),
      sealEveryMs: 3_600_000,
      writeTimeoutMs: 600_000,
    });
    const opened = await timed(() => trail.open());
    await trail.seal();
    log(
      `verify, a trail of ${RECORDS} records (filled in ${filled.ms.toFixed(0)} ms, head read at open in ${opened.ms.toFixed(0)} ms):`,
    );
    const full = await timed(() => trail.verify({ full: true }));
    log(`  full:        ${full.ms.toFixed(0)} ms, ${full.value.checked} records read, ok ${full.value.ok}`);
    await Promise.all(Array.from({ length: APPENDED }, () => trail.append(ENTRY)));
    const incremental = await timed(() => trail.verify());
    log(
      `  incremental: ${incremental.ms.toFixed(0)} ms, ${incremental.value.checked} records read from seal ${incremental.value.fromSeq}, ok ${incremental.value.ok}`,
    );
    await trail.close();
  } finally {
    for (const db of dbs) await db.dropDatabase();
    await client.close();
  }
}

main().catch((err: unknown) => {
  log(String(err instanceof Error ? (err.stack ?? err.message) : err));
  process.exitCode = 1;
});
