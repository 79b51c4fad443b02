import type { QueueName } from './names.js';
import type { Producer } from './producer.js';

/** A worker process connected to a queue, as Redis lists its connection. */
export interface QueueWorker {
  name: string;
  addr: string;
  /** Seconds since it connected. */
  age: number;
}

/** A queue's jobs per state, its oldest waiting job and the workers serving it. */
export interface QueueStatus {
  queue: QueueName;
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  waitingChildren: number;
  failed: number;
  completed: number;
  oldestWaitingSeconds: number;
  workers: QueueWorker[];
}

/** The status of each queue, read from Redis (jobs per state; workers from the client list). */
export async function queueStatus(producer: Producer, queues: readonly QueueName[], now = Date.now()): Promise<QueueStatus[]> {
  return Promise.all(
    queues.map(async (name) => {
      const queue = producer.queue(name);
      const [counts, [oldest], workers] = await Promise.all([
        queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'),
        queue.getJobs(['waiting'], 0, 0, true),
        queue.getWorkers(),
      ]);
      return {
        queue: name,
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        prioritized: counts.prioritized ?? 0,
        waitingChildren: counts['waiting-children'] ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
        oldestWaitingSeconds: oldest ? Math.round((now - oldest.timestamp) / 1000) : 0,
        workers: workers.map((worker) => ({
          name: String(worker.name ?? ''),
          addr: String(worker.addr ?? ''),
          age: Number(worker.age ?? 0),
        })),
      };
    }),
  );
}
