import { QueueEvents, QueueEventsProducer } from 'bullmq';
import { WorkerRuntime } from '../../workers/runtime.js';
import type { JobHandler } from '../../jobs/handler.js';
import type { Config } from '../../src/shared/config.js';
import type { Knex } from '../../src/shared/db.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import type { QueueName } from '../../src/queues/names.js';
import { channelsOf, type ChannelKey } from '../../src/notify/channels.js';
import { Producer } from '../../src/queues/producer.js';
import type { JobName, PayloadOf, ResultOf } from '../../src/queues/registry.js';
import { closeRedis, createRedis, waitForRedis, type RedisClient, type RedisRole } from '../../src/shared/redis.js';
import { testConfig } from './config.js';
import { dropSchemas, migratedDb } from './db.js';
import { clearRedis } from './redis.js';
import { waitForEvent } from './wait.js';

/**
 * A migrated schema, a producer and queue-event readers for one test file, all under their
 * own names; `close` removes every trace of them.
 */
export class TestSystem {
  private readonly readers = new Map<QueueName, QueueEvents>();
  private readonly runtimes: WorkerRuntime[] = [];
  private readonly connections: RedisClient[] = [];

  private constructor(
    readonly config: Config,
    readonly db: Knex,
    readonly redis: RedisClient,
    readonly producer: Producer,
  ) {}

  /** This system's pub/sub channels: its namespace's. */
  get channels(): Record<ChannelKey, string> {
    return channelsOf(this.config.prefix);
  }

  /**
   * `role` is the test's own connection's: a producer fails fast as the API does; a test that
   * loads the machine on purpose takes the worker role, which waits for slow answers.
   */
  static async create(overrides: Partial<Config> = {}, role: RedisRole = 'producer'): Promise<TestSystem> {
    const config = testConfig(overrides);
    const db = await migratedDb(config);
    const redis = createRedis(config, role, 'tickforge-test');
    await waitForRedis(redis, 30_000);
    return new TestSystem(config, db, redis, new Producer(redis, config.prefix));
  }

  /** Starts an in-process worker runtime on this system's schema and prefix. */
  async startWorker(
    overrides: Partial<Config> = {},
    handlers?: readonly JobHandler[],
    logger: Logger = createLogger('test-worker', this.config.logLevel),
  ): Promise<WorkerRuntime> {
    const runtime = await WorkerRuntime.start({ config: { ...this.config, ...overrides }, logger, handlers });
    this.runtimes.push(runtime);
    return runtime;
  }

  /** Makes every worker started here publish its metrics now. */
  async flushMetrics(): Promise<void> {
    await Promise.all(this.runtimes.map((runtime) => runtime.flushMetrics()));
  }

  /**
   * A QueueEvents reader for the queue that is already reading: it reads from the stream's end
   * ('$'), so until its first read any event would be missed. A marker event proves it reads.
   */
  async events(queue: QueueName): Promise<QueueEvents> {
    let reader = this.readers.get(queue);
    if (!reader) {
      const connection = createRedis(this.config, 'worker', 'tickforge-test-events');
      this.connections.push(connection);
      reader = new QueueEvents(queue, { connection, prefix: this.config.prefix });
      this.readers.set(queue, reader);
      await reader.waitUntilReady();
      const marker = new QueueEventsProducer(queue, { connection: this.redis, prefix: this.config.prefix });
      const seen = waitForEvent(reader, 'reader-ready', undefined, 60_000);
      // The reader's first blocking read may reach Redis after a marker sent on another connection: repeat until one is read.
      let reading = false;
      void seen.then(
        () => (reading = true),
        () => undefined,
      );
      while (!reading) {
        await marker.publishEvent({ eventName: 'reader-ready' });
        await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 500))]);
      }
      await seen;
      await marker.close();
    }
    return reader;
  }

  /** Enqueues and waits for the job to finish; returns its result or throws its failure. */
  async run<N extends JobName>(name: N, payload: PayloadOf<N>, timeoutMs = 60_000): Promise<{ id: string; result: ResultOf<N> }> {
    const enqueued = await this.producer.enqueue(name, payload);
    const events = await this.events(enqueued.queue);
    const job = await this.producer.queue(enqueued.queue).getJob(enqueued.id);
    const result = (await job!.waitUntilFinished(events, timeoutMs)) as ResultOf<N>;
    return { id: enqueued.id, result };
  }

  /**
   * Resolves when every listed job has completed (failed attempts that will be retried are
   * fine); rejects after the deadline naming the jobs still open.
   */
  async waitForCompleted(queue: QueueName, ids: string[], timeoutMs = 120_000): Promise<void> {
    const events = await this.events(queue);
    const open = new Set(ids);
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const onCompleted = ({ jobId }: { jobId: string }) => {
      open.delete(jobId);
      if (open.size === 0) settle();
    };
    events.on('completed', onCompleted);
    try {
      const states = await Promise.all(ids.map(async (id) => [id, await this.producer.queue(queue).getJobState(id)] as const));
      for (const [id, state] of states) if (state === 'completed') onCompleted({ jobId: id });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`jobs still open after ${timeoutMs} ms: ${[...open].join(', ')}`)), timeoutMs);
      });
      await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    } finally {
      events.off('completed', onCompleted);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.runtimes.map((runtime) => runtime.stop()));
    await Promise.all([...this.readers.values()].map((reader) => reader.close()));
    await Promise.all(this.connections.map((connection) => closeRedis(connection)));
    await this.producer.close();
    await closeRedis(this.redis);
    await clearRedis(this.config);
    await dropSchemas(this.db, this.config);
  }
}
