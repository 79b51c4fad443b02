import { createBarsTable } from '../bars/table.js';
import { ident, requireTransaction, type Queryable } from '../shared/db.js';

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

  /** An advisory-lock key per schema, shared by creation and writes. */
  private lockKey(): string {
    return `tickforge.sandbox.${this.schema}`;
  }

  /**
   * Creates the schema and its tables when missing. Concurrent callers (several workers
   * starting scenario jobs at once) serialise on an advisory lock, so exactly one creates.
   */
  async ensure(): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [this.lockKey()]);
      const found = await trx.raw<{ rows: Array<{ table: string | null }> }>('SELECT to_regclass(?) AS table', [
        `${ident(this.schema)}.scenario_series`,
      ]);
      if (found.rows[0].table !== null) return false;
      await trx.raw(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
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
    });
  }

  /** Holds the schema's write lock until the transaction ends: writers of one sandbox take turns. */
  async lock(): Promise<void> {
    await requireTransaction(this.db, 'locking a sandbox').raw('SELECT pg_advisory_xact_lock(hashtext(?))', [this.lockKey()]);
  }

  /** The run that last wrote each of these symbols (symbols never written are absent). */
  async owners(symbols: readonly string[]): Promise<Map<string, string>> {
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
