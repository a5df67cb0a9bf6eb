import { type Db, MongoServerError } from 'mongodb';
import { sha256Hex } from './audit-chain';
import { type FieldPolicies, fieldPolicies } from './field-policy';

/** Every field policy file the lookup service has served, by the digest audit records name. */
export const POLICY_VERSIONS = 'policy_versions';

interface PolicyVersionDoc {
  /** The SHA-256 of the file's bytes, hex: `policyVersion` in the audit records. */
  _id: string;
  /** The file's text, as it was read. */
  text: string;
  /** When a service first served it. */
  firstServedAt: Date;
}

const DUPLICATE_KEY = 11000;

/**
 * Keeps the policy file a service is about to serve, under its digest, so that an answer cut by
 * it can be cut again after the file changed. Called at every start; a version kept already is
 * left as it is.
 */
export async function keepPolicyVersion(db: Db, policies: FieldPolicies, at: Date): Promise<void> {
  try {
    await db
      .collection<PolicyVersionDoc>(POLICY_VERSIONS)
      .insertOne({ _id: policies.version, text: policies.text, firstServedAt: at });
  } catch (err) {
    if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
  }
}

/** Why a policy version cannot be used again: not kept, its text edited, or no longer loading. */
export const POLICY_VERSION_MISSES = {
  POLICY_VERSION_UNKNOWN: 'POLICY_VERSION_UNKNOWN',
  POLICY_VERSION_ALTERED: 'POLICY_VERSION_ALTERED',
  POLICY_VERSION_UNREADABLE: 'POLICY_VERSION_UNREADABLE',
} as const;
export type PolicyVersionMiss = {
  code: (typeof POLICY_VERSION_MISSES)[keyof typeof POLICY_VERSION_MISSES];
  reason: string;
};

/**
 * The policies of version `version`: `current` itself when it is that version, else the text kept
 * under that digest, checked against it (a text edited in the store no longer hashes to its key).
 */
export async function policyVersion(
  db: Db,
  version: string,
  current: FieldPolicies,
): Promise<FieldPolicies | PolicyVersionMiss> {
  if (version === current.version) return current;
  const kept = await db.collection<PolicyVersionDoc>(POLICY_VERSIONS).findOne({ _id: version });
  if (!kept) {
    return {
      code: POLICY_VERSION_MISSES.POLICY_VERSION_UNKNOWN,
      reason: `No policy file with digest ${version} was kept by a lookup service`,
    };
  }
  if (sha256Hex(kept.text) !== version) {
    return {
      code: POLICY_VERSION_MISSES.POLICY_VERSION_ALTERED,
      reason: `The policy file kept under digest ${version} no longer has that digest`,
    };
  }
  try {
    return fieldPolicies(JSON.parse(kept.text), `policy version ${version.slice(0, 12)}`, version, kept.text);
  } catch (err) {
    return {
      code: POLICY_VERSION_MISSES.POLICY_VERSION_UNREADABLE,
      reason: `The policy file kept under digest ${version} no longer loads: ${(err as Error).message}`,
    };
  }
}
