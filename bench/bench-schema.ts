import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../src/shared/config.js';
import { createDb, dbSettings, ident, migrateLatest, type Knex } from '../src/shared/db.js';
import { clearRedis } from '../test/helpers/redis.js';

/**
 * Runs a benchmark in a migrated schema and a Redis prefix of its own, both removed after,
 * with logging off.
 */
export async function inBenchSchema(work: (config: Config, db: Knex) => Promise<void>): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const config: Config = { ...loadConfig(), dbSchema: `bench_${id}`, prefix: `bench-${id}`, logLevel: 'silent' };
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  try {
    await work(config, db);
  } finally {
    await db.raw(`DROP SCHEMA ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
    await clearRedis(config);
  }
}
