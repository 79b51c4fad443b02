import { copyInto, type CopySource } from '../shared/copy.js';
import { ident, requireTransaction, type Queryable } from '../shared/db.js';
import { BinaryCopyWriter } from './binary-copy.js';
import { BAR_COPY_COLUMNS, type BarColumns, type BarRow, type BarSource, type SeriesKey } from './columns.js';

export interface UpsertCounts {
  /** Rows inserted, or overwritten because their values changed. */
  written: number;
  /** Rows already stored with exactly these values. */
  unchanged: number;
}

/** Batches of binary COPY rows a long job writes in one transaction (see BarsRepository.batchWriter). */
export interface BarBatchWriter {
  /** Writes one batch of `rows` rows (BinaryCopyWriter payload, possibly empty). */
  write(copy: Uint8Array, rows: number): Promise<void>;
  /** Ends the writes: merges staged rows when they were staged; what was written and what was already stored. */
  finish(): Promise<UpsertCounts>;
}

export interface StoredBar extends BarRow {
  ts: Date;
  source: string;
}

/** The columns an upsert compares and replaces; the rest is the key. */
export const BAR_VALUE_COLUMNS = ['open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count', 'source'] as const;

/** The one writer of the `bars` table of a schema (production or a sandbox). */
export class BarsRepository {
  private readonly table: string;
  private readonly staging: string;

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.table = `${ident(schema)}.bars`;
    this.staging = ident(`_stage_${schema}_bars`);
  }

  /**
   * Upserts COPY rows (BAR_COPY_COLUMNS order; text, or binary from BinaryCopyWriter): COPY into
   * a temporary staging table, then the merge of mergeStaged, which rewrites only rows whose
   * values differ. Rows of one call must not repeat a key. Runs inside a transaction.
   */
  async upsertCopy(source: CopySource, format: 'text' | 'binary' = 'text'): Promise<UpsertCounts> {
    // An empty binary payload has no header for PostgreSQL to read: there is nothing to stage.
    if (!(format === 'binary' && source instanceof Uint8Array && source.length === 0)) await this.stage(source, format);
    return this.mergeStaged();
  }

  /**
   * Upserts the bars of one series (ascending, no ts twice) as binary COPY: straight into the
   * table when no stored bar of the series lies in their range, else through staging and the
   * merge of upsertCopy. Runs inside a transaction.
   */
  async upsertBars(key: SeriesKey, source: BarSource, bars: BarColumns): Promise<UpsertCounts> {
    const rows = bars.ts.length;
    if (rows === 0) return { written: 0, unchanged: 0 };
    const writer = new BinaryCopyWriter();
    writer.add(key, source, bars);
    const copy = writer.finish();
    if (await this.holdsAny([{ ...key, from: bars.ts[0], to: bars.ts[rows - 1] }])) return this.upsertCopy(copy, 'binary');
    await this.copyRows(copy);
    return { written: rows, unchanged: 0 };
  }

  /**
   * COPYs rows (BAR_COPY_COLUMNS order; text, or binary from BinaryCopyWriter) into the
   * transaction's staging table without merging them yet, so a long job can stage batch after
   * batch and merge once (mergeStaged) in the same transaction.
   */
  async stage(source: CopySource, format: 'text' | 'binary' = 'text'): Promise<void> {
    const trx = requireTransaction(this.db, 'staging bars');
    await this.ensureStaging();
    await copyInto(trx, this.staging, BAR_COPY_COLUMNS, source, format);
  }

  /**
   * COPYs rows (BAR_COPY_COLUMNS order, binary from BinaryCopyWriter) straight into the table:
   * for rows no stored bar shares a key with (see holdsAny), it skips the staging table and the
   * merge. A key already stored fails the COPY. Runs inside a transaction.
   */
  async copyRows(source: CopySource): Promise<void> {
    const trx = requireTransaction(this.db, 'copying bars');
    await copyInto(trx, this.table, BAR_COPY_COLUMNS, source, 'binary');
  }

  /**
   * A writer for batches of rows of the given series and spans (every key the batches may hold
   * must lie in one of `ranges`): when no stored bar lies in any of them, batches are COPYed
   * straight into the table and nothing is merged; else they are staged and merged once by
   * finish (as upsertCopy). Writers of the same symbols wait for each other until the
   * transaction ends, so two runs never both find the range empty. Runs inside a transaction.
   */
  async batchWriter(ranges: ReadonlyArray<SeriesKey & { from: number; to: number }>): Promise<BarBatchWriter> {
    const trx = requireTransaction(this.db, 'writing bars in batches');
    for (const symbol of [...new Set(ranges.map((r) => r.symbol))].sort()) {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${this.schema}.bars.${symbol}`]);
    }
    if (await this.holdsAny(ranges)) {
      return {
        write: async (copy) => {
          if (copy.length > 0) await this.stage(copy, 'binary');
        },
        finish: () => this.mergeStaged(),
      };
    }
    let written = 0;
    return {
      write: async (copy, rows) => {
        if (copy.length === 0) return;
        await this.copyRows(copy);
        written += rows;
      },
      finish: async () => ({ written, unchanged: 0 }),
    };
  }

  /** Whether any stored bar lies in one of these ranges (from <= ts <= to, epoch ms) of its series. */
  async holdsAny(ranges: ReadonlyArray<SeriesKey & { from: number; to: number }>): Promise<boolean> {
    if (ranges.length === 0) return false;
    const result = await this.db.raw<{ rows: Array<{ held: boolean }> }>(
      `SELECT EXISTS (
         SELECT 1 FROM unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[]) AS r(symbol, timeframe, variant, first, last)
         WHERE EXISTS (SELECT 1 FROM ${this.table} b
                       WHERE b.symbol = r.symbol AND b.timeframe = r.timeframe AND b.variant = r.variant
                         AND b.ts BETWEEN r.first AND r.last)) AS held`,
      [
        ranges.map((r) => r.symbol),
        ranges.map((r) => r.timeframe),
        ranges.map((r) => r.variant),
        ranges.map((r) => new Date(r.from)),
        ranges.map((r) => new Date(r.to)),
      ],
    );
    return result.rows[0].held;
  }

  /**
   * Merges the staged rows and empties the staging table, in one statement: an UPDATE … FROM
   * rewrites the stored rows whose values differ, and an INSERT adds the keys not stored yet
   * (its ON CONFLICT takes over a key another transaction stored meanwhile). A forward-fill row
   * never replaces a stored real bar.
   */
  async mergeStaged(): Promise<UpsertCounts> {
    const trx = requireTransaction(this.db, 'merging staged bars');
    await this.ensureStaging();
    // One hashed pass over the staging table: its series, their first and last ts, their rows.
    const series = await trx.raw<{ rows: Array<SeriesKey & { first: Date; last: Date; rows: number }> }>(
      `SELECT symbol, timeframe, variant, min(ts) AS first, max(ts) AS last, count(*) AS rows
       FROM ${this.staging} GROUP BY symbol, timeframe, variant`,
    );
    if (series.rows.length === 0) return { written: 0, unchanged: 0 };
    const staged = series.rows.reduce((sum, one) => sum + one.rows, 0);
    const distinct = (column: 'symbol' | 'timeframe' | 'variant') => [...new Set(series.rows.map((one) => one[column]))];
    const first = series.rows.reduce((earliest, one) => (one.first < earliest ? one.first : earliest), series.rows[0].first);
    const last = series.rows.reduce((latest, one) => (one.last > latest ? one.last : latest), series.rows[0].last);
    const columns = BAR_COPY_COLUMNS.join(', ');
    const sameKey = (stored: string, other: string) =>
      ['symbol', 'timeframe', 'variant', 'ts'].map((c) => `${stored}.${c} = ${other}.${c}`).join(' AND ');
    // Stored rows are read only within the staged keys' bounds, given as constants: a join
    // left to the planner alone may read the whole table when the staged keys sit far from
    // where its index starts.
    const inBounds = (stored: string) => `
      ${stored}.symbol = ANY(?::text[]) AND ${stored}.timeframe = ANY(?::text[]) AND ${stored}.variant = ANY(?::text[])
      AND ${stored}.ts BETWEEN ? AND ?`;
    const boundValues = [distinct('symbol'), distinct('timeframe'), distinct('variant'), first, last];
    // Rewriting a stored row costs a new row version and index entry: rows whose values are the same are left alone.
    const replaces = (incoming: string) => `
      (${BAR_VALUE_COLUMNS.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${BAR_VALUE_COLUMNS.map((c) => `${incoming}.${c}`).join(', ')})
      AND (${incoming}.source <> 'fill' OR t.source = 'fill')`;
    const result = await trx.raw<{ rows: Array<{ written: number }> }>(
      `WITH updated AS (
        UPDATE ${this.table} AS t
        SET ${BAR_VALUE_COLUMNS.map((c) => `${c} = s.${c}`).join(', ')}
        FROM ${this.staging} AS s
        WHERE ${inBounds('t')} AND ${sameKey('t', 's')} AND ${replaces('s')}
        RETURNING 1
      ), inserted AS (
        INSERT INTO ${this.table} AS t (${columns})
        SELECT ${columns} FROM ${this.staging} AS s
        WHERE NOT EXISTS (SELECT 1 FROM ${this.table} AS b WHERE ${inBounds('b')} AND ${sameKey('b', 's')})
        ON CONFLICT (symbol, timeframe, variant, ts) DO UPDATE
          SET ${BAR_VALUE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}
          WHERE ${replaces('excluded')}
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted) AS written`,
      [...boundValues, ...boundValues],
    );
    await trx.raw(`TRUNCATE ${this.staging}`);
    const { written } = result.rows[0];
    return { written, unchanged: staged - written };
  }

  private async ensureStaging(): Promise<void> {
    await this.db.raw(`CREATE TEMP TABLE IF NOT EXISTS ${this.staging} (LIKE ${this.table} INCLUDING DEFAULTS) ON COMMIT DROP`);
  }

  /**
   * Replaces a whole series with the given COPY text rows: deletes its stored bars, then COPYs
   * the new ones in. Returns how many bars were removed. Runs inside a transaction.
   */
  async replaceSeries(key: SeriesKey, source: CopySource): Promise<number> {
    const trx = requireTransaction(this.db, 'replacing a series');
    const removed = await trx(trx.raw(this.table))
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .delete();
    await copyInto(trx, this.table, BAR_COPY_COLUMNS, source);
    return removed;
  }

  /** Deletes every bar of these symbols; returns how many went. */
  async deleteSymbols(symbols: readonly string[]): Promise<number> {
    if (symbols.length === 0) return 0;
    return this.db(this.db.raw(this.table))
      .whereIn('symbol', [...symbols])
      .delete();
  }

  /** Number of stored bars, optionally of one series. */
  async count(key?: Partial<SeriesKey>): Promise<number> {
    const query = this.db(this.db.raw(this.table)).count<{ count: number }[]>({ count: '*' });
    if (key?.symbol !== undefined) query.where('symbol', key.symbol);
    if (key?.timeframe !== undefined) query.where('timeframe', key.timeframe);
    if (key?.variant !== undefined) query.where('variant', key.variant);
    const [row] = await query;
    return Number(row.count);
  }

  /** Bars of one series with from <= ts < to, ascending. */
  async range(key: SeriesKey, from?: Date, to?: Date): Promise<StoredBar[]> {
    const query = this.db(this.db.raw(this.table))
      .select<StoredBar[]>('ts', ...BAR_VALUE_COLUMNS)
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .orderBy('ts');
    if (from) query.where('ts', '>=', from);
    if (to) query.where('ts', '<', to);
    return query;
  }
}
