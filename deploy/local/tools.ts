import { spawnSync } from 'node:child_process';

/** What each external tool provisions, so that the message can say what to do instead. */
const TOOL_PURPOSE = {
  java: { provides: 'the Kafka broker', instead: 'KAFKA_BROKERS=host:port' },
  mvn: { provides: "the Kafka broker's jars from Maven Central", instead: 'KAFKA_BROKERS=host:port' },
  go: { provides: 'the FerretDB store', instead: 'MONGODB_URI=mongodb://host:port' },
} as const;

export type Tool = keyof typeof TOOL_PURPOSE;

/** A tool the local stack needs is not on PATH. Its message says how to go without it. */
export class MissingToolError extends Error {
  readonly tool: Tool;

  constructor(tool: Tool) {
    const { provides, instead } = TOOL_PURPOSE[tool];
    super(
      `'${tool}' was not found on PATH: the local stack needs it for ${provides}. ` +
        `Install ${tool}, or point lienthong at a running service instead with ${instead}`,
    );
    this.name = 'MissingToolError';
    this.tool = tool;
  }
}

/**
 * Fails with a {@link MissingToolError} unless `tool` runs.
 * `PATH` is read at call time so that tests can hide a tool.
 */
export function requireTool(tool: Tool, env: NodeJS.ProcessEnv = process.env): void {
  const probe = spawnSync(tool, ['-version'], { env, stdio: 'ignore' });
  // ENOENT is the only answer that means "not there"; a non-zero exit still proves it runs.
  if (probe.error && (probe.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new MissingToolError(tool);
  }
}
