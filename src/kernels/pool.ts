import { Piscina } from 'piscina';
import type * as Tasks from './tasks.js';

export type TaskName = keyof typeof Tasks;
export type TaskInput<K extends TaskName> = Parameters<(typeof Tasks)[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<(typeof Tasks)[K]>>;

export interface RunOptions {
  /** Buffers moved into the task instead of copied; they are unusable here afterwards. */
  transfer?: ArrayBuffer[];
  /** Aborting terminates the task's thread and rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What a job sees of the kernel pool: run a task by name, and how many threads there are. */
export interface Kernels {
  run<K extends TaskName>(name: K, input: TaskInput<K>, options?: RunOptions): Promise<TaskOutput<K>>;
  readonly maxThreads: number;
}

/** The process-wide thread pool for CPU-heavy kernels, typed by task name. */
export class KernelPool implements Kernels {
  private readonly pool: Piscina;

  constructor(threads: number) {
    this.pool = new Piscina({
      filename: new URL('./tasks.js', import.meta.url).href,
      minThreads: Math.min(1, threads),
      maxThreads: threads,
      idleTimeout: 30_000,
      // Piscina loads the task file with require() first. Node 20's require() of an ES module can
      // abort the whole process (a fatal V8 error) when a thread is torn down while it loads, so
      // the threads refuse it and piscina falls back to import().
      execArgv: [...process.execArgv, '--no-experimental-require-module'],
    });
  }

  run<K extends TaskName>(name: K, input: TaskInput<K>, options: RunOptions = {}): Promise<TaskOutput<K>> {
    return this.pool.run(input, {
      name,
      transferList: options.transfer,
      signal: options.signal ?? null,
    }) as Promise<TaskOutput<K>>;
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  get maxThreads(): number {
    return this.pool.options.maxThreads;
  }

  /** Share of the pool's capacity spent running tasks since start, 0…1. */
  get utilization(): number {
    return this.pool.utilization;
  }

  /** Tasks waiting for a free thread. */
  get queueSize(): number {
    return this.pool.queueSize;
  }

  get completed(): number {
    return this.pool.completed;
  }

  /** Lets running tasks finish, then stops the threads. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Stops the threads at once, rejecting anything still running. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
