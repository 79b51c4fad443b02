import { FlowProducer } from 'bullmq';
import type { Config } from '../shared/config.js';
import { createDb, dbSettings, type Knex } from '../shared/db.js';
import type { Logger } from '../shared/logger.js';
import { AlertMonitor } from '../metrics/alert-monitor.js';
import { alertThresholds } from '../metrics/alert-rules.js';
import { gatherSnapshot } from '../metrics/gather.js';
import { ProcessInstruments } from '../metrics/instruments.js';
import { Publisher } from '../notify/publisher.js';
import { QUEUES } from '../queues/names.js';
import { Producer } from '../queues/producer.js';
import { contractOf } from '../queues/registry.js';
import { closeRedis, createRedis, waitForRedis, type RedisClient } from '../shared/redis.js';
import { parseOrThrow } from '../shared/validation.js';
import { untilMigrated } from '../shared/health.js';
import { catchUpMissedSessions } from './catch-up.js';
import { requestEodPipeline } from '../shared/eod.js';
import { Store } from '../store/store.js';
import { EodSignalListener } from './eod-signals.js';
import { SCHEDULES, type AnySchedule } from './schedules.js';

export interface SchedulerOptions {
  /** The clock catch-up reads; the real one unless a test fixes it. */
  now?: () => number;
}

/**
 * Upserts every schedule's job scheduler. Idempotent: the scheduler id is the key, so running
 * it again (a restart, a second scheduler process) leaves one scheduler per id.
 */
export async function upsertSchedules(producer: Producer, schedules: readonly AnySchedule[] = SCHEDULES): Promise<string[]> {
  for (const schedule of schedules) {
    const contract = contractOf(schedule.job);
    const data = parseOrThrow(contract.schema, schedule.payload, `payload of schedule ${schedule.id}`);
    await producer
      .queue(contract.queue)
      .upsertJobScheduler(
        schedule.id,
        { pattern: schedule.pattern, tz: schedule.tz },
        { name: schedule.job, data, opts: contract.defaults },
      );
  }
  return schedules.map((schedule) => schedule.id);
}

/**
 * The scheduler process: keeps the job schedulers in place, enqueues the end-of-day pipelines
 * of sessions missed while it was down, and starts a date's pipeline as soon as a
 * eod_complete signal of its namespace names it.
 */
/** How often the alert rules are evaluated. */
const ALERT_INTERVAL_MS = 15_000;

export class Scheduler {
  private listener?: EodSignalListener;
  private alerts?: AlertMonitor;
  private readonly store: Store;
  /** This scheduler's own figures, published so the comprehensive health shows it live. */
  private readonly instruments: ProcessInstruments;

  private constructor(
    private readonly logger: Logger,
    private readonly redis: RedisClient,
    private readonly producer: Producer,
    private readonly flows: FlowProducer,
    private readonly db: Knex,
    schema: string,
    prefix: string,
  ) {
    this.store = new Store(db, schema);
    this.instruments = new ProcessInstruments(redis, prefix, 'scheduler', db);
  }

  static async start(config: Config, logger: Logger, options: SchedulerOptions = {}): Promise<Scheduler> {
    const redis = createRedis(config, 'worker', 'tickforge-scheduler');
    redis.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
    const db = createDb({ ...dbSettings(config, logger), poolMax: 2 });
    const producer = new Producer(redis, config.prefix);
    const flows = new FlowProducer({ connection: redis, prefix: config.prefix });
    const scheduler = new Scheduler(logger, redis, producer, flows, db, config.dbSchema, config.prefix);
    try {
      await waitForRedis(redis, 30_000);
      await untilMigrated(db, config.dbSchema, (line) => logger.info(line), { timeoutMs: config.migrationWaitMs });
      const ids = await upsertSchedules(producer);
      logger.info({ schedules: ids }, `scheduler upserted ${ids.length} job schedulers`);
      const caughtUp = await catchUpMissedSessions(
        { history: scheduler.store.jobHistory, queue: producer.queue('sync'), flows },
        (options.now ?? Date.now)(),
        config.eodCatchUpSessions,
      );
      if (caughtUp.added.length > 0) {
        logger.info({ dates: caughtUp.added }, `catch-up: enqueued the pipelines of ${caughtUp.added.join(', ')}`);
      }
      if (caughtUp.skipped) logger.info(`catch-up: ${caughtUp.skipped}`);
      scheduler.listener = new EodSignalListener(config, config.prefix, config.eventStream, logger, (date, source) =>
        scheduler.onEodComplete(date, source),
      );
      await scheduler.listener.start();
      logger.info(`listening for ${scheduler.listener.channel} on pub/sub and in the stream ${config.eventStream}`);
      scheduler.alerts = scheduler.alertMonitor(config);
      scheduler.alerts.start();
      scheduler.instruments.start();
      await scheduler.instruments.flush();
      return scheduler;
    } catch (error) {
      await scheduler.stop();
      throw error;
    }
  }

  /** The alert rules, evaluated here while this scheduler holds the evaluation lease. */
  private alertMonitor(config: Config): AlertMonitor {
    const { redis, producer, db, logger } = this;
    const publisher = new Publisher(redis, {
      service: 'tickforge-scheduler',
      prefix: config.prefix,
      stream: config.eventStream,
      streamMaxLen: config.eventStreamMaxLen,
      onPublished: (channel) => this.instruments.eventPublished(channel),
    });
    const queues = new Map(QUEUES.map((name) => [name, producer.queue(name)]));
    return new AlertMonitor({
      redis,
      prefix: config.prefix,
      instance: this.instruments.instance,
      intervalMs: ALERT_INTERVAL_MS,
      thresholds: alertThresholds(config),
      gather: () => gatherSnapshot({ redis, prefix: config.prefix, db, queues, eodQueue: producer.queue('sync') }),
      announce: async (transition) => {
        await publisher.publish('performanceAlert', transition, transition.alert.id);
        logger.warn({ alert: transition.alert }, `alert ${transition.state}: ${transition.alert.message}`);
      },
      onError: (error) => logger.warn({ err: error }, 'alert evaluation failed'),
    });
  }

  private async onEodComplete(date: string, source: string): Promise<void> {
    const request = await requestEodPipeline(
      {
        history: this.store.jobHistory,
        addPipeline: async (day) => (await this.producer.enqueue('eod-pipeline', { date: day })).id,
      },
      date,
    );
    this.logger.info(
      { date, source, outcome: request.outcome, job_id: request.jobId },
      `eod_complete for ${date} (${source}): ${request.outcome}`,
    );
  }

  async stop(): Promise<void> {
    await this.alerts?.stop();
    await this.instruments.stop();
    await this.listener?.stop();
    await this.producer.close();
    await this.flows.close();
    await this.db.destroy();
    await closeRedis(this.redis);
    this.logger.info('scheduler stopped');
  }
}
