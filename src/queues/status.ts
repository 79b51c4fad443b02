import { liveWorkers } from './heartbeat.js';
import type { QueueName } from './names.js';
import type { Producer } from './producer.js';

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
  /** The live worker processes of the namespace serving the queue, by id (`host:pid`). */
  workers: string[];
}

/**
 * The status of each queue, read from Redis: jobs per state, and the workers from the
 * namespace's own heartbeats (never BullMQ's server-wide client list, which counts other
 * deployments' workers and half-open connections of dead ones).
 */
export async function queueStatus(producer: Producer, queues: readonly QueueName[], now = Date.now()): Promise<QueueStatus[]> {
  const live = await liveWorkers(producer.connection, producer.prefix, now);
  return Promise.all(
    queues.map(async (name) => {
      const queue = producer.queue(name);
      const [counts, [oldest]] = await Promise.all([
        queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'),
        queue.getJobs(['waiting'], 0, 0, true),
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
        workers: live.filter((worker) => worker.queues.includes(name)).map((worker) => worker.id),
      };
    }),
  );
}
