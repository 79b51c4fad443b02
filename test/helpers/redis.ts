import { Redis } from 'ioredis';
import type { Config } from '../../src/shared/config.js';

/** Deletes every key under the config's BullMQ prefix and its event stream. */
export async function clearRedis(config: Config): Promise<void> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.del(config.eventStream);
  } finally {
    redis.disconnect();
  }
}
