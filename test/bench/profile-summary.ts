/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`, as `LIENTHONG_BENCH_CPU_PROF` and
 * `BENCH_CPU_PROF_DIR` write them): the busy time, the frames with the most self time, and the
 * busy time by where the code comes from (a package of node_modules, Node's own, the garbage
 * collector, or this project's files). Idle time is left out of every share.
 *
 * Run with `npx tsx test/bench/profile-summary.ts <file.cpuprofile> [--top N]`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code comes from, for the shares by origin. */
export function originOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  return 'lienthong';
}

/** Self time in microseconds by frame and by origin, and the busy total. */
export function summarize(profile: CpuProfile): {
  busy: number;
  frames: { name: string; micros: number }[];
  origins: { origin: string; micros: number }[];
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const frames = new Map<string, number>();
  const origins = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    if (frame === undefined || frame.functionName === '(idle)') return;
    busy += micros;
    const file = frame.url
      .replace(/^.*\/(node_modules\/)/, '$1')
      .replace(/^file:\/\/.*?\/(services|connectors)\//, '$1/');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    frames.set(name, (frames.get(name) ?? 0) + micros);
    const origin = originOf(frame);
    origins.set(origin, (origins.get(origin) ?? 0) + micros);
  });
  const sorted = <K extends string>(map: Map<string, number>, key: K) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .map(([name, micros]) => ({ [key]: name, micros }) as Record<K, string> & { micros: number });
  return { busy, frames: sorted(frames, 'name'), origins: sorted(origins, 'origin') };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '10' } },
  });
  const [file] = positionals;
  if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
  const top = Number(values.top);
  const { busy, frames, origins } = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const share = (micros: number) => `${((100 * micros) / busy).toFixed(1)}%`;
  const lines = [
    `busy ${(busy / 1e6).toFixed(2)} s (idle left out)`,
    '',
    `top ${top} frames by self time:`,
    ...frames.slice(0, top).map((f) => `  ${share(f.micros).padStart(6)}  ${f.name}`),
    '',
    'by origin:',
    ...origins.slice(0, top).map((o) => `  ${share(o.micros).padStart(6)}  ${o.origin}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) main();
