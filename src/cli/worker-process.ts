import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { configEnvironment, type Config } from '../shared/config.js';

/** The worker process's entry point, compiled beside this file's tree (dist/workers/main.js). */
const WORKER_MAIN = fileURLToPath(new URL('../../workers/main.js', import.meta.url));

/** How long a worker may take to say it is serving. */
const START_TIMEOUT_MS = 30_000;

export interface WorkerProcess {
  /** Sends SIGTERM (the worker drains, hands back what it cannot finish) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a worker process with `config`, as a Procfile runner would, and resolves once it logs
 * that it is serving. Its log lines are kept to explain a failed start.
 */
export async function startWorkerProcess(config: Config): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { ...process.env, ...configEnvironment(config), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 50) lines.shift();
    });
  }
  const ready = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (/"msg":"worker \S+ serving/.test(line)) resolve();
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(
      `the worker process ${outcome === 'exited' ? 'exited' : 'did not start in time'}:\n${lines.slice(-10).join('\n')}`,
    );
  }
  return {
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
