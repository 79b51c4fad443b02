import os from 'node:os';
import { DelayedError, FlowProducer, MetricsTime, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { HANDLERS, pairHandlers } from '../jobs/index.js';
import type { ChildJobs, JobContext, JobEvents } from '../jobs/context.js';
import type { JobHandler } from '../jobs/handler.js';
import { announceBars } from '../src/bars/announce.js';
import { backupSettings, writeBackup } from '../src/backup/backup.js';
import { BarsCache, cacheOptions } from '../src/bars/cache.js';
import { KernelPool } from '../src/kernels/pool.js';
import { etfFilterOverrides, type EtfFilterOverrides } from '../src/universes/etf-themes.js';
import { createJobMetrics, type JobMetrics } from '../src/metrics/job-metrics.js';
import { ProcessInstruments } from '../src/metrics/instruments.js';
import { CancelListener } from '../src/queues/cancel.js';
import { WorkerHeartbeat } from '../src/queues/heartbeat.js';
import { untilMigrated } from '../src/shared/health.js';
import { Publisher } from '../src/notify/publisher.js';
import type { JobContract } from '../src/queues/contract.js';
import { toFlowJob } from '../src/queues/flows.js';
import { isQueueName, type QueueName } from '../src/queues/names.js';
import { Producer, correlationOf } from '../src/queues/producer.js';
import { estimateCompletion, payloadSymbol, type JobProgress } from '../src/queues/progress.js';
import { CONTRACTS, activeQueues } from '../src/queues/registry.js';
import type { Config } from '../src/shared/config.js';
import { createDb, dbSettings, type Knex } from '../src/shared/db.js';
import { errorMessage, isRetryable } from '../src/shared/errors.js';
import { JobHistoryRepository } from '../src/shared/job-history.repository.js';
import type { Logger } from '../src/shared/logger.js';
import { closeRedis, createRedis, waitForRedis, type RedisClient } from '../src/shared/redis.js';
import { toIssues } from '../src/shared/validation.js';
import { Store } from '../src/store/store.js';

export interface WorkerRuntimeOptions {
  config: Config;
  logger: Logger;
  /** The handlers to serve, paired with the contracts of the registry; every handler by default. */
  handlers?: readonly JobHandler[];
}

/** Why a handler's signal fired when the worker is shutting down. */
export class ShutdownError extends Error {
  constructor() {
    super('worker is shutting down');
    this.name = 'ShutdownError';
  }
}

/** How long handlers get to hand their jobs back after the shutdown deadline aborted them. */
const HAND_BACK_GRACE_MS = 5_000;

/** Re-keys BullMQ's per-child maps (`<prefix>:<queue>:<id>`; ids never contain ':') by child id. */
function byChildId<T>(values: Record<string, T>): Map<string, T> {
  return new Map(Object.entries(values).map(([key, value]) => [key.slice(key.lastIndexOf(':') + 1), value]));
}

/** Races a promise against a timer; true when the promise settled first. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A worker process's moving parts: one BullMQ Worker per queue, one shared kernel pool, the
 * database and Redis connections, history and metrics. `stop` drains it within the
 * configured deadline.
 */
export class WorkerRuntime {
  readonly workers: Worker[] = [];
  readonly metrics: JobMetrics;
  readonly id = `${os.hostname()}:${process.pid}`;
  /** The instance label of this worker's own figures, as the comprehensive health names it. */
  readonly instance: string;
  private readonly handlers: Map<string, JobHandler>;
  private readonly store: Store;
  private readonly shutdown = new AbortController();
  private readonly active = new Map<string, Job>();
  /** Jobs whose final failure `process` has recorded, until BullMQ reports it (see createWorker). */
  private readonly recordedFailures = new Set<string>();
  private readonly history: JobHistoryRepository;
  private readonly publisher: Publisher;
  private readonly producer: Producer;
  private readonly flows: FlowProducer;
  private readonly instruments: ProcessInstruments;
  private readonly cancelSubscriber: RedisClient;
  private readonly cancels: CancelListener;
  private readonly barsCache: BarsCache;
  private heartbeat?: WorkerHeartbeat;
  private stopping?: Promise<void>;

  private constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    handlers: Map<string, JobHandler>,
    readonly db: Knex,
    private readonly redis: RedisClient,
    readonly pool: KernelPool,
    /** TICKFORGE_ETF_FILTERS, checked against the ETF themes. */
    private readonly etfFilterOverrides: EtfFilterOverrides,
  ) {
    this.handlers = handlers;
    this.instruments = new ProcessInstruments(redis, config.prefix, 'worker', db);
    this.instance = this.instruments.instance;
    this.store = new Store(db, config.dbSchema);
    this.history = new JobHistoryRepository(db, config.dbSchema);
    this.publisher = new Publisher(redis, {
      service: 'tickforge-worker',
      prefix: config.prefix,
      stream: config.eventStream,
      streamMaxLen: config.eventStreamMaxLen,
      onPublished: (channel) => this.instruments.eventPublished(channel),
    });
    this.producer = new Producer(redis, config.prefix);
    this.flows = new FlowProducer({ connection: redis, prefix: config.prefix });
    this.metrics = createJobMetrics(this.instruments.totals, this.instruments.own, {
      pool: () => ({ utilization: pool.utilization, queueSize: pool.queueSize, threads: pool.threads }),
      queues: () => this.workers.map((worker) => worker.name),
    });
    // Cancel requests come over pub/sub from any process (API, CLI): the worker holding the job aborts it.
    this.cancelSubscriber = createRedis(config, 'subscriber', 'tickforge-worker-cancel');
    this.cancelSubscriber.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
    this.cancels = new CancelListener(this.cancelSubscriber, config.prefix, (request) => {
      const worker = this.workers.find((candidate) => candidate.name === request.queue);
      if (worker?.cancelJob(request.id, request.reason)) {
        logger.info({ queue: request.queue, jobId: request.id }, `cancelling ${request.queue}/${request.id}: ${request.reason}`);
      }
    });
    // A worker warms Redis and bumps versions; it answers no request, so it keeps no answers in memory.
    this.barsCache = new BarsCache(redis, config.prefix, {
      ...cacheOptions(config),
      memoryMaxBytes: 0,
      metrics: { warmed: (keys) => this.metrics.cacheWarmed.inc(keys) },
    });
  }

  /**
   * Checks the registry, the database (reachable, migrations applied) and Redis, then starts
   * a Worker for every queue that has jobs (or the configured subset).
   */
  static async start({ config, logger, handlers = HANDLERS }: WorkerRuntimeOptions): Promise<WorkerRuntime> {
    const paired = pairHandlers(CONTRACTS as readonly JobContract[], handlers);
    const served = new Set([...paired.values()].map((handler) => handler.contract.queue));
    const wanted = config.queues ?? activeQueues();
    const unknown = wanted.filter((name) => !isQueueName(name) || !served.has(name));
    if (unknown.length > 0) {
      throw new Error(`TICKFORGE_QUEUES names queues without jobs: ${unknown.join(', ')}`);
    }
    const etfFilters = etfFilterOverrides(config.etfFilters);
    const db = createDb(dbSettings(config, logger));
    const redis = createRedis(config, 'worker', 'tickforge-worker');
    try {
      await untilMigrated(db, config.dbSchema, (line) => logger.info(line), { timeoutMs: config.migrationWaitMs });
      await waitForRedis(redis, 10_000);
    } catch (error) {
      await db.destroy();
      await closeRedis(redis);
      throw error;
    }
    const runtime = new WorkerRuntime(config, logger, paired, db, redis, new KernelPool(config.poolThreads), etfFilters);
    for (const queue of wanted as QueueName[]) runtime.workers.push(runtime.createWorker(queue));
    await Promise.all(runtime.workers.map((worker) => worker.waitUntilReady()));
    runtime.instruments.start();
    // Published at once, so the comprehensive health shows this worker from its first second.
    await runtime.instruments.flush();
    await runtime.cancels.start();
    runtime.heartbeat = new WorkerHeartbeat(redis, config.prefix, { id: runtime.id, queues: wanted }, (error) =>
      logger.warn({ err: error }, `renewing the worker heartbeat failed: ${error.message}`),
    );
    await runtime.heartbeat.start();
    logger.info(
      { queues: wanted, concurrency: config.workerConcurrency, poolThreads: config.poolThreads, prefix: config.prefix },
      `worker ${runtime.id} serving ${wanted.join(', ')}`,
    );
    return runtime;
  }

  private createWorker(queue: QueueName): Worker {
    // Every series of the queue starts at zero, so a rate or a failure share reads 0 rather than nothing.
    this.metrics.stalled.inc({ queue }, 0);
    for (const [name, handler] of this.handlers) {
      if (handler.contract.queue !== queue) continue;
      this.metrics.retried.inc({ queue, name }, 0);
      for (const outcome of ['completed', 'failed'] as const) this.metrics.finished.inc({ queue, name, outcome }, 0);
    }
    const worker = new Worker(queue, (job, token, signal) => this.process(queue, job, token, signal), {
      connection: this.redis,
      prefix: this.config.prefix,
      concurrency: this.config.workerConcurrency,
      lockDuration: this.config.lockDurationMs,
      stalledInterval: this.config.stalledIntervalMs,
      maxStalledCount: 1,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      name: this.id,
    });
    worker.on('error', (error) => this.logger.error({ queue, err: error }, `worker error on queue ${queue}: ${error.message}`));
    worker.on('failed', (job, error) => {
      // BullMQ fails some jobs without running the processor — one that stalled more than
      // maxStalledCount times fails when a worker next takes it — so the failures `process`
      // recorded are marked, and any other final failure is recorded here.
      if (!job?.id || !job.finishedOn || this.recordedFailures.delete(job.id)) return;
      const logger = () => this.logger.child({ job_id: job.id, job_name: job.name, queue, correlation_id: correlationOf(job) });
      const id = job.id;
      void this.finish(queue, job, 'failed', job.processedOn ?? Date.now(), Math.max(job.attemptsMade, 1), undefined, error, logger).finally(
        () => this.recordedFailures.delete(id),
      );
    });
    worker.on('stalled', (jobId) => {
      this.metrics.stalled.inc({ queue });
      this.logger.warn({ queue, jobId }, `job ${jobId} on ${queue} stalled (its lock expired) and goes back to wait`);
    });
    return worker;
  }

  private async process(
    queue: QueueName,
    job: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const attempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    const correlationId = correlationOf(job);
    // The job's logger and abort signal are made on first use: a short job that logs below the
    // level and never looks at its signal pays for neither.
    let jobLogger: Logger | undefined;
    const logger = (): Logger =>
      (jobLogger ??= this.logger.child({ job_id: job.id, job_name: job.name, queue, attempt, attempts, correlation_id: correlationId }));
    const started = Date.now();
    if (attempt === 1) {
      const waitedMs = Math.max(0, started - job.timestamp - (job.opts.delay ?? 0));
      this.metrics.wait.observe({ queue, name: job.name }, waitedMs / 1000);
      this.instruments.performance.time('job.wait', job.name, waitedMs);
    }
    const handler = this.handlers.get(job.name);
    if (!handler || handler.contract.queue !== queue) {
      const error = new UnrecoverableError(`no handler for job ${job.name} on queue ${queue}`);
      await this.finish(queue, job, 'failed', started, attempt, undefined, error, logger);
      throw error;
    }
    const parsed = handler.contract.schema.safeParse(job.data);
    if (!parsed.success) {
      const issues = toIssues(parsed.error)
        .map((issue) => `${issue.path || '(payload)'}: ${issue.message}`)
        .join('; ');
      const error = new UnrecoverableError(`invalid payload: ${issues}`);
      await this.finish(queue, job, 'failed', started, attempt, undefined, error, logger);
      throw error;
    }

    const defaultSymbol = payloadSymbol(parsed.data);
    let abort: AbortSignal | undefined;
    const shutdown = this.shutdown.signal;
    let reported: { percent: number; step: string | null; symbol: string | null } | undefined;
    const ctx: JobContext = {
      job: {
        id: job.id!,
        name: job.name,
        queue,
        attempt,
        attempts,
        scheduledFor: (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp,
        correlationId,
      },
      store: this.store,
      events: this.jobEvents(job.name, correlationId),
      kernels: this.pool,
      barsCache: this.barsCache,
      sandboxSchema: this.config.sandboxSchema,
      sandboxSchemaLimit: this.config.sandboxSchemaLimit,
      importRoots: this.config.importRoots,
      exportDir: this.config.exportDir,
      etfFilterOverrides: this.etfFilterOverrides,
      backups: { write: (signal) => writeBackup(backupSettings(this.config), new Date(), signal) },
      get logger() {
        return logger();
      },
      get signal() {
        return (abort ??= signal ? AbortSignal.any([signal, shutdown]) : shutdown);
      },
      progress: async (percent, step, detail) => {
        const progressPercent = Math.max(0, Math.min(100, Math.round(percent)));
        const currentStep = step ?? (progressPercent === 100 ? 'done' : null);
        const symbol = detail?.symbol ?? defaultSymbol;
        // A report that says nothing new (a loop reporting the same rounded percent) costs no round trip.
        if (reported?.percent === progressPercent && reported.step === currentStep && reported.symbol === symbol) return;
        reported = { percent: progressPercent, step: currentStep, symbol };
        const progress: JobProgress = {
          progressPercent,
          currentStep,
          symbol,
          // The job's own rate since this attempt started.
          estimatedCompletion: estimateCompletion(started, Date.now(), progressPercent),
        };
        await Promise.all([job.updateProgress(progress), step ? job.log(`${step} (${progressPercent}%)`) : undefined]);
      },
      log: async (message) => {
        await job.log(message);
      },
      // What a job adds is part of what caused the job.
      enqueue: (name, payload, options) => this.producer.enqueue(name, payload, { correlationId, ...options }),
      children: this.childJobs(job, token, correlationId),
    };

    this.active.set(job.id!, job);
    if (this.logger.isLevelEnabled('info')) logger().info(`${job.name} ${job.id} started, attempt ${attempt} of ${attempts}`);
    try {
      const result = await handler.handle(ctx, parsed.data);
      await this.finish(queue, job, 'completed', started, attempt, result, undefined, logger);
      return result;
    } catch (error) {
      if (error instanceof WaitingChildrenError) {
        logger().info(`${job.name} ${job.id} waits for its children`);
        throw error;
      }
      // An error that says retrying cannot help fails the job at once.
      if (!isRetryable(error) && !(error instanceof UnrecoverableError)) error = new UnrecoverableError(errorMessage(error));
      if (this.shutdown.signal.aborted && !signal?.aborted && !(error instanceof UnrecoverableError)) {
        // Cut short by shutdown, not by a fault of the job: hand it back without using an attempt.
        await job.moveToDelayed(Date.now(), token);
        logger().warn(`${job.name} ${job.id} handed back to the queue at shutdown`);
        throw new DelayedError();
      }
      if (signal?.aborted && !(error instanceof UnrecoverableError)) {
        // Cancelled on purpose (worker.cancelJob): final, never retried.
        error = new UnrecoverableError(`cancelled: ${String(signal.reason ?? 'no reason given')}`);
      }
      const final = error instanceof UnrecoverableError || attempt >= attempts;
      if (final) await this.finish(queue, job, 'failed', started, attempt, undefined, error, logger);
      else {
        this.metrics.retried.inc({ queue, name: job.name });
        this.timeAttempt(queue, job.name, 'failed', Date.now() - started);
        logger().warn(
          { err: error },
          `${job.name} ${job.id} failed attempt ${attempt} of ${attempts}, will retry: ${errorMessage(error)}`,
        );
      }
      throw error;
    } finally {
      this.active.delete(job.id!);
    }
  }

  /** The events a job announces: published with its correlation id (see JobEvents). */
  private jobEvents(name: string, correlationId: string): JobEvents {
    const correlation = { id: correlationId, name };
    return {
      publish: async (channel, data) => {
        await this.publisher.publish(channel, data, correlation.id);
      },
      barsWritten: (series) => announceBars(this.barsCache, this.publisher, correlation, series),
    };
  }

  /** The flow children of a running job (see ChildJobs). */
  private childJobs(job: Job, token: string | undefined, correlationId: string): ChildJobs {
    return {
      add: async (children) => {
        const parent = { id: job.id!, queue: job.queueQualifiedName };
        const flows = children.map((child) => {
          const flow = toFlowJob(child, correlationId);
          return { ...flow, opts: { ...flow.opts, parent } };
        });
        await this.flows.addBulk(flows);
      },
      completed: async () => new Set(byChildId(await job.getChildrenValues<unknown>()).keys()),
      resultOf: async (child) => byChildId(await job.getChildrenValues()).get(child.jobId),
      failures: async () => byChildId(await job.getIgnoredChildrenFailures()),
      waitForChildren: async () => {
        if (token === undefined) throw new Error(`${job.name} ${job.id} has no lock token and cannot wait for children`);
        if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
      },
    };
  }

  /** Records a job's final outcome: history row, metrics, and for failures an error event. */
  private async finish(
    queue: QueueName,
    job: Job,
    outcome: 'completed' | 'failed',
    started: number,
    attempt: number,
    result: unknown,
    error: unknown,
    /** The job's logger, made when first called. */
    jobLogger: () => Logger,
  ): Promise<void> {
    const finished = Date.now();
    this.metrics.finished.inc({ queue, name: job.name, outcome });
    this.timeAttempt(queue, job.name, outcome, finished - started);
    const recording = this.history.record({
      queue,
      jobId: job.id!,
      correlationId: correlationOf(job),
      enqueuedAt: new Date(job.timestamp),
      name: job.name,
      outcome,
      attempts: attempt,
      startedAt: new Date(started),
      finishedAt: new Date(finished),
      durationMs: finished - started,
      summary: result,
      error: error === undefined ? undefined : errorMessage(error),
    });
    if (outcome === 'completed') {
      // A completion whose history row cannot be written fails the attempt; the retry is idempotent.
      await recording;
      if (this.logger.isLevelEnabled('info')) {
        jobLogger().info({ duration_ms: finished - started }, `${job.name} ${job.id} completed on attempt ${attempt}`);
      }
      return;
    }
    this.recordedFailures.add(job.id!);
    const logger = jobLogger();
    logger.error({ err: error }, `${job.name} ${job.id} failed for good on attempt ${attempt}: ${errorMessage(error)}`);
    // The job's own error is what the failure must report, even when its history row cannot be written.
    await recording.catch((historyError: unknown) => logger.warn({ err: historyError }, 'could not write the job history row'));
    await this.publisher
      .publish(
        'advancedError',
        { queue, job_id: job.id!, job_name: job.name, attempts: attempt, reason: errorMessage(error) },
        correlationOf(job),
      )
      .catch((publishError: unknown) => logger.warn({ err: publishError }, 'could not publish the failure event'));
  }

  /** An attempt's processing time, for /metrics and the performance figures. */
  private timeAttempt(queue: QueueName, name: string, outcome: 'completed' | 'failed', durationMs: number): void {
    this.metrics.duration.observe({ queue, name, outcome }, durationMs / 1000);
    this.instruments.performance.time('job.duration', name, durationMs);
    this.instruments.performance.count('operations', 'worker');
    if (outcome === 'failed') this.instruments.performance.count('errors', 'worker');
  }

  /** Publishes this process's metrics now instead of at the next interval. */
  flushMetrics(): Promise<void> {
    return this.instruments.flush();
  }

  /** Jobs this process is running right now. */
  get inFlight(): number {
    return this.active.size;
  }

  /**
   * Stops taking jobs and waits for the running ones up to the shutdown deadline; then aborts
   * them so they hand their jobs back, and closes the pool, queues, database and Redis.
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    const deadline = this.config.shutdownTimeoutMs;
    this.logger.info(`stopping: no new jobs; waiting up to ${deadline} ms for ${this.active.size} running`);
    // Withdrawn first: a draining worker no longer counts as serving its queues.
    await this.heartbeat?.stop();
    const closing = Promise.all(this.workers.map((worker) => worker.close()));
    if (!(await settlesWithin(closing, deadline))) {
      this.logger.warn(`deadline passed with ${this.active.size} jobs running; handing them back`);
      this.shutdown.abort(new ShutdownError());
      if (!(await settlesWithin(closing, HAND_BACK_GRACE_MS))) {
        this.logger.warn(`${this.active.size} jobs did not hand back; their locks expire and another worker takes them`);
        await Promise.all(this.workers.map((worker) => worker.close(true)));
      }
    }
    await this.instruments.stop();
    await closeRedis(this.cancelSubscriber);
    await this.pool.destroy();
    await this.producer.close();
    await this.flows.close();
    await this.db.destroy();
    await closeRedis(this.redis);
    this.logger.info('worker stopped');
  }
}
