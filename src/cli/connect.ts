import type { Config } from '../shared/config.js';
import { Producer } from '../queues/producer.js';
import { closeRedis, createRedis, waitForRedis, type RedisClient } from '../shared/redis.js';

import { redactedUrl } from '../shared/health.js';

/** Runs `run` with a producer on the configured Redis; an unreachable Redis is named with REDIS_URL. */
export async function withProducer<T>(config: Config, run: (producer: Producer, redis: RedisClient) => Promise<T>): Promise<T> {
  const redis = createRedis(config, 'producer', 'tickforge-cli');
  redis.on('error', () => undefined);
  const producer = new Producer(redis, config.prefix);
  try {
    await waitForRedis(redis, 5_000).catch(() => {
      throw new Error(
        `cannot reach Redis at REDIS_URL=${redactedUrl(config.redisUrl)}; is it running? (npx tickforge dev starts one)`,
      );
    });
    return await run(producer, redis);
  } finally {
    await producer.close();
    await closeRedis(redis);
  }
}

/** Writes a command's answer: one JSON document with `--json`, else the readable lines. */
export function answer(json: boolean | undefined, value: unknown, lines: () => string[]): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else for (const line of lines()) process.stdout.write(`${line}\n`);
}
