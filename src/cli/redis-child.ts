import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { OutputTail, freePort, stopOnExit, type ChildService } from './child-service.js';

/** The line a user reads when tickforge needs Redis and cannot start one. */
export const INSTALL_REDIS =
  'install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) so tickforge can start redis-server itself, or point REDIS_URL at a running Redis';

/** The `redis-server` binary on the PATH, or undefined. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const names = process.platform === 'win32' ? ['redis-server.exe'] : ['redis-server'];
  for (const directory of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(directory, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; try the next directory
      }
    }
  }
  return undefined;
}

/** True when a Redis server answers PING at `url` within the deadline. */
export async function redisAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    // A server that wants a password (or refuses PING for another reason) is there all the same.
    return /NOAUTH|WRONGPASS|NOPERM/.test((error as Error).message);
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts `redis-server` as a child on a free loopback port, without persistence and with the
 * `noeviction` policy the queues need, and resolves once it answers PING.
 */
export async function startRedisServer(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<ChildService> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error(`redis-server is not on the PATH: ${INSTALL_REDIS}`);
  const port = await freePort();
  const tail = new OutputTail();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.setEncoding('utf8').on('data', (text: string) => tail.push(text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => tail.push(text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (running) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      unhook();
    })();
    return stopping;
  };
  const unhook = stopOnExit(stop);

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  try {
    for (;;) {
      const answer = await Promise.race([redisAnswers(url, 500), spawnFailed]);
      if (answer) break;
      if (!running) throw new Error(`redis-server exited at start:\n${tail}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}:\n${tail}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'Redis', url, stop };
}
