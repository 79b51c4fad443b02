import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildService } from '../../src/cli/child-service.js';
import { postgresAnswers, startEmbeddedPostgres } from '../../src/cli/embedded-postgres.js';
import { redisAnswers, startRedisServer } from '../../src/cli/redis-child.js';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tickforge_test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Makes `npm test` work on a machine with only Node and redis-server: when the test PostgreSQL
 * or Redis does not answer, starts an embedded PostgreSQL (temporary data directory) or a
 * redis-server child and points TICKFORGE_TEST_DATABASE_URL / TICKFORGE_TEST_REDIS_URL at them,
 * before any test module reads those. Returns the stop of what it started.
 */
export async function provideTestServices(say: (line: string) => void): Promise<() => Promise<void>> {
  const started: ChildService[] = [];
  let directory: string | undefined;
  const redisUrl = process.env.TICKFORGE_TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  if (!(await redisAnswers(redisUrl))) {
    const redis = await startRedisServer();
    started.push(redis);
    process.env.TICKFORGE_TEST_REDIS_URL = redis.url;
    say(`no Redis at ${redisUrl}: the tests use a redis-server started for them (${redis.url})`);
  }
  const databaseUrl = process.env.TICKFORGE_TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (!(await postgresAnswers(databaseUrl))) {
    directory = await mkdtemp(path.join(os.tmpdir(), 'tickforge-test-pg-'));
    // As root the server runs as the postgres user, which must reach the directory.
    await chmod(directory, 0o755);
    const postgres = await startEmbeddedPostgres({ directory, database: 'tickforge_test', say });
    started.push(postgres);
    process.env.TICKFORGE_TEST_DATABASE_URL = postgres.url;
    say(`no PostgreSQL at ${databaseUrl}: the tests use an embedded PostgreSQL started for them`);
  }
  return async () => {
    for (const service of started.reverse()) await service.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  };
}
