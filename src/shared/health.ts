import { pingNamespace, type RedisClient } from './redis.js';
import type { Config } from './config.js';
import { pendingMigrations, type Knex } from './db.js';

/** Each dependency a process needs: 'ok', or what is wrong with it. */
export interface Readiness {
  redis: string;
  postgres: string;
  migrations: string;
}

/** The promise's outcome, or a rejection naming `what` when it takes longer than `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A connection URL with its password hidden, for messages. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

const problem = (check: PromiseSettledResult<unknown>, variable: string, url: string) =>
  check.status === 'fulfilled' ? 'ok' : `${String((check.reason as Error).message)} (${variable}=${redactedUrl(url)})`;

/** Redis, PostgreSQL and the migrations, each 'ok' or what is wrong, naming the variable that points at it. */
export async function readiness(
  redis: RedisClient,
  db: Knex,
  config: Pick<Config, 'redisUrl' | 'databaseUrl' | 'dbSchema' | 'prefix'>,
): Promise<Readiness> {
  const [redisCheck, postgresCheck, migrationCheck] = await Promise.allSettled([
    withDeadline(pingNamespace(redis, config.prefix), 2_000, 'Redis'),
    withDeadline(db.raw('SELECT 1'), 2_000, 'PostgreSQL'),
    withDeadline(pendingMigrations(db, config.dbSchema), 2_000, 'the migration check'),
  ]);
  const migrations =
    migrationCheck.status === 'rejected'
      ? String((migrationCheck.reason as Error).message)
      : migrationCheck.value.length === 0
        ? 'ok'
        : `${migrationCheck.value.length} pending: run npx tickforge migrate`;
  return {
    redis: problem(redisCheck, 'REDIS_URL', config.redisUrl),
    postgres: problem(postgresCheck, 'DATABASE_URL', config.databaseUrl),
    migrations,
  };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

/** The errors a connection attempt raised: one, or each of an AggregateError (every address tried). */
function connectionErrors(error: unknown): Array<{ code?: string; address?: string; port?: number; hostname?: string }> {
  const list = error instanceof AggregateError ? [...error.errors, error] : [error];
  return list.filter((e): e is { code?: string } => typeof e === 'object' && e !== null) as Array<{
    code?: string;
    address?: string;
    port?: number;
    hostname?: string;
  }>;
}

/**
 * Names the setting behind an error that is a failed connection to PostgreSQL or Redis
 * (`cannot reach PostgreSQL at DATABASE_URL=postgres://…: ECONNREFUSED`), or undefined for any
 * other error. The server is told apart by the host and port it tried.
 */
export function describeUnreachable(error: unknown, config: Pick<Config, 'redisUrl' | 'databaseUrl'>): string | undefined {
  const failed = connectionErrors(error).find((e) => e.code !== undefined && CONNECTION_CODES.has(e.code));
  if (!failed) return undefined;
  const targets = [
    { name: 'PostgreSQL', variable: 'DATABASE_URL', url: config.databaseUrl, port: '5432' },
    { name: 'Redis', variable: 'REDIS_URL', url: config.redisUrl, port: '6379' },
  ];
  const matches = targets.filter((target) => {
    const url = new URL(target.url);
    const port = url.port || target.port;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return (
      (failed.port !== undefined && String(failed.port) === port) ||
      (failed.hostname !== undefined && failed.hostname === host && failed.port === undefined)
    );
  });
  if (matches.length !== 1) return undefined;
  const [target] = matches;
  return `cannot reach ${target.name} at ${target.variable}=${redactedUrl(target.url)}: ${failed.code}`;
}

/**
 * Resolves once the schema has no pending migration, checking every `everyMs`; says once what
 * it waits for. Lets a process started beside the one that migrates (the Procfile's web)
 * wait for it instead of failing. Rejects after `timeoutMs` naming the command to run.
 */
export async function untilMigrated(
  db: Knex,
  schema: string,
  say: (line: string) => void,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  let told = false;
  for (;;) {
    const pending = await pendingMigrations(db, schema);
    if (pending.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`database schema ${schema} is not migrated (${pending.length} pending); run: npx tickforge migrate`);
    if (!told)
      say(
        `waiting for ${pending.length} pending migrations in schema ${schema} (npx tickforge migrate; the Procfile's web runs it)`,
      );
    told = true;
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 2_000));
  }
}
