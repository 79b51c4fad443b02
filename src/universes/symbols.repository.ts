import { ident, requireTransaction, type Queryable } from '../shared/db.js';
import type { SymbolRecord } from './symbol-rows.js';

export interface SymbolUpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Columns an import may set, with their SQL types for jsonb_to_recordset. */
const COLUMNS = [
  ['name', 'text'],
  ['kind', 'text'],
  ['sector', 'text'],
  ['industry', 'text'],
  ['exchange', 'text'],
  ['shares_outstanding', 'double precision'],
  ['market_cap', 'double precision'],
  ['avg_volume', 'double precision'],
  ['theme', 'text'],
  ['aum', 'double precision'],
  ['expense_ratio', 'double precision'],
  ['ipo_date', 'date'],
  ['delisted_at', 'date'],
  ['status', 'text'],
  ['metadata', 'jsonb'],
] as const;

/** What each column becomes when an input row meets a stored one (i = input, t = table). */
function mergedValue(column: (typeof COLUMNS)[number][0]): string {
  switch (column) {
    case 'metadata':
      return `t.metadata || coalesce(i.metadata, '{}'::jsonb)`;
    case 'delisted_at':
      // Setting a symbol active again clears its delisting unless the row gives a new one.
      return `CASE WHEN i.delisted_at IS NOT NULL THEN i.delisted_at WHEN i.status = 'active' THEN NULL ELSE t.delisted_at END`;
    default:
      return `coalesce(i.${column}, t.${column})`;
  }
}

/** A market cap the sync recomputed: the symbol's figures before and after, and the close used. */
export interface MarketCapChange {
  symbol: string;
  old_cap: number | null;
  old_date: string | null;
  new_cap: number;
  last_close: number;
  close_date: string;
}

/** An ETF's average volume refreshed from its stored daily bars. */
export interface AvgVolumeChange {
  symbol: string;
  old_volume: number | null;
  new_volume: number;
  sessions: number;
}

/** The one writer of the `symbols` table: reference data from imports, series symbols, market caps. */
export class SymbolsRepository {
  private readonly table: string;

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.table = `${ident(schema)}.symbols`;
  }

  /**
   * Makes sure these symbols exist, inserting the missing ones with the given kind (stock by
   * default); symbols already stored are left as they are.
   */
  async ensure(rows: ReadonlyArray<{ symbol: string; kind?: 'stock' | 'etf' | 'future' | 'index' }>): Promise<void> {
    if (rows.length === 0) return;
    await this.db(this.db.raw(this.table))
      .insert(rows.map((row) => ({ symbol: row.symbol, ...(row.kind ? { kind: row.kind } : {}) })))
      .onConflict('symbol')
      .ignore();
  }

  /** Symbols whose kind lets them trade at zero or below (futures: calendar spreads). */
  async withNonPositivePrices(): Promise<string[]> {
    return this.db(this.db.raw(this.table)).where({ kind: 'future' }).orderBy('symbol').pluck('symbol');
  }

  /**
   * Upserts symbol reference data in one statement inside a transaction: new symbols are
   * inserted with defaults (kind stock, status active); known ones take every field the record
   * gives and keep the rest. Rows whose values would not change are not touched.
   */
  async upsert(records: readonly SymbolRecord[]): Promise<SymbolUpsertCounts> {
    const trx = requireTransaction(this.db, 'upserting symbols');
    // Imports of the same symbols must not interleave between the insert and the update.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${this.schema}.symbols import`]);
    const recordType = ['symbol text', ...COLUMNS.map(([name, type]) => `${name} ${type}`)].join(', ');
    const names = COLUMNS.map(([name]) => name);
    const result = await trx.raw<{ rows: Array<{ total: number; inserted: number; updated: number }> }>(
      `
      WITH input AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS i(${recordType})),
      inserted AS (
        INSERT INTO ${this.table} AS t (symbol, ${names.join(', ')})
        SELECT i.symbol, ${names
          .map((name) =>
            name === 'kind'
              ? `coalesce(i.kind, 'stock')`
              : name === 'status'
                ? `coalesce(i.status, 'active')`
                : name === 'metadata'
                  ? `coalesce(i.metadata, '{}'::jsonb)`
                  : `i.${name}`,
          )
          .join(', ')}
        FROM input i
        ON CONFLICT (symbol) DO NOTHING
        RETURNING t.symbol
      ),
      updated AS (
        UPDATE ${this.table} AS t SET ${names.map((name) => `${name} = ${mergedValue(name)}`).join(', ')}, updated_at = now()
        FROM input i
        WHERE t.symbol = i.symbol
          AND NOT EXISTS (SELECT 1 FROM inserted n WHERE n.symbol = i.symbol)
          AND (${names.map((name) => `t.${name}`).join(', ')}) IS DISTINCT FROM (${names.map(mergedValue).join(', ')})
        RETURNING t.symbol
      )
      SELECT (SELECT count(*) FROM input) AS total, (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM updated) AS updated`,
      [JSON.stringify(records)],
    );
    const { total, inserted, updated } = result.rows[0];
    return { inserted, updated, unchanged: total - inserted - updated };
  }

  /**
   * The market-cap step of the universe sync, inside its transaction: market cap = shares
   * outstanding × the last daily close on or before the sync date (the `_daily` table the sync
   * built), for every symbol where both are known and the figure changes. Returns the changes.
   */
  async recalculateMarketCaps(): Promise<MarketCapChange[]> {
    const trx = requireTransaction(this.db, 'recalculating market caps');
    const result = await trx.raw<{ rows: MarketCapChange[] }>(`
      WITH calc AS (
        SELECT s.symbol, s.market_cap AS old_cap, to_char(s.market_cap_date, 'YYYY-MM-DD') AS old_date,
               s.shares_outstanding * d.last_close AS new_cap, d.last_close, d.close_date
        FROM ${this.table} s JOIN _daily d ON d.symbol = s.symbol
        WHERE s.shares_outstanding IS NOT NULL AND d.last_close IS NOT NULL
      )
      UPDATE ${this.table} s SET market_cap = c.new_cap, market_cap_date = CAST(c.close_date AS date), updated_at = now()
      FROM calc c
      WHERE s.symbol = c.symbol
        AND (s.market_cap IS DISTINCT FROM c.new_cap OR to_char(s.market_cap_date, 'YYYY-MM-DD') IS DISTINCT FROM c.close_date)
      RETURNING c.*`);
    return result.rows;
  }

  /**
   * The metadata step of etf_universe_maintenance, inside its transaction: an ETF with daily
   * bars in the sync's volume window (the `_daily` table) gets that window's mean volume as its
   * average volume, replacing the reference import's figure. Returns the changes.
   */
  async refreshEtfVolumes(): Promise<AvgVolumeChange[]> {
    const trx = requireTransaction(this.db, 'refreshing ETF volumes');
    const result = await trx.raw<{ rows: AvgVolumeChange[] }>(`
      WITH calc AS (
        SELECT s.symbol, s.avg_volume AS old_volume, d.bar_avg_volume::float8 AS new_volume, d.bar_sessions AS sessions
        FROM ${this.table} s JOIN _daily d ON d.symbol = s.symbol
        WHERE s.kind = 'etf' AND d.bar_avg_volume IS NOT NULL
      )
      UPDATE ${this.table} s SET avg_volume = c.new_volume, updated_at = now()
      FROM calc c
      WHERE s.symbol = c.symbol AND s.avg_volume IS DISTINCT FROM c.new_volume
      RETURNING c.*`);
    return result.rows;
  }
}
