import type { RedisClient } from '../shared/redis.js';

/** How often a worker process renews its heartbeat, and how long one lasts without renewal. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;

/**
 * The deployment's live workers: a sorted set under the namespace whose members are the
 * workers and whose scores are the instants their heartbeats expire. One key, so it lives in
 * the namespace's hash slot on Redis Cluster.
 */
const heartbeatKey = (prefix: string) => `${prefix}:workers:heartbeats`;

/** A live worker process: its id (`host:pid`) and the queues it serves. */
export interface LiveWorker {
  id: string;
  queues: string[];
}

/**
 * A worker process's heartbeat: renewed every few seconds while it runs, withdrawn when it
 * stops. A process that dies without stopping drops out once its last heartbeat expires.
 * Health and alerts count these, never BullMQ's server-wide client list, which mixes every
 * deployment on the server and keeps half-open connections of dead processes.
 */
export class WorkerHeartbeat {
  private timer?: NodeJS.Timeout;
  private readonly member: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    worker: LiveWorker,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {
    this.member = JSON.stringify(worker);
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(this.onError), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.redis.zadd(heartbeatKey(this.prefix), Date.now() + HEARTBEAT_TTL_MS, this.member);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.zrem(heartbeatKey(this.prefix), this.member).catch(this.onError);
  }
}

/** The namespace's workers whose heartbeat has not expired; expired ones are removed. */
export async function liveWorkers(redis: RedisClient, prefix: string, now = Date.now()): Promise<LiveWorker[]> {
  const key = heartbeatKey(prefix);
  const [, live] = await Promise.all([redis.zremrangebyscore(key, '-inf', now), redis.zrangebyscore(key, now, '+inf')]);
  return live.map((member) => JSON.parse(member) as LiveWorker);
}

/** How many live workers serve each queue. */
export function workersPerQueue(
  workers: readonly LiveWorker[],
  queues: readonly string[],
): Array<{ queue: string; workers: number }> {
  return queues.map((queue) => ({ queue, workers: workers.filter((worker) => worker.queues.includes(queue)).length }));
}
