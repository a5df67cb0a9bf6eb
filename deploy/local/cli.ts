/**
 * The local stack manager: `up`, `down`, `status`, and `start` (what `npm start` runs: the stack
 * and the whole bus with demo data, until Ctrl-C).
 * Progress goes to stderr and the endpoints to stdout, so that `up` can feed a script.
 */
import { type ComponentReport, LocalStack, stackConfig } from './stack';
import { startBus } from './start';
import { OPERATOR_PRINCIPAL } from '../../services/platform/acl-policy';
import { busGrants, busPrincipals, busTopics, reconcileAclsOn, reconcileTopicsOn } from './topics';

const USAGE =
  'usage: cli.ts up | down | status | start | topics --check|--apply [topic...] | acls --check|--apply  [--brokers 1|3]';

async function main(command: string | undefined, argv: readonly string[]): Promise<number> {
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const { brokers, args } = brokersOption(argv);
  if (
    !command ||
    !['up', 'down', 'status', 'start', 'topics', 'acls'].includes(command) ||
    brokers === null
  ) {
    progress(USAGE);
    return 2;
  }
  // The option is the variable given on the command line, validated with the others.
  const config = stackConfig(brokers ? { ...process.env, LOCAL_KAFKA_BROKERS: brokers } : process.env);
  const stack = new LocalStack(config, progress);
  switch (command) {
    case 'start': {
      const signalled = untilSignal();
      const bus = startBus(stack, config, {
        progress,
        print: (line) => process.stdout.write(`${line}\n`),
        log: (line) => process.stdout.write(`${line}\n`),
      });
      // A Ctrl-C while the bus is starting stops what has started so far.
      const signal = await Promise.race([signalled, bus.ready.then(() => signalled)]);
      progress(`lienthong: ${signal} received`);
      await bus.stop();
      progress('lienthong: stopped; the views stay in the store for the next start');
      return 0;
    }
    case 'up': {
      if (stack.kafka || stack.store || stack.registry) progress('lienthong: bringing the local stack up');
      print(await stack.up());
      printEndpoints(stack);
      return 0;
    }
    case 'down':
      print(await stack.down());
      return 0;
    case 'topics': {
      const apply = args.includes('--apply');
      if (!apply && !args.includes('--check')) {
        progress(USAGE);
        return 2;
      }
      const brokers = stack.endpoints.KAFKA_BROKERS;
      progress(`lienthong: the topic policy ${apply ? 'applied' : 'checked'} on ${brokers}, as the operator`);
      // Topics named after the flag narrow the run to them; by default every declared topic.
      const named = args.filter((a) => !a.startsWith('--'));
      const declared = busTopics(config.SCHEMA_REGISTRY_TOPIC).filter(
        (d) => named.length === 0 || named.includes(d.topic),
      );
      const report = await reconcileTopicsOn(stack.kafkaConnection(OPERATOR_PRINCIPAL), declared, {
        apply,
        progress: (line) => process.stdout.write(`${line}\n`),
      });
      progress(`lienthong: ${report.drifted} setting(s) drifted, ${report.absent} topic(s) absent`);
      // Drift and absent topics fail the check: the services' principals may not create topics.
      return report.drifted > 0 || report.absent > 0 ? 1 : 0;
    }
    case 'acls': {
      const apply = args.includes('--apply');
      if (!apply && !args.includes('--check')) {
        progress(USAGE);
        return 2;
      }
      progress(
        `lienthong: the ACLs ${apply ? 'applied' : 'checked'} on ${stack.endpoints.KAFKA_BROKERS}, as the operator`,
      );
      const missing = await reconcileAclsOn(
        stack.kafkaConnection(OPERATOR_PRINCIPAL),
        busGrants(config.SCHEMA_REGISTRY_TOPIC),
        { apply, progress: (line) => process.stdout.write(`${line}\n`) },
      );
      progress(`lienthong: ${missing} ACL(s) missing`);
      return missing > 0 ? 1 : 0;
    }
    default: {
      const reports = stack.status();
      print(reports);
      // Non-zero when a local component is down, so that scripts can test it.
      return reports.some((r) => r.state === 'not running') ? 3 : 0;
    }
  }
}

/**
 * `--brokers N` or `--brokers=N`, taken out of the arguments; null when it has no value.
 */
function brokersOption(argv: readonly string[]): { brokers?: string | null; args: string[] } {
  const args: string[] = [];
  let brokers: string | null | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--brokers') {
      brokers = argv[i + 1] ?? null;
      i += 1;
    } else if (arg.startsWith('--brokers=')) {
      brokers = arg.slice('--brokers='.length) || null;
    } else {
      args.push(arg);
    }
  }
  return { ...(brokers === undefined ? {} : { brokers }), args };
}

/**
 * Resolves with the first Ctrl-C, SIGTERM or SIGHUP. A Ctrl-C reaches every process of the
 * terminal's foreground group, and npm and tsx forward it again, so one keypress arrives as two or
 * three signals: the later ones are ignored rather than cutting the shutdown short (as
 * close-with-grace would on a second signal). Each service is killed after its own grace period,
 * so the stop cannot hang.
 */
function untilSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => resolve(name));
  });
}

function print(reports: readonly ComponentReport[]): void {
  for (const { name, endpoint, state, pid } of reports) {
    const detail = pid ? `${state} (pid ${pid})` : state;
    process.stdout.write(`${name.padEnd(8)} ${endpoint.padEnd(32)} ${detail}\n`);
  }
}

function printEndpoints(stack: LocalStack): void {
  process.stdout.write('\nPoint services and tests at it with:\n');
  const variables = { ...stack.endpoints, ...stack.kafkaEnv(OPERATOR_PRINCIPAL) };
  for (const [name, value] of Object.entries(variables)) {
    process.stdout.write(`  export ${name}=${value}\n`);
  }
  if (stack.kafka) {
    process.stdout.write(
      `These connect to Kafka as the operator. A service connects as its own principal: set KAFKA_SASL_USERNAME to one of ${busPrincipals().join(', ')}, and KAFKA_SASL_PASSWORD_FILE to ${stack.kafka.security.secretsDir}/<principal>.password\n`,
    );
  }
}

/** One line per failure, with its causes; a stack trace helps nobody who lacks a tool. */
function describe(error: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    lines.push(lines.length ? `  caused by: ${e.message}` : e.message);
  return lines.length ? lines.join('\n') : String(error);
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lienthong: ${describe(error)}\n`);
    process.exitCode = 1;
  },
);
