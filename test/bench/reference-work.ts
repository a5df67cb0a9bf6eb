/**
 * A fixed piece of CPU work, timed in a Node process of its own: what a CPU second buys on this
 * machine at the moment. The machine is a virtual one on a shared host, and the same code has
 * taken twice the CPU per record from one hour to the next; a report that gives this figure before
 * and after its run lets two runs' absolute figures be set side by side, and shows a run whose
 * machine slowed down under it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { median } from './connector-process';

/**
 * The work: an integer loop, SHA-256 of 1 KiB blocks and JSON.parse of a 1 MB document, the
 * kinds of work the services do, each sized to take about a third of the whole. It prints the CPU
 * milliseconds it used, user and system, after Node's own start.
 */
const WORK = `
const { createHash } = require('node:crypto');
const started = process.cpuUsage();
let x = 0;
for (let i = 0; i < 1e8; i++) x += i % 7;
const block = Buffer.alloc(1024, 7);
for (let i = 0; i < 50000; i++) createHash('sha256').update(block).digest();
const text = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ id: i, name: 'Nguyễn Văn ' + i, n: i * 1.5 })));
for (let i = 0; i < 10; i++) x += JSON.parse(text).length;
const used = process.cpuUsage(started);
process.stdout.write(String((used.user + used.system) / 1000) + ' ' + x);
`;

/** The CPU milliseconds of one run of the reference work. */
export async function referenceWorkMs(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', WORK]);
  const ms = Number(stdout.split(' ')[0]);
  if (!Number.isFinite(ms)) throw new Error(`The reference work printed ${stdout.slice(0, 100)}`);
  return ms;
}

/** The median CPU milliseconds of `runs` runs, one after another. */
export async function referenceWork(runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) times.push(await referenceWorkMs());
  return median(times);
}
