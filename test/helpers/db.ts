import type { Config } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { createDb, dbSettings, ident, migrateLatest, type Knex } from '../../src/shared/db.js';

/** Runs every migration into the config's own schema and returns a connection to it. */
export async function migratedDb(config: Config): Promise<Knex> {
  await migrateLatest(dbSettings(config));
  return createDb(dbSettings(config, createLogger('test-db', config.logLevel)));
}

/** Drops the config's schemas (production and sandbox) and closes the connection. */
export async function dropSchemas(db: Knex, config: Config): Promise<void> {
  await db.raw(`DROP SCHEMA IF EXISTS ${ident(config.dbSchema)} CASCADE`);
  await db.raw(`DROP SCHEMA IF EXISTS ${ident(config.sandboxSchema)} CASCADE`);
  await db.destroy();
}
