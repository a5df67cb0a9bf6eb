/**
 * A steady load on the machine's CPU, in Node processes of their own: each one spins for its
 * share of every 10 ms and sleeps for the rest. A benchmark runs work beside it to learn what that
 * work costs when the other processes of a phase take the CPU they took then.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/** The period each process spins in, ms. */
const PERIOD_MS = 10;

/** Spins `duty` (0 to 1) of every period, until killed; named for the CPU meters. */
const SPIN = (duty: number) =>
  `process.title = 'cpu-load'; const busy = ${duty * PERIOD_MS}; ` +
  `const tick = () => { const until = performance.now() + busy; while (performance.now() < until); ` +
  `setTimeout(tick, ${PERIOD_MS} - busy); }; tick();`;

/**
 * Runs `work` while about `cores` of the machine's cores are taken (1.5: one process at all of a
 * core, one at half; none for 0), and stops the load once it settles.
 */
export async function besideCpuLoad<T>(cores: number, work: () => Promise<T>): Promise<T> {
  const processes: ChildProcess[] = [];
  for (let left = Math.max(0, cores); left > 0.01; left -= 1)
    processes.push(spawn(process.execPath, ['-e', SPIN(Math.min(1, left))], { stdio: 'ignore' }));
  try {
    return await work();
  } finally {
    await Promise.all(
      processes.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = once(p, 'exit');
        p.kill('SIGKILL');
        await exited;
      }),
    );
  }
}
