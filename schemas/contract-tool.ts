/**
 * `npm run schemas:check` and `npm run schemas:register`: the agencies' contracts against the
 * schema registry.
 *
 * check: parses every `.avsc`, then asks the registry whether it could be registered under the
 * subject's compatibility level. With no registry reachable, it checks instead against every
 * committed version under `test/fixtures/avro/<topic>/v<N>/schema.avsc`, as BACKWARD_TRANSITIVE
 * would: what is committed has been published, and readers of the new version must read it all.
 *
 * register: registers each `.avsc` under its value subject with its owner's credential.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalStack, stackConfig } from '../deploy/local/stack';
import { checkCompatibility } from '../services/registry/compatibility';
import { parseSchema } from '../services/registry/registry-service';
import { resolveSchemaPath, TOPIC_NAMES, TOPICS, type TopicName } from './topics';

const ROOT = resolve(__dirname, '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'avro');

export interface RegistryAccess {
  url: string;
  /** Client id → key; the owner's key registers, any key reads. */
  keys: Record<string, string>;
}
type Registry = RegistryAccess;

/** Runs `check` or `register`, printing one line per subject; returns the exit code. */
export async function runContractTool(
  command: string | undefined,
  registryOverride?: RegistryAccess,
): Promise<number> {
  if (command !== 'check' && command !== 'register') {
    process.stderr.write('usage: contract-tool.ts check | register\n');
    return 2;
  }
  const registry = registryOverride ?? (await reachableRegistry());
  if (command === 'register' && !registry) {
    process.stderr.write(
      'schemas:register: no schema registry answered; run `npm run stack:up` or set SCHEMA_REGISTRY_URL\n',
    );
    return 1;
  }
  let failures = 0;
  for (const topic of TOPIC_NAMES) {
    const { valueSubject, owner } = TOPICS[topic];
    const text = readFileSync(resolveSchemaPath(topic), 'utf8');
    let problems: string[];
    try {
      parseSchema(text);
      if (command === 'register' && registry) {
        const id = await register(registry, valueSubject, owner, text);
        process.stdout.write(`${valueSubject}: registered as schema id ${id}\n`);
        continue;
      }
      problems = registry
        ? await checkWithRegistry(registry, valueSubject, text)
        : checkWithCommitted(topic, text);
    } catch (error) {
      problems = [(error as Error).message];
    }
    failures += problems.length > 0 ? 1 : 0;
    const where = registry ? registry.url : 'committed versions';
    process.stdout.write(
      problems.length === 0
        ? `${valueSubject}: compatible (${where})\n`
        : `${valueSubject}: INCOMPATIBLE (${where})\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
  }
  return failures === 0 ? 0 : 1;
}

/** The registry named by SCHEMA_REGISTRY_URL, or the local stack's, if it answers. */
async function reachableRegistry(): Promise<Registry | undefined> {
  // The stack manager knows where the local registry listens and keeps its keys.
  const local = new LocalStack(stackConfig(), () => undefined).registry;
  const url = process.env.SCHEMA_REGISTRY_URL ?? local?.url;
  if (!url) return undefined;
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
  } catch {
    return undefined;
  }
  const keysFile = process.env.SCHEMA_REGISTRY_KEYS_FILE ?? local?.keysFile;
  const keys =
    keysFile && existsSync(keysFile)
      ? (JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string>)
      : {};
  return { url, keys };
}

function authorization(registry: Registry, clientId: string): Record<string, string> {
  const key = registry.keys[clientId];
  return key ? { authorization: `Basic ${Buffer.from(`${clientId}:${key}`).toString('base64')}` } : {};
}

async function call(
  registry: Registry,
  clientId: string,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: {
      'content-type': 'application/vnd.schemaregistry.v1+json',
      ...authorization(registry, clientId),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function checkWithRegistry(registry: Registry, subject: string, text: string): Promise<string[]> {
  // Any authenticated client may read; an agency's own key is as good as the reader's.
  const reader = registry.keys['lienthong-reader']
    ? 'lienthong-reader'
    : (Object.keys(registry.keys)[0] ?? '');
  const answer = await call(
    registry,
    reader,
    'POST',
    `/compatibility/subjects/${subject}/versions/latest?verbose=true`,
    {
      schema: text,
    },
  );
  if (answer.status === 200) {
    return answer.body.is_compatible
      ? []
      : ((answer.body.messages as string[] | undefined) ?? ['incompatible']);
  }
  return [`the registry answered ${answer.status}: ${String(answer.body.message ?? '')}`];
}

function checkWithCommitted(topic: TopicName, text: string): string[] {
  const dir = join(FIXTURES, topic);
  const versions = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^v\d+$/.test(name) && existsSync(join(dir, name, 'schema.avsc')))
        .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
    : [];
  const committed = versions.map(
    (v) => JSON.parse(readFileSync(join(dir, v, 'schema.avsc'), 'utf8')) as unknown,
  );
  const verdict = checkCompatibility('BACKWARD_TRANSITIVE', JSON.parse(text), committed);
  return verdict.issues.map((issue) => `${issue.path}: ${issue.description}`);
}

async function register(registry: Registry, subject: string, owner: string, text: string): Promise<number> {
  const client = registry.keys[owner] ? owner : 'lienthong-operator';
  const answer = await call(registry, client, 'POST', `/subjects/${subject}/versions`, { schema: text });
  if (answer.status !== 200)
    throw new Error(`${subject}: the registry answered ${answer.status}: ${String(answer.body.message)}`);
  return answer.body.id as number;
}

if (require.main === module) {
  runContractTool(process.argv[2]).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
