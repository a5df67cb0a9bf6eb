import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceDocuments } from './documents';

/**
 * `npm run openapi:lint`: writes every service's OpenAPI document to a scratch directory and
 * lints them all with Redocly's CLI under `redocly.yaml`. Exits non-zero on any error.
 */
async function main(): Promise<number> {
  const documents = await serviceDocuments();
  const missing = Object.entries(documents).flatMap(([name, document]) =>
    undocumentedErrors(document).map((where) => `${name}: ${where}`),
  );
  for (const line of missing) console.error(line);
  const dir = mkdtempSync(join(tmpdir(), 'lienthong-openapi-'));
  try {
    const files = Object.entries(documents).map(([name, document]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(document, null, 2));
      return file;
    });
    const run = spawnSync('npx', ['--no-install', 'redocly', 'lint', '--config', 'redocly.yaml', ...files], {
      stdio: 'inherit',
      // No usage report and no update check: the lint reads local files only.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    return missing.length > 0 ? 1 : (run.status ?? 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The operations, other than operations endpoints, that document no 4xx or no 5xx answer with a
 * problem body (a schema with a stable `code`, in any media type): what redocly's
 * `operation-4xx-response` would say, without the probes, and for 5xx as well.
 */
export function undocumentedErrors(document: Record<string, unknown>): string[] {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const schemas = ((document.components ?? {}) as { schemas?: Record<string, Schema> }).schemas ?? {};
  const resolve = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
  const isProblem = (response: Response): boolean =>
    Object.values(response.content ?? {}).some(
      (media) => resolve(media.schema)?.properties?.code !== undefined,
    );
  const found: string[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.tags?.includes('operations')) continue;
      for (const range of ['4', '5']) {
        const problems = Object.entries(operation.responses ?? {}).filter(
          ([status, response]) => status.startsWith(range) && isProblem(response),
        );
        if (problems.length === 0)
          found.push(`${method.toUpperCase()} ${path} documents no ${range}xx problem`);
      }
    }
  }
  return found;
}

interface Schema {
  $ref?: string;
  properties?: Record<string, unknown>;
}

interface Response {
  content?: Record<string, { schema?: Schema }>;
}

interface Operation {
  tags?: string[];
  responses?: Record<string, Response>;
}

main().then(
  (status) => process.exit(status),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
