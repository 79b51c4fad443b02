import type { BackupResult } from '../src/backup/backup.js';
import type { WrittenSeries } from '../src/bars/announce.js';
import type { BarsCache } from '../src/bars/cache.js';
import type { Kernels } from '../src/kernels/pool.js';
import type { ChannelKey, EventPayloads } from '../src/notify/channels.js';
import type { ChildJob } from '../src/queues/flows.js';
import type { QueueName } from '../src/queues/names.js';
import type { EnqueueFn } from '../src/queues/producer.js';
import type { JobName, ResultOf } from '../src/queues/registry.js';
import type { Logger } from '../src/shared/logger.js';
import type { Store } from '../src/store/store.js';
import type { EtfFilterOverrides } from '../src/universes/etf-themes.js';

/** What a job knows about itself while it runs. */
export interface JobInfo {
  id: string;
  name: string;
  queue: QueueName;
  /** 1-based number of this attempt. */
  attempt: number;
  attempts: number;
  /** When the job was due: its scheduler slot for scheduled jobs, else when it was added (epoch ms). */
  scheduledFor: number;
  /** The id of the root job or API request this job descends from; its own id when it is a root. */
  correlationId: string;
}

/**
 * BullMQ flow children of the running job. `waitForChildren` parks the job without holding
 * a worker slot; once every child has finished BullMQ runs the handler again from the top,
 * so a handler that spawns children reads its children's results first and adds only what is
 * missing.
 */
export interface ChildJobs {
  /** Adds children of one job kind (validated like enqueue) atomically, under this job. */
  add<N extends JobName>(children: readonly ChildJob<N>[]): Promise<void>;
  /** Ids of the children that completed. */
  completed(): Promise<Set<string>>;
  /** What a completed child returned, typed by its job name; undefined while it has not completed. */
  resultOf<N extends JobName>(child: { name: N; jobId: string }): Promise<ResultOf<N> | undefined>;
  /** Failure reasons of the children that failed for good, by child job id. */
  failures(): Promise<Map<string, string>>;
  /** Parks the job until its children finish (the handler is re-run then); returns at once if none is pending. */
  waitForChildren(): Promise<void>;
}

/**
 * The events a job announces, after the commit they describe; each is published with the
 * job's correlation id: the id of the root job (or API request) the job descends from, else
 * its own.
 */
export interface JobEvents {
  /** Publishes on a channel; the compiler holds `data` to the channel's payload type. */
  publish<K extends ChannelKey>(channel: K, data: EventPayloads[K]): Promise<void>;
  /**
   * Announces written bars: bumps the cache for exactly these series, then publishes
   * tickstock.bars.updated. Every job that writes bars calls this after its commit.
   */
  barsWritten(series: readonly WrittenSeries[]): Promise<void>;
}

/**
 * What a handler receives: its own job, the store of tickforge's tables, the events it may
 * announce, the kernel pool, a job-scoped logger, progress reporting and an abort signal.
 */
export interface JobContext {
  job: JobInfo;
  /** The production schema's tables; `store.forSchema(name)` for a sandbox. */
  store: Store;
  events: JobEvents;
  kernels: Kernels;
  /** The bar-query cache, for jobs that answer bar queries ahead of readers. */
  barsCache: BarsCache;
  /** The schema scenario data goes to instead of production tables. */
  sandboxSchema: string;
  /** Most sandbox schemas scenario runs may create (TICKFORGE_SANDBOX_SCHEMA_LIMIT). */
  sandboxSchemaLimit: number;
  /** Directories a job may read input files from. */
  importRoots: string[];
  /** The directory export jobs write their files to (TICKFORGE_EXPORT_DIR). */
  exportDir: string;
  /** Per-theme overrides of the ETF theme filters (TICKFORGE_ETF_FILTERS). */
  etfFilterOverrides: EtfFilterOverrides;
  /** Backups of tickforge's schemas to the configured directory, with its retention. */
  backups: { write(signal?: AbortSignal): Promise<BackupResult> };
  logger: Logger;
  /** Aborted when the job is cancelled or the worker shuts down; pass it to kernels.run. */
  signal: AbortSignal;
  /**
   * Reports percent done (0–100) with the step in words (it also goes to the job log) to Bull
   * Board, SSE and the WebSocket, with an estimated completion from the job's rate so far. The
   * symbol defaults to the one the payload names; a job over many symbols names the current one.
   */
  progress(percent: number, step?: string, detail?: { symbol?: string }): Promise<void>;
  /** Appends a line to the job's log (Bull Board shows it). */
  log(message: string): Promise<void>;
  /** Adds a job that carries this job's correlation id. */
  enqueue: EnqueueFn;
  children: ChildJobs;
}
