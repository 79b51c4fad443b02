import type { Redis } from 'ioredis';
import { registry } from '../../jobs/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { Producer } from '../queues/producer.js';
import { closeRedis, createRedis, waitForRedis } from '../redis.js';
import { parseOrThrow } from '../validation.js';
import { SCHEDULES, type Schedule } from './schedules.js';

/**
 * Upserts every schedule's job scheduler. Idempotent: the scheduler id is the key, so running
 * it again (a restart, a second scheduler process) leaves one scheduler per id.
 */
export async function upsertSchedules(producer: Producer, schedules: readonly Schedule[] = SCHEDULES): Promise<string[]> {
  for (const schedule of schedules) {
    const definition = registry.get(schedule.job);
    if (!definition) throw new Error(`schedule ${schedule.id} names unknown job ${schedule.job}`);
    const data = parseOrThrow(definition.schema, schedule.payload, `payload of schedule ${schedule.id}`);
    await producer.queue(definition.queue).upsertJobScheduler(
      schedule.id,
      { pattern: schedule.pattern, tz: schedule.tz },
      { name: schedule.job, data, opts: definition.defaults },
    );
  }
  return schedules.map((schedule) => schedule.id);
}

/** The scheduler process: keeps the job schedulers in place. */
export class Scheduler {
  private constructor(
    private readonly logger: Logger,
    private readonly redis: Redis,
    private readonly producer: Producer,
  ) {}

  static async start(config: Config, logger: Logger): Promise<Scheduler> {
    const redis = createRedis(config.redisUrl, 'worker', 'tickforge-scheduler');
    redis.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
    try {
      await waitForRedis(redis, 30_000);
      const producer = new Producer(redis, config.prefix);
      const ids = await upsertSchedules(producer);
      logger.info({ schedules: ids }, `scheduler upserted ${ids.length} job schedulers`);
      return new Scheduler(logger, redis, producer);
    } catch (error) {
      await closeRedis(redis);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.producer.close();
    await closeRedis(this.redis);
    this.logger.info('scheduler stopped');
  }
}
