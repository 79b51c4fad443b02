import { Cluster } from 'ioredis';
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
