/**
 * The local stack manager: `up`, `down`, `status`, and `start` (what `npm start` runs).
 * Progress goes to stderr and the endpoints to stdout, so that `up` can feed a script.
 */
import { runContractTool } from '../../schemas/contract-tool';
import { type ComponentReport, LocalStack, stackConfig } from './stack';

const USAGE = 'usage: cli.ts up | down | status | start';

async function main(command: string | undefined): Promise<number> {
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  if (!command || !['up', 'down', 'status', 'start'].includes(command)) {
    progress(USAGE);
    return 2;
  }
  const stack = new LocalStack(stackConfig(), progress);
  switch (command) {
    case 'up':
    case 'start': {
      if (stack.kafka || stack.store || stack.registry) progress('lienthong: bringing the local stack up');
      print(await stack.up());
      if (command === 'start' && stack.registry) {
        process.stdout.write("\nRegistering the agencies' schemas:\n");
        const code = await runContractTool('register', {
          url: stack.registry.url,
          keys: stack.registry.keys(),
        });
        if (code !== 0) return code;
      }
      printEndpoints(stack);
      return 0;
    }
    case 'down':
      print(await stack.down());
      return 0;
    default: {
      const reports = stack.status();
      print(reports);
      // Non-zero when a local component is down, so that scripts can test it.
      return reports.some((r) => r.state === 'not running') ? 3 : 0;
    }
  }
}

function print(reports: readonly ComponentReport[]): void {
  for (const { name, endpoint, state, pid } of reports) {
    const detail = pid ? `${state} (pid ${pid})` : state;
    process.stdout.write(`${name.padEnd(7)} ${endpoint.padEnd(32)} ${detail}\n`);
  }
}

function printEndpoints(stack: LocalStack): void {
  process.stdout.write('\nPoint services and tests at it with:\n');
  for (const [name, value] of Object.entries(stack.endpoints)) {
    process.stdout.write(`  export ${name}=${value}\n`);
  }
}

/** One line per failure, with its causes; a stack trace helps nobody who lacks a tool. */
function describe(error: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    lines.push(lines.length ? `  caused by: ${e.message}` : e.message);
  return lines.length ? lines.join('\n') : String(error);
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lienthong: ${describe(error)}\n`);
    process.exitCode = 1;
  },
);
