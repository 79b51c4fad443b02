import { createBarsTable } from '../bars/table.js';
import { ident, requireTransaction, type Queryable } from '../shared/db.js';
import { InputError, NotFoundError } from '../shared/errors.js';

/** A sandbox schema's comment: the production schema whose runs created it, and when. */
const sandboxComment = (productionSchema: string, at: Date) =>
  `tickforge sandbox of ${productionSchema}, created ${at.toISOString()}`;
const COMMENT_PATTERN = /^tickforge sandbox of (\S+), created (\S+)$/;
/** Held while a sandbox schema is created, so two runs cannot both take the last free place. */
const CREATE_LOCK = 'tickforge.sandbox.create';

/** A sandbox schema: where scenario runs loaded bars. */
export interface SandboxSchema {
  schema: string;
  /**
   * When a run of this deployment created it (ISO-8601); null for one created before tickforge
   * recorded it (such a schema is listed, and can be dropped, but does not count to the limit).
   */
  createdAt: string | null;
  /** Tables in it: `bars` with its partitions, and `scenario_series`. */
  tables: number;
  /** Symbols whose bars it holds. */
  symbols: number;
}

/**
 * The schemas scenario runs created (those with a `scenario_series` table) that belong to this
 * production schema's deployment or to none recorded, with the production schema their comment
 * names, when it was created and how many tables they hold.
 */
async function sandboxSchemas(
  db: Queryable,
  productionSchema: string,
): Promise<Array<{ schema: string; owner: string | null; createdAt: string | null; tables: number }>> {
  const result = await db.raw<{ rows: Array<{ schema: string; comment: string | null; tables: number }> }>(
    `SELECT n.nspname AS schema, obj_description(n.oid, 'pg_namespace') AS comment,
            (SELECT count(*)::int FROM pg_class t WHERE t.relnamespace = n.oid AND t.relkind IN ('r', 'p')) AS tables
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relname = 'scenario_series' AND c.relkind = 'r' ORDER BY n.nspname`,
  );
  return result.rows
    .map((row) => {
      const match = row.comment === null ? null : COMMENT_PATTERN.exec(row.comment);
      return { schema: row.schema, owner: match?.[1] ?? null, createdAt: match?.[2] ?? null, tables: row.tables };
    })
    .filter((sandbox) => sandbox.schema !== productionSchema && (sandbox.owner === null || sandbox.owner === productionSchema));
}

/**
 * The sandbox schemas of the database, for operators: listing them with their size, and
 * dropping one (never the production schema or a schema scenario runs did not create).
 */
export class SandboxCatalog {
  constructor(
    private readonly db: Queryable,
    private readonly productionSchema: string,
  ) {}

  async list(): Promise<SandboxSchema[]> {
    const sandboxes = await sandboxSchemas(this.db, this.productionSchema);
    return Promise.all(
      sandboxes.map(async ({ schema, createdAt, tables }) => {
        const symbols = await this.db.withSchema(schema).table('scenario_series').count<Array<{ count: string }>>('* as count');
        return { schema, createdAt, tables, symbols: Number(symbols[0].count) };
      }),
    );
  }

  /**
   * Refuses early (InputError naming the limit) a run that would create `schema` when `limit`
   * sandbox schemas exist: the run's own transaction checks again under a lock when it creates.
   */
  async assertRoomFor(schema: string, limit: number): Promise<void> {
    if ((await sandboxSchemas(this.db, this.productionSchema)).some((sandbox) => sandbox.schema === schema)) return;
    await assertRoomFor(this.db, schema, this.productionSchema, limit);
  }

  /** Drops a sandbox schema and everything in it; NotFoundError when `schema` is not a sandbox. */
  async drop(schema: string): Promise<SandboxSchema> {
    return this.db.transaction(async (trx) => {
      const catalog = new SandboxCatalog(trx, this.productionSchema);
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [sandboxLockKey(schema)]);
      const found = (await catalog.list()).find((sandbox) => sandbox.schema === schema);
      if (!found) throw new NotFoundError(`no sandbox schema ${schema}`);
      await trx.raw(`DROP SCHEMA ${ident(schema)} CASCADE`);
      return found;
    });
  }
}

/**
 * Throws an InputError naming the limit when creating `schema` would make more than `limit`
 * sandbox schemas of this deployment.
 */
async function assertRoomFor(db: Queryable, schema: string, productionSchema: string, limit: number): Promise<void> {
  const existing = (await sandboxSchemas(db, productionSchema)).filter((sandbox) => sandbox.owner === productionSchema);
  if (existing.length < limit) return;
  throw new InputError(
    `cannot create sandbox schema ${schema}: ${existing.length} sandbox schemas exist and ` +
      `TICKFORGE_SANDBOX_SCHEMA_LIMIT is ${limit}; load into one of them or drop one ` +
      '(POST /api/sandboxes/:schema/drop, tickforge sandboxes drop <schema>)',
  );
}

/** An advisory-lock key per sandbox schema, shared by creation, writes and dropping. */
function sandboxLockKey(schema: string): string {
  return `tickforge.sandbox.${schema}`;
}

/** Why a schema may not receive synthetic data, or undefined when it may. */
export async function sandboxRefusal(db: Queryable, schema: string, productionSchema: string): Promise<string | undefined> {
  if (schema === productionSchema) return `schema ${schema} is the production schema; scenario bars go to a sandbox schema`;
  if (schema.startsWith('pg_') || schema === 'information_schema') return `schema ${schema} is a PostgreSQL system schema`;
  const migrated = await db.raw<{ rows: Array<{ table: string | null }> }>('SELECT to_regclass(?) AS table', [
    `${ident(schema)}.knex_migrations`,
  ]);
  if (migrated.rows[0].table !== null) return `schema ${schema} holds tickforge's migrated tables (a production schema)`;
  return undefined;
}

/**
 * The sandbox schema scenario bars go to: its own `bars` table (the production layout) and
 * `scenario_series`, which records the run that last wrote each symbol.
 */
export class SandboxRepository {
  private readonly series: string;

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.series = `${ident(schema)}.scenario_series`;
  }

  /**
   * Takes the schema's write lock until the transaction ends (writers of one sandbox take turns)
   * and creates the schema and its tables when missing, inside the caller's transaction: a run
   * that fails later rolls its tables back with everything else. Creating one when `limit`
   * sandbox schemas exist already is an InputError naming the limit. True when it created.
   */
  async ensure(limit: number, productionSchema: string): Promise<boolean> {
    const trx = requireTransaction(this.db, 'creating a sandbox');
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [sandboxLockKey(this.schema)]);
    const found = await trx.raw<{ rows: Array<{ table: string | null }> }>('SELECT to_regclass(?) AS table', [
      `${ident(this.schema)}.scenario_series`,
    ]);
    if (found.rows[0].table !== null) return false;
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [CREATE_LOCK]);
    await assertRoomFor(trx, this.schema, productionSchema, limit);
    await trx.raw(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
    const comment = quoteLiteral(sandboxComment(productionSchema, new Date()));
    await trx.raw(`COMMENT ON SCHEMA ${ident(this.schema)} IS ${comment}`);
    const bars = await trx.raw<{ rows: Array<{ table: string | null }> }>('SELECT to_regclass(?) AS table', [
      `${ident(this.schema)}.bars`,
    ]);
    if (bars.rows[0].table === null) await createBarsTable(trx, this.schema);
    await trx.raw(`
      CREATE TABLE ${this.series} (
        symbol    text        PRIMARY KEY,
        run_id    text        NOT NULL,
        scenario  text        NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
      )`);
    return true;
  }

  /** The run that last wrote each of these symbols (symbols never written, or a dropped schema's, are absent). */
  async owners(symbols: readonly string[]): Promise<Map<string, string>> {
    const found = await this.db.raw<{ rows: Array<{ table: string | null }> }>('SELECT to_regclass(?) AS table', [this.series]);
    if (found.rows[0].table === null) return new Map();
    const rows = await this.db
      .withSchema(this.schema)
      .table('scenario_series')
      .select<Array<{ symbol: string; run_id: string }>>('symbol', 'run_id')
      .whereIn('symbol', [...symbols]);
    return new Map(rows.map((row) => [row.symbol, row.run_id]));
  }

  /** The run that last wrote one symbol, if any. */
  async owner(symbol: string): Promise<string | undefined> {
    return (await this.owners([symbol])).get(symbol);
  }

  /** Records `runId` as the writer of these symbols. */
  async claim(symbols: readonly string[], runId: string, scenario: string): Promise<void> {
    // One statement for any number of symbols: they travel as one JSON array parameter.
    await this.db.raw(
      `INSERT INTO ${this.series} (symbol, run_id, scenario)
       SELECT value, ?, ? FROM jsonb_array_elements_text(?::jsonb)
       ON CONFLICT (symbol) DO UPDATE SET run_id = excluded.run_id, scenario = excluded.scenario, loaded_at = now()`,
      [runId, scenario, JSON.stringify(symbols)],
    );
  }
}

/** A string as an SQL literal (COMMENT takes no bind parameters); the text here is our own. */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
