import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

export type { Knex };

// Return BIGINT and NUMERIC as JS numbers: counts and prices here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

/** Compiled migrations live beside the compiled src/ tree: dist/migrations. */
export const migrationsDirectory = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface DbSettings {
  databaseUrl: string;
  schema: string;
  poolMax?: number;
  /** Where knex's own warnings go (a dropped pooled connection, say); the console otherwise. */
  logger?: Logger;
}

export function dbSettings(config: Config, logger?: Logger): DbSettings {
  return { databaseUrl: config.databaseUrl, schema: config.dbSchema, poolMax: config.dbPoolMax, logger };
}

/** The knex options for one schema; also what knexfile.ts hands to the knex CLI. */
export function knexConfig(settings: DbSettings): Knex.Config {
  return {
    client: 'pg',
    connection: settings.databaseUrl,
    searchPath: [settings.schema],
    pool: { min: 0, max: settings.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
    ...(settings.logger
      ? {
          log: {
            warn: (message: string) => settings.logger!.warn(`knex: ${message}`),
            error: (message: string) => settings.logger!.error(`knex: ${message}`),
            deprecate: (message: string) => settings.logger!.warn(`knex deprecation: ${message}`),
            debug: (message: string) => settings.logger!.debug(`knex: ${message}`),
          },
        }
      : {}),
    migrations: {
      directory: migrationsDirectory,
      loadExtensions: ['.js'],
      schemaName: settings.schema,
      tableName: 'knex_migrations',
    },
  };
}

export function createDb(settings: DbSettings): Knex {
  return knexFactory(knexConfig(settings));
}

/** Quotes a SQL identifier that has already been validated as [a-z_][a-z0-9_]*. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return `"${name}"`;
}

/**
 * Creates the database named in the URL when it does not exist yet, connecting to the
 * server's `postgres` database to do so. Safe to race: a concurrent creator wins quietly.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '42P04') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** Creates the database and schema if needed and runs every pending migration. */
export async function migrateLatest(settings: DbSettings): Promise<{ created: boolean; applied: string[] }> {
  const created = await ensureDatabase(settings.databaseUrl);
  const db = createDb({ ...settings, poolMax: 2 });
  try {
    await db.raw(`CREATE SCHEMA IF NOT EXISTS ${ident(settings.schema)}`);
    const [, applied] = (await db.migrate.latest()) as [number, string[]];
    return { created, applied };
  } finally {
    await db.destroy();
  }
}

/** Rolls back the last batch of migrations, or all of them. */
export async function migrateRollback(settings: DbSettings, all = false): Promise<string[]> {
  const db = createDb({ ...settings, poolMax: 2 });
  try {
    const [, reverted] = (await db.migrate.rollback(undefined, all)) as [number, string[]];
    return reverted;
  } finally {
    await db.destroy();
  }
}

/** The compiled migrations shipped with this build; read once, they do not change while it runs. */
let migrationFiles: Promise<string[]> | undefined;

/**
 * Names of migrations present on disk but not yet applied to the schema. Reads only: unlike
 * knex's own `migrate.list`, it never creates the migrations table.
 */
export async function pendingMigrations(db: Knex, schema: string): Promise<string[]> {
  const files = await (migrationFiles ??= readdir(migrationsDirectory).then((names) =>
    names.filter((name) => name.endsWith('.js')).sort(),
  ));
  if (!(await db.schema.withSchema(schema).hasTable('knex_migrations'))) return files;
  const applied = new Set(await db.withSchema(schema).table('knex_migrations').pluck<string>('name'));
  return files.filter((file) => !applied.has(file));
}

/** A connection pool or an open transaction: what a repository is bound to. */
export type Queryable = Knex | Knex.Transaction;

/**
 * Runs `work` on the pg client under a pool (one taken from it, handed back after) or under a
 * transaction (its own), for what knex cannot say: named prepared statements, cursors, COPY.
 */
export async function withClient<T>(db: Queryable, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = db.client as { acquireConnection(): Promise<pg.Client>; releaseConnection(connection: pg.Client): Promise<void> };
  const connection = await client.acquireConnection();
  try {
    return await work(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * The transaction a repository is bound to; throws when it is bound to the pool instead. For
 * work that must share one connection (temporary staging tables, COPY), run it inside
 * `store.transaction`.
 */
export function requireTransaction(db: Queryable, what: string): Knex.Transaction {
  if (!db.isTransaction) throw new Error(`${what} must run inside a transaction (store.transaction)`);
  return db as Knex.Transaction;
}
