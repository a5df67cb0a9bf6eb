import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import { TOPIC_NAMES, TOPICS, type TopicName } from '../../schemas/topics';
import { canonicalJson } from '../lookup/audit-chain';
// The lookup's masks, so that an officer and an agency system see a field masked alike.
import { MASKS, type Mask } from '../lookup/field-policy';
import { deepFreeze, readJsonConfigFile } from '../platform/config';
import { ConfigError, type ConfigIssue } from '../platform/errors';
import { type Contracts, holdsOnlyStrings, isTimestamp, loadContracts } from './contracts';

/** The variable that names the agreements file, for the messages of a bad one. */
export const AGREEMENTS_VARIABLE = 'SUBSCRIPTIONS_AGREEMENTS_FILE';

const ID = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';
const AGENCY = '^HN-[A-Z0-9]+(-[A-Z0-9]+)*$';
// An instant with its offset, so that no reader guesses the zone: `2026-01-01T00:00:00+07:00`.
const INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2})$';

const FieldRules = Type.Record(Type.String(), Type.Union(MASKS.map((m) => Type.Literal(m))), {
  minProperties: 1,
});

export const AgreementEntry = Type.Object(
  {
    id: Type.String({ pattern: ID, maxLength: 60 }),
    /** The agency whose system receives the events. */
    consumer: Type.String({ pattern: AGENCY }),
    /** Why the consumer needs these fields: what a reviewer checks the grant against. */
    purpose: Type.String({ minLength: 10 }),
    /** The legal text that allows the flow. */
    legalBasis: Type.String({ minLength: 5 }),
    validFrom: Type.String({ pattern: INSTANT }),
    validUntil: Type.String({ pattern: INSTANT }),
    /** Where delivery starts in the domain topics (a backfill); `validFrom` when absent. */
    deliverFrom: Type.Optional(Type.String({ pattern: INSTANT })),
    /** Who approved it, and by which decision. */
    approvedBy: Type.String({ minLength: 3 }),
    sources: Type.Array(
      Type.Object(
        {
          topic: Type.Union(TOPIC_NAMES.map((t) => Type.Literal(t))),
          /** By event type, the payload fields delivered and the mask of each. */
          events: Type.Record(Type.String(), FieldRules, { minProperties: 1 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type AgreementEntry = Static<typeof AgreementEntry>;

export const AgreementFile = Type.Object(
  { $comment: Type.Optional(Type.String()), agreements: Type.Array(AgreementEntry) },
  { additionalProperties: false },
);

/** One sharing agreement, checked: times in epoch milliseconds. */
export interface Agreement {
  id: string;
  consumer: string;
  purpose: string;
  legalBasis: string;
  validFrom: number;
  validUntil: number;
  deliverFrom: number;
  approvedBy: string;
  sources: readonly {
    topic: TopicName;
    events: Readonly<Record<string, Readonly<Record<string, Mask>>>>;
  }[];
  /**
   * The SHA-256, hex, of the entry's canonical JSON: changes with any change of this agreement and
   * of no other, so that narrowing one agreement leaves the others' deliveries as they are.
   */
  version: string;
}

export interface Agreements {
  all(): readonly Agreement[];
  find(id: string): Agreement | undefined;
}

/** Whether `agreement` allows delivery at `now`: from `validFrom`, until (excluding) `validUntil`. */
export function inForce(agreement: Agreement, now: number): boolean {
  return now >= agreement.validFrom && now < agreement.validUntil;
}

/**
 * Reads and checks the agreements file. See {@link sharingAgreements}.
 *
 * @throws ConfigError naming the file and each problem
 */
export function loadAgreements(path: string, contracts: Contracts = loadContracts()): Agreements {
  return sharingAgreements(readJsonConfigFile(path, AGREEMENTS_VARIABLE), contracts, path);
}

/**
 * Checks parsed agreements against their JSON schema and against the topics' Avro contracts:
 * every event type and field an agreement names must exist there, `last4` masks strings only and
 * `year` timestamps only, the topic's key field must be shown clear (it keys the derived events,
 * which are ordered per entity), the consumer must be an agency with a system on the bus and not
 * the topic's own, validity must end after it starts, and ids are unique. Every problem is reported
 * at once, each with its JSON pointer, so that a reviewer fixes the file in one pass.
 *
 * @throws ConfigError listing every problem
 */
export function sharingAgreements(
  content: unknown,
  contracts: Contracts,
  source = 'the agreements file',
): Agreements {
  const issue = (message: string): ConfigIssue => ({
    variable: AGREEMENTS_VARIABLE,
    message: `${source}: ${message}`,
  });
  const issues: ConfigIssue[] = [];
  const validate = new Ajv({ allErrors: true, strict: false }).compile(AgreementFile);
  if (!validate(content)) {
    for (const e of validate.errors ?? []) {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      // A union of literals fails once per literal; the anyOf after them names them all.
      if (e.keyword === 'const') continue;
      const message =
        extra !== undefined
          ? `has an unknown property ${extra}`
          : e.keyword === 'anyOf'
            ? e.instancePath.endsWith('/topic')
              ? `must be one of ${TOPIC_NAMES.join(', ')}`
              : `must be one of ${MASKS.join(', ')}`
            : (e.message ?? 'is invalid');
      issues.push(issue(`${e.instancePath || '/'} ${message}`));
    }
  }
  const consumers = new Set(Object.values(TOPICS).map((t) => t.owner as string));
  const entries = (content as { agreements?: unknown } | null)?.agreements;
  const byId = new Map<string, Agreement>();
  (Array.isArray(entries) ? entries : []).forEach((raw: unknown, i: number) => {
    if (typeof raw !== 'object' || raw === null) return;
    const entry = raw as Partial<AgreementEntry>;
    const at = `/agreements/${i}`;
    if (typeof entry.id === 'string' && byId.has(entry.id))
      issues.push(issue(`${at}/id ${entry.id} is declared a second time`));
    if (typeof entry.consumer === 'string' && !consumers.has(entry.consumer))
      issues.push(
        issue(
          `${at}/consumer ${entry.consumer} has no system on the bus (one of ${[...consumers].join(', ')})`,
        ),
      );
    const from = instant(entry.validFrom);
    const until = instant(entry.validUntil);
    if (from !== undefined && until !== undefined && until <= from)
      issues.push(issue(`${at}/validUntil must be after validFrom`));
    const deliverFrom = entry.deliverFrom === undefined ? from : instant(entry.deliverFrom);
    if (deliverFrom !== undefined && until !== undefined && deliverFrom >= until)
      issues.push(issue(`${at}/deliverFrom must be before validUntil`));
    const seen = new Set<string>();
    (Array.isArray(entry.sources) ? entry.sources : []).forEach((src, j) => {
      if (typeof src !== 'object' || src === null || !TOPIC_NAMES.includes(src.topic)) return;
      const where = `${at}/sources/${j}`;
      if (seen.has(src.topic)) issues.push(issue(`${where}/topic ${src.topic} is named a second time`));
      seen.add(src.topic);
      if (src.topic === undefined) return;
      if (TOPICS[src.topic].owner === entry.consumer)
        issues.push(issue(`${where}/topic ${src.topic} is ${String(entry.consumer)}'s own topic`));
      const contract = contracts[src.topic];
      const events = typeof src.events === 'object' && src.events !== null ? src.events : {};
      for (const [eventType, fields] of Object.entries(events)) {
        const record = contract.events.get(eventType);
        if (!record) {
          issues.push(
            issue(
              `${where}/events has no event type ${eventType} in the ${src.topic} contract (one of ${[...contract.events.keys()].join(', ')})`,
            ),
          );
          continue;
        }
        // The key orders and deduplicates a consumer's deliveries per entity: it must see which.
        const { keyField } = TOPICS[src.topic];
        const keyRules = fields as Record<string, unknown> | undefined;
        if (typeof keyRules === 'object' && keyRules !== null && keyRules[keyField] !== 'clear')
          issues.push(
            issue(
              `${where}/events/${eventType} must show ${keyField} clear: it keys the topic, and the deliveries`,
            ),
          );
        for (const [field, mask] of Object.entries(
          typeof fields === 'object' && fields !== null ? fields : {},
        )) {
          const declared = record.fields.get(field);
          if (!declared) {
            issues.push(issue(`${where}/events/${eventType} has no field ${field} in ${record.fullName}`));
            continue;
          }
          if (mask === 'last4' && !holdsOnlyStrings(declared.type, record.namespace, contract))
            issues.push(
              issue(
                `${where}/events/${eventType}/${field} holds more than strings: last4 masks strings only`,
              ),
            );
          if (mask === 'year' && !isTimestamp(declared.type))
            issues.push(
              issue(`${where}/events/${eventType}/${field} is not a timestamp: year masks timestamps only`),
            );
        }
      }
    });
    if (
      typeof entry.id !== 'string' ||
      from === undefined ||
      until === undefined ||
      deliverFrom === undefined
    )
      return;
    const e = raw as AgreementEntry;
    byId.set(e.id, {
      id: e.id,
      consumer: e.consumer,
      purpose: e.purpose,
      legalBasis: e.legalBasis,
      validFrom: from,
      validUntil: until,
      deliverFrom,
      approvedBy: e.approvedBy,
      sources: e.sources as Agreement['sources'],
      version: createHash('sha256').update(canonicalJson(e)).digest('hex'),
    });
  });
  if (issues.length > 0) throw new ConfigError(issues);
  const all = deepFreeze([...byId.values()]);
  return { all: () => all, find: (id) => byId.get(id) };
}

function instant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
