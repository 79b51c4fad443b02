import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadEnvFile } from './env-file.js';
import { eventStreamName } from './namespace.js';

/** Raised when an environment variable holds a value tickforge cannot use. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `../shared/data` beside the project checkout (this file compiles to dist/src/shared/config.js). */
const SHARED_DATA_DIR = fileURLToPath(new URL('../../../../shared/data', import.meta.url));
/** Where import files go unless TICKFORGE_IMPORT_ROOTS says otherwise. */
export const DEFAULT_IMPORT_DIR = path.resolve('imports');

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .prefault(String(fallback));

const flag = z
  .enum(['0', '1', 'true', 'false'], { message: 'must be 0, 1, true or false' })
  .transform((value) => value === '1' || value === 'true')
  .prefault('0');

const url = (protocols: string[], fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

const identifier = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)')
    .default(fallback);

const token = z.string().min(16, 'must be at least 16 characters').optional();

/** A list in one variable, split on `separator`; absent means "not set". */
const list = (separator: string, pattern?: { regex: RegExp; message: string }) => {
  const text = pattern ? z.string().trim().regex(pattern.regex, pattern.message) : z.string().trim();
  return text.optional().transform((value) => value?.split(separator).filter(Boolean));
};

/** One environment variable: its name, how it is read (with its default) and what it means. */
interface Setting<S extends z.ZodType = z.ZodType> {
  env: string;
  schema: S;
  description: string;
  /** Never shown in a message: a token. */
  secret?: boolean;
  /** How the value is written back into an environment (lists join again). */
  separator?: string;
}

const setting = <S extends z.ZodType>(
  env: string,
  schema: S,
  description: string,
  extra: Pick<Setting, 'secret' | 'separator'> = {},
): Setting<S> => ({ env, schema, description, ...extra });

/**
 * Every setting tickforge reads, once: the config's field, its environment variable, how the
 * value is checked (and its default), and what it means. The Config type, the validation, the
 * environment of child processes and the configuration docs all come from this table.
 */
export const SETTINGS = {
  databaseUrl: setting(
    'DATABASE_URL',
    url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/tickforge'),
    'PostgreSQL connection',
  ),
  dbSchema: setting('TICKFORGE_DB_SCHEMA', identifier('public'), 'schema of the production tables'),
  sandboxSchema: setting('TICKFORGE_SANDBOX_SCHEMA', identifier('sandbox'), 'schema synthetic scenario data goes to'),
  sandboxSchemaLimit: setting(
    'TICKFORGE_SANDBOX_SCHEMA_LIMIT',
    integer(20, 1, 1_000),
    'most sandbox schemas scenario runs may create (each holds about 53 tables); a run into a new one beyond it is refused',
  ),
  dbPoolMax: setting('TICKFORGE_DB_POOL_MAX', integer(10, 1, 200), 'PostgreSQL connections per process'),
  redisUrl: setting('REDIS_URL', url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'), 'Redis connection'),
  redisClusterNodes: setting(
    'REDIS_CLUSTER_NODES',
    list(',', {
      regex: /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/,
      message: 'must be a comma-separated list of host:port seed nodes',
    }),
    'Redis Cluster seed nodes (host:port, comma-separated); when set, tickforge connects to the cluster and REDIS_URL only lends its user, password and TLS',
    { separator: ',' },
  ),
  redisSentinels: setting(
    'REDIS_SENTINELS',
    list(',', {
      regex: /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/,
      message: 'must be a comma-separated list of host:port sentinels',
    }),
    'Redis Sentinel addresses (host:port, comma-separated); when set, tickforge asks them where the master named REDIS_SENTINEL_NAME is and follows its failovers, and REDIS_URL only lends its user, password, TLS and database',
    { separator: ',' },
  ),
  redisSentinelName: setting(
    'REDIS_SENTINEL_NAME',
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.-]+$/, 'may hold letters, digits and _ . - only')
      .default('mymaster'),
    'the master name the sentinels monitor (sentinel monitor <name> …); used only with REDIS_SENTINELS',
  ),
  prefix: setting(
    'TICKFORGE_PREFIX',
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_{}.-]+$/, 'may hold letters, digits and _ { } . - only (no ":")')
      .default('tickforge'),
    "the deployment's namespace: prefixes every Redis key, channel and stream it uses (tickforge keeps the TickStock channel names); use a hash tag such as {tickforge} on Redis Cluster",
  ),
  eventStream: setting(
    'TICKFORGE_EVENT_STREAM',
    z.string().trim().min(1).optional(),
    'Redis stream every event is also appended to (default: tickstock.events in the default namespace, <TICKFORGE_PREFIX>:tickstock.events in any other)',
  ),
  eventStreamMaxLen: setting(
    'TICKFORGE_EVENT_STREAM_MAXLEN',
    integer(100_000, 1),
    'approximate length the event stream is trimmed to',
  ),
  apiToken: setting(
    'TICKFORGE_API_TOKEN',
    token,
    'bearer token for the API and Bull Board (16+ characters); the web process refuses to start without it unless TICKFORGE_INSECURE_DEV=1',
    { secret: true },
  ),
  readToken: setting(
    'TICKFORGE_READ_TOKEN',
    token,
    'a token that may query but not enqueue or retry (and sees a read-only Bull Board)',
    { secret: true },
  ),
  insecureDev: setting('TICKFORGE_INSECURE_DEV', flag, '1 lets the web process run without a token (development only)'),
  port: setting('PORT', integer(3000, 0, 65_535), 'HTTP port of the web process'),
  bodyLimit: setting(
    'TICKFORGE_BODY_LIMIT',
    z
      .string()
      .trim()
      .regex(/^\d+(b|kb|mb)$/i, 'must look like 512kb or 1mb')
      .default('1mb'),
    'largest JSON request body',
  ),
  rateLimitPerMinute: setting(
    'TICKFORGE_RATE_LIMIT',
    integer(6_000, 1),
    'jobs one token may enqueue per minute, counted in Redis across all web processes',
  ),
  wsMaxBufferedBytes: setting(
    'TICKFORGE_WS_MAX_BUFFERED_BYTES',
    integer(8 * 1024 * 1024, 64 * 1024),
    'bytes a WebSocket client may leave unread before the web process drops it (close 4008)',
  ),
  wsHeartbeatMs: setting(
    'TICKFORGE_WS_HEARTBEAT_MS',
    integer(30_000, 100),
    'how often the web process pings each WebSocket client; one that has not answered the previous ping is dropped',
  ),
  wsCachePerformanceMs: setting(
    'TICKFORGE_WS_CACHE_PERFORMANCE_MS',
    integer(10_000, 100),
    'how often cache_performance goes to the WebSocket clients subscribed to it',
  ),
  workerConcurrency: setting(
    'TICKFORGE_WORKER_CONCURRENCY',
    integer(Math.max(2, os.availableParallelism() * 2), 1, 1000),
    'jobs one worker process runs at once, per queue (default 2 × cores)',
  ),
  poolThreads: setting(
    'TICKFORGE_POOL_THREADS',
    integer(os.availableParallelism(), 1, 256),
    'threads of the kernel pool (default: cores)',
  ),
  shutdownTimeoutMs: setting(
    'TICKFORGE_SHUTDOWN_TIMEOUT_MS',
    integer(25_000, 0),
    'how long a stopping worker waits for running jobs before handing them back',
  ),
  lockDurationMs: setting('TICKFORGE_LOCK_DURATION_MS', integer(30_000, 1_000), 'BullMQ job lock duration'),
  stalledIntervalMs: setting('TICKFORGE_STALLED_INTERVAL_MS', integer(30_000, 1_000), 'BullMQ stalled-job check interval'),
  queues: setting(
    'TICKFORGE_QUEUES',
    list(',', { regex: /^[a-z-]+(,[a-z-]+)*$/, message: 'must be a comma-separated list of queue names' }),
    'comma-separated queues this worker process serves (default: every queue)',
    { separator: ',' },
  ),
  eodCatchUpSessions: setting(
    'TICKFORGE_EOD_CATCHUP_SESSIONS',
    integer(5, 0, 250),
    'how many recent NYSE sessions the scheduler checks at start for a missed end-of-day pipeline (0: no catch-up)',
  ),
  migrationWaitMs: setting(
    'TICKFORGE_MIGRATION_WAIT_MS',
    integer(120_000, 0),
    'how long a worker or scheduler starting on a schema with pending migrations waits for them (the Procfile web applies them) before giving up',
  ),
  alertEodMinutes: setting(
    'TICKFORGE_ALERT_EOD_MINUTES',
    integer(30, 1),
    'alert eod-late: minutes after its trigger by which the EOD pipeline must have finished',
  ),
  alertQueueWaitSeconds: setting(
    'TICKFORGE_ALERT_QUEUE_WAIT_SECONDS',
    integer(300, 1),
    "alert queue-wait: seconds a queue's oldest waiting job may wait",
  ),
  alertFailureRatePercent: setting(
    'TICKFORGE_ALERT_FAILURE_RATE_PERCENT',
    integer(10, 0, 100),
    "alert failure-rate: % of a queue's jobs that may fail for good over 15 minutes",
  ),
  alertFailureRateMinJobs: setting(
    'TICKFORGE_ALERT_FAILURE_RATE_MIN_JOBS',
    integer(5, 1),
    'alert failure-rate: fewest jobs finished over 15 minutes before a failure rate counts',
  ),
  alertJobP99Ms: setting(
    'TICKFORGE_ALERT_JOB_P99_MS',
    integer(600_000, 1),
    "alert job-p99: budget in ms for a job name's p99 duration over the last hour",
  ),
  alertJobP99Budgets: setting(
    'TICKFORGE_ALERT_JOB_P99_BUDGETS',
    list(',', { regex: /^[a-z-]+=\d+(,[a-z-]+=\d+)*$/, message: 'must look like eod-pipeline=1200000,import-bars=60000' }),
    'alert job-p99: per job name budgets in ms that override TICKFORGE_ALERT_JOB_P99_MS (name=ms,name=ms)',
    { separator: ',' },
  ),
  alertPostgresPoolPercent: setting(
    'TICKFORGE_ALERT_POSTGRES_POOL_PERCENT',
    integer(100, 1, 100),
    "alert postgres-pool: % of a process's PostgreSQL pool in use that counts as saturated",
  ),
  alertRedisMemoryMb: setting('TICKFORGE_ALERT_REDIS_MEMORY_MB', integer(1024, 1), 'alert redis-memory: MiB Redis may use'),
  backupDir: setting(
    'TICKFORGE_BACKUP_DIR',
    z.string().trim().min(1).default('backups'),
    'directory the scheduled backup job writes its pg_dump files to (relative to the working directory)',
  ),
  exportDir: setting(
    'TICKFORGE_EXPORT_DIR',
    z.string().trim().min(1).default('exports'),
    'directory the export-bars job writes its Arrow and Parquet files to (relative to the working directory)',
  ),
  backupKeep: setting('TICKFORGE_BACKUP_KEEP', integer(7, 1, 1000), 'how many of the newest backups the backup job keeps'),
  dataDir: setting(
    'TICKFORGE_DATA_DIR',
    z.string().trim().optional(),
    'the sample market data used by the demo and the tests (default ../shared/data beside the checkout, when present)',
  ),
  importRoots: setting(
    'TICKFORGE_IMPORT_ROOTS',
    list(path.delimiter),
    `directories (${path.delimiter}-separated) import jobs may read files from (default: the imports directory under the working directory, and the sample data)`,
    { separator: path.delimiter },
  ),
  etfFilters: setting(
    'TICKFORGE_ETF_FILTERS',
    z
      .string()
      .trim()
      .default('{}')
      .transform((text, context) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          context.addIssue({ code: 'custom', message: 'must be a JSON object such as {"bonds":{"min_avg_volume":1000000}}' });
          return z.NEVER;
        }
      })
      // The shape here; the themes and fields are checked by the universes feature when a worker starts.
      .pipe(z.record(z.string(), z.record(z.string(), z.number()))),
    'per-theme overrides of the ETF theme filters as JSON, e.g. {"bonds":{"min_avg_volume":1000000}} (fields min_aum, min_avg_volume, max_expense_ratio; default: the report\'s filters, see docs/universes.md)',
  ),
  cacheTtlDefault: setting(
    'CACHE_TTL_DEFAULT',
    integer(300, 1),
    'seconds a bars answer stays cached when it is neither historical nor market-hours data',
  ),
  cacheTtlHistorical: setting(
    'CACHE_TTL_HISTORICAL',
    integer(3_600, 1),
    'seconds a bars answer whose range ended before today (New York) stays cached',
  ),
  cacheTtlMarketHours: setting(
    'CACHE_TTL_MARKET_HOURS',
    integer(60, 1),
    'seconds a bars answer reaching into today stays cached while NYSE is open',
  ),
  cacheMemoryMaxBytes: setting(
    'CACHE_MEMORY_MAX_BYTES',
    integer(64 * 1024 * 1024, 0),
    'bytes of bars answers each web process keeps in its own memory (an LRU in front of Redis)',
  ),
  cacheRedisMaxBytes: setting(
    'CACHE_REDIS_MAX_BYTES',
    integer(256 * 1024 * 1024, 0),
    'bytes the bars cache may use in Redis; it evicts its own entries to stay under, so queries cannot fill the Redis the queues need',
  ),
  cacheMissRateLimit: setting(
    'CACHE_MISS_RATE_LIMIT',
    integer(600, 1),
    'bars answers one token may have computed (cache misses and streamed answers) per minute, across all web processes',
  ),
  cacheCompressMinBytes: setting(
    'CACHE_COMPRESS_MIN_BYTES',
    integer(16 * 1024, 0),
    'bars answers at least this large are cached gzipped (and sent so to clients that accept gzip)',
  ),
  logLevel: setting(
    'LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino log level',
  ),
} satisfies Record<string, Setting>;

type SettingKey = keyof typeof SETTINGS;
type Settings = { [K in SettingKey]: z.output<(typeof SETTINGS)[K]['schema']> };

/** The validated settings every tickforge process runs with (see SETTINGS for what each means). */
export type Config = Omit<Settings, 'importRoots' | 'eventStream'> & {
  /** Directories import jobs may read files from. */
  importRoots: string[];
  /** The event stream, derived from the namespace unless set. */
  eventStream: string;
};

const ENTRIES = Object.entries(SETTINGS) as Array<[SettingKey, Setting]>;

/** What an error message may show of a value: never a token, never a password inside a URL. */
function shown(entry: Setting, value: string): string {
  if (entry.secret) return `<${value.length} characters>`;
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

/**
 * Reads and validates the environment. An unusable value throws a ConfigError whose message
 * names the variable, so a process stops at start-up instead of failing later.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, entry] of ENTRIES) {
    const raw = env[entry.env];
    const given = raw === undefined || raw === '' ? undefined : raw;
    const parsed = entry.schema.safeParse(given);
    if (parsed.success) values[key] = parsed.data;
    else {
      for (const issue of parsed.error.issues)
        problems.push(`${entry.env}=${JSON.stringify(shown(entry, given ?? ''))}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const settings = values as Settings;
  if (settings.redisClusterNodes && settings.redisSentinels) {
    throw new ConfigError(
      'invalid configuration:\n  REDIS_SENTINELS: set together with REDIS_CLUSTER_NODES; a deployment uses either a cluster or a sentinel-watched master, not both',
    );
  }
  if (settings.redisClusterNodes && !/\{[^{}]+\}/.test(settings.prefix)) {
    throw new ConfigError(
      `invalid configuration:\n  TICKFORGE_PREFIX=${JSON.stringify(settings.prefix)}: must carry a hash tag such as {${settings.prefix}} when REDIS_CLUSTER_NODES is set, so that each namespace's keys share one hash slot`,
    );
  }
  const dataDir = settings.dataDir ?? (existsSync(SHARED_DATA_DIR) ? SHARED_DATA_DIR : undefined);
  return {
    ...settings,
    dataDir,
    // A dedicated directory, never the working or temporary directory: a write token must not be
    // able to have the worker read whatever lies there.
    importRoots: settings.importRoots ?? [DEFAULT_IMPORT_DIR, ...(dataDir ? [dataDir] : [])],
    eventStream: settings.eventStream ?? eventStreamName(settings.prefix),
  };
}

/** The environment variables that make another process load `config` (lists joined again). */
export function configEnvironment(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, entry] of ENTRIES) {
    const value = config[key];
    if (value === undefined) continue;
    env[entry.env] = Array.isArray(value)
      ? value.join(entry.separator ?? ',')
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  }
  return env;
}

/** Every setting's variable and meaning, in table order: what the configuration docs list. */
export function settingsTable(): Array<{ env: string; description: string }> {
  return ENTRIES.map(([, entry]) => ({ env: entry.env, description: entry.description }));
}

/**
 * loadConfig for a process entry point: reads `.env` first when present (variables already set
 * win), then prints any problem and exits 78 (EX_CONFIG).
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    if (env === process.env) loadEnvFile();
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tickforge: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
