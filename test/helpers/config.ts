import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { eventStreamName } from '../../src/shared/namespace.js';
import { configEnvironment, loadConfig, type Config } from '../../src/shared/config.js';

/** The database integration tests use; each test file gets its own schema in it. */
export const TEST_DATABASE_URL = process.env.TICKFORGE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tickforge_test';
export const TEST_REDIS_URL = process.env.TICKFORGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_TOKEN = 'test-token-0123456789abcdef';
export const TEST_READ_TOKEN = 'read-token-0123456789abcdef';

export function uniqueName(stem: string): string {
  return `${stem}_${randomBytes(5).toString('hex')}`;
}

/**
 * A config isolated from every other test: its own Postgres schema, BullMQ prefix and event
 * stream, with short lock and stall intervals so recovery tests finish quickly.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const id = randomBytes(5).toString('hex');
  // Only the data location comes from the environment; everything else is the test's own.
  const loaded = loadConfig(process.env.TICKFORGE_DATA_DIR ? { TICKFORGE_DATA_DIR: process.env.TICKFORGE_DATA_DIR } : {});
  return {
    ...loaded,
    // Tests write their import files under the temporary directory.
    importRoots: [...loaded.importRoots, os.tmpdir()],
    databaseUrl: TEST_DATABASE_URL,
    redisUrl: TEST_REDIS_URL,
    dbSchema: `t_${id}`,
    sandboxSchema: `t_${id}_sandbox`,
    dbPoolMax: 5,
    prefix: `tft-${id}`,
    eventStream: eventStreamName(`tft-${id}`),
    apiToken: TEST_TOKEN,
    readToken: TEST_READ_TOKEN,
    port: 0,
    workerConcurrency: 4,
    poolThreads: 2,
    shutdownTimeoutMs: 10_000,
    lockDurationMs: 5_000,
    stalledIntervalMs: 2_000,
    // Catch-up would enqueue pipelines for the real last few sessions; tests that want it set it.
    eodCatchUpSessions: 0,
    logLevel: (process.env.TEST_LOG_LEVEL as Config['logLevel'] | undefined) ?? 'silent',
    ...overrides,
  };
}

/** The environment of a child process that loads `config`, logging at info so tests can read its lines. */
export function configEnv(config: Config): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...configEnvironment(config), LOG_LEVEL: 'info' };
}
