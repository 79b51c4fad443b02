import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Raised when an environment variable holds a value tickforge cannot use. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `../shared/data` beside the project checkout (this file compiles to dist/src/config.js). */
const SHARED_DATA_DIR = fileURLToPath(new URL('../../../../shared/data', import.meta.url));

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

const envSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/tickforge'),
  TICKFORGE_DB_SCHEMA: identifier('public'),
  TICKFORGE_SANDBOX_SCHEMA: identifier('sandbox'),
  TICKFORGE_DB_POOL_MAX: integer(10, 1, 200),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  TICKFORGE_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'may hold letters, digits and _ { } . - only (no ":")')
    .default('tickforge'),
  TICKFORGE_EVENT_STREAM: z.string().trim().min(1).default('tickstock.events'),
  TICKFORGE_EVENT_STREAM_MAXLEN: integer(100_000, 1),
  TICKFORGE_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TICKFORGE_READ_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TICKFORGE_INSECURE_DEV: flag,
  PORT: integer(3000, 0, 65_535),
  TICKFORGE_BODY_LIMIT: z
    .string()
    .trim()
    .regex(/^\d+(b|kb|mb)$/i, 'must look like 512kb or 1mb')
    .default('1mb'),
  TICKFORGE_RATE_LIMIT: integer(6_000, 1),
  TICKFORGE_WORKER_CONCURRENCY: integer(Math.max(2, os.availableParallelism() * 2), 1, 1000),
  TICKFORGE_POOL_THREADS: integer(os.availableParallelism(), 1, 256),
  TICKFORGE_SHUTDOWN_TIMEOUT_MS: integer(25_000, 0),
  TICKFORGE_LOCK_DURATION_MS: integer(30_000, 1_000),
  TICKFORGE_STALLED_INTERVAL_MS: integer(30_000, 1_000),
  TICKFORGE_QUEUES: z
    .string()
    .trim()
    .regex(/^[a-z-]+(,[a-z-]+)*$/, 'must be a comma-separated list of queue names')
    .optional(),
  TICKFORGE_EOD_CATCHUP_SESSIONS: integer(5, 0, 250),
  TICKFORGE_DATA_DIR: z.string().trim().optional(),
  TICKFORGE_IMPORT_ROOTS: z.string().trim().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The validated settings every tickforge process runs with. */
export interface Config {
  databaseUrl: string;
  dbSchema: string;
  sandboxSchema: string;
  dbPoolMax: number;
  redisUrl: string;
  prefix: string;
  eventStream: string;
  eventStreamMaxLen: number;
  apiToken?: string;
  readToken?: string;
  insecureDev: boolean;
  port: number;
  bodyLimit: string;
  /** Jobs one token may enqueue per minute, across every web process. */
  rateLimitPerMinute: number;
  workerConcurrency: number;
  poolThreads: number;
  shutdownTimeoutMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** Queues this worker process serves; undefined means every queue. */
  queues?: string[];
  /** How many recent sessions the scheduler checks at start for a missed end-of-day pipeline (0: none). */
  eodCatchUpSessions: number;
  /** The sample market data (`../shared/data` beside the project), when present. */
  dataDir?: string;
  /** Directories import jobs may read files from. */
  importRoots: string[];
  logLevel: string;
}

/** What an error message may show of a value: never a token, never a password inside a URL. */
function shown(name: string, value: string): string {
  if (/TOKEN/.test(name)) return `<${value.length} characters>`;
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

/**
 * Reads and validates the environment. An unusable value throws a ConfigError whose message
 * names the variable, so a process stops at start-up instead of failing later.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${JSON.stringify(shown(name, relevant[name] ?? ''))}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const dataDir = e.TICKFORGE_DATA_DIR ?? (existsSync(SHARED_DATA_DIR) ? SHARED_DATA_DIR : undefined);
  return {
    databaseUrl: e.DATABASE_URL,
    dbSchema: e.TICKFORGE_DB_SCHEMA,
    sandboxSchema: e.TICKFORGE_SANDBOX_SCHEMA,
    dbPoolMax: e.TICKFORGE_DB_POOL_MAX,
    redisUrl: e.REDIS_URL,
    prefix: e.TICKFORGE_PREFIX,
    eventStream: e.TICKFORGE_EVENT_STREAM,
    eventStreamMaxLen: e.TICKFORGE_EVENT_STREAM_MAXLEN,
    apiToken: e.TICKFORGE_API_TOKEN,
    readToken: e.TICKFORGE_READ_TOKEN,
    insecureDev: e.TICKFORGE_INSECURE_DEV,
    port: e.PORT,
    bodyLimit: e.TICKFORGE_BODY_LIMIT,
    rateLimitPerMinute: e.TICKFORGE_RATE_LIMIT,
    workerConcurrency: e.TICKFORGE_WORKER_CONCURRENCY,
    poolThreads: e.TICKFORGE_POOL_THREADS,
    shutdownTimeoutMs: e.TICKFORGE_SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.TICKFORGE_LOCK_DURATION_MS,
    stalledIntervalMs: e.TICKFORGE_STALLED_INTERVAL_MS,
    queues: e.TICKFORGE_QUEUES?.split(','),
    eodCatchUpSessions: e.TICKFORGE_EOD_CATCHUP_SESSIONS,
    dataDir,
    importRoots: e.TICKFORGE_IMPORT_ROOTS?.split(path.delimiter).filter(Boolean) ?? [
      process.cwd(),
      os.tmpdir(),
      ...(dataDir ? [dataDir] : []),
    ],
    logLevel: e.LOG_LEVEL,
  };
}

/** loadConfig for a process entry point: prints the problem and exits 78 (EX_CONFIG). */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tickforge: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
