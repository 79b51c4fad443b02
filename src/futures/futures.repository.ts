import type { ContinuousReport } from './build-continuous.contract.js';
import type { RollEvent } from './adjust.js';
import type { Adjustment, RollPolicy } from './contract-codes.js';
import type { StoredBar, UpsertCounts } from '../bars/bars.repository.js';
import { copyInto, type CopySource } from '../shared/copy.js';
import { ident, requireTransaction, type Queryable } from '../shared/db.js';

/** A row of futures_contracts, dates as YYYY-MM-DD. */
export interface ContractRow {
  contract: string;
  root: string;
  month_code: string;
  contract_month: string;
  last_trade_date: string;
  first_notice_date: string | null;
  expiry_derived: boolean;
  expiry_rule: string | null;
}

/** Column order of the COPY payloads for futures_open_interest. */
export const OPEN_INTEREST_COPY_COLUMNS = ['contract', 'date', 'open_interest'] as const;

/** A continuous series definition with what its last build produced. */
export interface SeriesRow {
  symbol: string;
  root: string;
  roll: RollPolicy;
  roll_offset: number;
  adjust: Adjustment;
  timeframe: string;
  contracts: string[];
  bars: number;
  first_date: string | null;
  last_date: string | null;
  built_at: Date;
  job_id: string | null;
  report: ContinuousReport;
}

/** A daily bar of a contract or a series. */
export type DailyBarRow = Omit<StoredBar, 'source'> & { symbol: string };

const CONTRACT_VALUES = [
  'root',
  'month_code',
  'contract_month',
  'last_trade_date',
  'first_notice_date',
  'expiry_derived',
  'expiry_rule',
] as const;

/** Reads and writes futures contracts, open interest, continuous series and roll events. */
export class FuturesRepository {
  private readonly s: string;

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.s = ident(schema);
  }

  /** Inserts or updates contracts; rows already stored with the same values are left alone. */
  async upsertContracts(rows: ContractRow[]): Promise<UpsertCounts> {
    if (rows.length === 0) return { written: 0, unchanged: 0 };
    const changed = CONTRACT_VALUES.map((c) => `t.${c}`).join(', ');
    const incoming = CONTRACT_VALUES.map((c) => `excluded.${c}`).join(', ');
    const result = await this.db.raw<{ rows: Array<{ written: number }> }>(
      `WITH up AS (
         INSERT INTO ${this.s}.futures_contracts AS t (contract, ${CONTRACT_VALUES.join(', ')})
         SELECT * FROM jsonb_to_recordset(?::jsonb) AS r(contract text, root text, month_code text, contract_month date,
           last_trade_date date, first_notice_date date, expiry_derived boolean, expiry_rule text)
         ON CONFLICT (contract) DO UPDATE
           SET ${CONTRACT_VALUES.map((c) => `${c} = excluded.${c}`).join(', ')}, updated_at = now()
           WHERE (${changed}) IS DISTINCT FROM (${incoming})
         RETURNING 1
       )
       SELECT count(*) AS written FROM up`,
      [JSON.stringify(rows)],
    );
    const written = result.rows[0].written;
    return { written, unchanged: rows.length - written };
  }

  /** Upserts open interest COPY rows (OPEN_INTEREST_COPY_COLUMNS order) through a staging table, inside a transaction. */
  async upsertOpenInterest(source: CopySource, rows: number): Promise<UpsertCounts> {
    if (rows === 0) return { written: 0, unchanged: 0 };
    const trx = requireTransaction(this.db, 'upserting open interest');
    const staging = ident(`_stage_${this.schema}_futures_oi`);
    await trx.raw(`CREATE TEMP TABLE IF NOT EXISTS ${staging} (LIKE ${this.s}.futures_open_interest) ON COMMIT DROP`);
    await copyInto(trx, staging, OPEN_INTEREST_COPY_COLUMNS, source);
    const result = await trx.raw<{ rows: Array<{ written: number }> }>(`
      WITH up AS (
        INSERT INTO ${this.s}.futures_open_interest AS t (contract, date, open_interest)
        SELECT contract, date, open_interest FROM ${staging}
        ON CONFLICT (contract, date) DO UPDATE SET open_interest = excluded.open_interest
          WHERE t.open_interest IS DISTINCT FROM excluded.open_interest
        RETURNING 1
      )
      SELECT count(*) AS written FROM up`);
    await trx.raw(`TRUNCATE ${staging}`);
    const written = result.rows[0].written;
    return { written, unchanged: rows - written };
  }

  /** The root's contracts ordered by last trade date. */
  async contractsOf(root: string): Promise<ContractRow[]> {
    const result = await this.db.raw<{ rows: ContractRow[] }>(
      `SELECT contract, root, month_code, contract_month::text AS contract_month, last_trade_date::text AS last_trade_date,
              first_notice_date::text AS first_notice_date, expiry_derived, expiry_rule
         FROM ${this.s}.futures_contracts WHERE root = ? ORDER BY last_trade_date, contract`,
      [root],
    );
    return result.rows;
  }

  /** Daily bars (1d, variant '') of the given symbols, ordered by symbol and ts. */
  async dailyBars(symbols: string[], from?: Date, to?: Date): Promise<DailyBarRow[]> {
    if (symbols.length === 0) return [];
    const query = this.db
      .withSchema(this.schema)
      .from('bars')
      .select<DailyBarRow[]>('symbol', 'ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count')
      .whereIn('symbol', symbols)
      .where({ timeframe: '1d', variant: '' })
      .orderBy([{ column: 'symbol' }, { column: 'ts' }]);
    if (from) query.where('ts', '>=', from);
    if (to) query.where('ts', '<=', to);
    return query;
  }

  /** Open interest of the given contracts, dates as YYYY-MM-DD. */
  async openInterest(contracts: string[]): Promise<Array<{ contract: string; date: string; open_interest: number }>> {
    if (contracts.length === 0) return [];
    const result = await this.db.raw<{ rows: Array<{ contract: string; date: string; open_interest: number }> }>(
      `SELECT contract, date::text AS date, open_interest FROM ${this.s}.futures_open_interest
        WHERE contract = ANY(?) ORDER BY contract, date`,
      [contracts],
    );
    return result.rows;
  }

  /**
   * Serialises builds of one series until the transaction ends: concurrent rebuilds take turns
   * instead of interleaving their deletes and inserts.
   */
  async lockSeries(symbol: string): Promise<void> {
    const trx = requireTransaction(this.db, 'locking a series');
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${this.schema}.continuous_series.${symbol}`]);
  }

  /** Records a series' definition and last build, and replaces its roll events. */
  async saveSeries(series: Omit<SeriesRow, 'built_at'>, rolls: RollEvent[]): Promise<void> {
    await this.db
      .withSchema(this.schema)
      .table('continuous_series')
      .insert({ ...series, report: JSON.stringify(series.report), built_at: this.db.fn.now() })
      .onConflict('symbol')
      .merge();
    await this.db.withSchema(this.schema).from('roll_events').where({ series: series.symbol }).delete();
    if (rolls.length > 0) {
      await this.db
        .withSchema(this.schema)
        .table('roll_events')
        .insert(
          rolls.map((roll) => ({
            series: series.symbol,
            roll_date: roll.rollDate,
            reference_date: roll.referenceDate,
            from_contract: roll.fromContract,
            to_contract: roll.toContract,
            from_close: roll.fromClose,
            to_close: roll.toClose,
            trigger: roll.trigger,
            difference: roll.difference,
            ratio: roll.ratio,
            cumulative_adjustment: roll.cumulativeAdjustment,
            issue: roll.issue,
          })),
        );
    }
  }

  /** A series definition, or undefined when it has never been built. */
  async series(symbol: string): Promise<SeriesRow | undefined> {
    const result = await this.db.raw<{ rows: SeriesRow[] }>(
      `SELECT symbol, root, roll, roll_offset, adjust, timeframe, contracts, bars, first_date::text AS first_date,
              last_date::text AS last_date, built_at, job_id, report
         FROM ${this.s}.continuous_series WHERE symbol = ?`,
      [symbol],
    );
    return result.rows[0];
  }

  /** The roll events of a series in date order. */
  async rollEvents(symbol: string): Promise<RollEvent[]> {
    const result = await this.db.raw<{ rows: RollEvent[] }>(
      `SELECT roll_date::text AS "rollDate", reference_date::text AS "referenceDate", from_contract AS "fromContract",
              to_contract AS "toContract", from_close AS "fromClose", to_close AS "toClose", trigger, difference, ratio,
              cumulative_adjustment AS "cumulativeAdjustment", issue
         FROM ${this.s}.roll_events WHERE series = ? ORDER BY roll_date`,
      [symbol],
    );
    return result.rows;
  }
}
