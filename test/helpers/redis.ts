import { Cluster, Redis } from 'ioredis';
import type { Config } from '../../src/shared/config.js';
import { closeRedis, createRedis, waitForRedis } from '../../src/shared/redis.js';

/** Deletes every key under the config's namespace and its event stream, on each master of a cluster. */
export async function clearRedis(config: Config): Promise<void> {
  const redis = createRedis(config, 'worker', 'tickforge-test-cleanup');
  redis.on('error', () => undefined);
  try {
    await waitForRedis(redis, 10_000);
    for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${config.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await node.del(...keys);
      } while (cursor !== '0');
    }
    await redis.del(config.eventStream);
  } finally {
    await closeRedis(redis);
  }
}

/** One command's answer from the Redis server (or sentinel) on a loopback port, on a connection of its own. */
export async function askServer(port: number, command: string, ...args: string[]): Promise<unknown> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(command, ...args);
  } finally {
    redis.disconnect();
  }
}

/** redis-server arguments for a test's own server in `dir`: loopback only, nothing persisted, never evicting (as BullMQ needs). */
export function scratchServerArgs(dir: string): string[] {
  return ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir];
}
