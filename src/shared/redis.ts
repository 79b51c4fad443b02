import { Redis, type RedisOptions } from 'ioredis';

/**
 * The two connection roles BullMQ needs. A producer (API, CLI, scheduler enqueueing) fails
 * fast when Redis is away so callers can answer 503; a worker connection blocks and retries
 * forever, as BullMQ requires for its blocking commands.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

/**
 * How long a command on a producer connection may wait for its answer. A Redis that stops
 * answering (paused, swapping, a dead link the kernel has not noticed) keeps the connection
 * open, so without a deadline every request behind it would hang.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

const roleOptions: Record<RedisRole, RedisOptions> = {
  producer: {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  },
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  subscriber: { maxRetriesPerRequest: null },
};

export function createRedis(url: string, role: RedisRole, name?: string): Redis {
  return new Redis(url, {
    ...roleOptions[role],
    connectionName: name,
    lazyConnect: false,
    // Reconnect with a capped backoff; the process keeps running while Redis is away.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5_000),
  });
}

/** Closes a connection without waiting on a server that may be gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  } catch {
    // quit fails when the connection is already down; disconnect below covers it.
  }
  redis.disconnect();
}

/** Rejects unless the connection reaches the ready state within the deadline. */
export async function waitForRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
