import type { Knex } from 'knex';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { BAR_PAGE_SELECT } from './pages.js';
import { barsFromRows, type BarColumns, type BarRow, type SeriesKey } from './columns.js';
import { copyOut } from '../shared/copy.js';
import { ident, requireTransaction, type Queryable } from '../shared/db.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Bars of a series read for an answer, with which of them are forward fills. */
export interface SeriesRows {
  bars: BarColumns;
  /** 1 where the bar is a forward fill (source 'fill'). */
  filled: Uint8Array;
}

/**
 * Reads stored series: the real (non-fill) base bars aggregations start from (their extent, the
 * symbols that have them, keyset pages as COPY text, so a series is streamed, never loaded
 * whole) and the rows bar queries answer with.
 */
export class BarsReader {
  private readonly table: string;

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.table = `${ident(schema)}.bars`;
  }

  private series(key: SeriesKey, from?: number, to?: number): Knex.QueryBuilder {
    const query = this.db(this.db.raw(this.table))
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .whereNot('source', 'fill');
    if (from !== undefined) query.where('ts', '>=', iso(from));
    if (to !== undefined) query.where('ts', '<', iso(to));
    return query;
  }

  /** First and last ts (epoch ms) of the series' real bars in [from, to), if it has any. */
  async extent(key: SeriesKey, from?: number, to?: number): Promise<{ first: number; last: number } | undefined> {
    const [row] = await this.series(key, from, to).select<Array<{ first: Date | null; last: Date | null }>>(
      this.db.raw('min(ts) AS first'),
      this.db.raw('max(ts) AS last'),
    );
    return row?.first && row.last ? { first: row.first.getTime(), last: row.last.getTime() } : undefined;
  }

  /** The symbols with bars of this timeframe and variant in [from, to), in order. */
  async symbolsWithBars(timeframe: string, variant: string, from?: number, to?: number): Promise<string[]> {
    const range = [from !== undefined ? `AND ts >= ?` : '', to !== undefined ? `AND ts < ?` : ''].join(' ');
    const bounds = [...(from !== undefined ? [iso(from)] : []), ...(to !== undefined ? [iso(to)] : [])];
    return this.distinctSymbols(`timeframe = ? AND variant = ? ${range}`, [timeframe, variant, ...bounds]);
  }

  /** Every symbol with any stored bar, in order (for "did you mean" when a symbol is not found). */
  async storedSymbols(): Promise<string[]> {
    return this.distinctSymbols('TRUE', []);
  }

  /**
   * The symbols of the rows matching `condition`, in order: a loose index scan (one probe of the
   * primary key per symbol) instead of a DISTINCT over every row.
   */
  private async distinctSymbols(condition: string, bindings: readonly unknown[]): Promise<string[]> {
    const probe = (after: string) => `SELECT symbol FROM ${this.table} WHERE ${after} ${condition} ORDER BY symbol LIMIT 1`;
    const result = await this.db.raw<{ rows: Array<{ symbol: string }> }>(
      `WITH RECURSIVE found(symbol) AS (
         SELECT (${probe('')})
         UNION ALL
         SELECT (${probe('symbol > found.symbol AND')}) FROM found WHERE found.symbol IS NOT NULL
       )
       SELECT symbol FROM found WHERE symbol IS NOT NULL`,
      [...bindings, ...bindings] as Knex.RawBinding[],
    );
    return result.rows.map((row) => row.symbol);
  }

  /**
   * Up to `limit` real bars with ts in [from, to) and after `after` (the keyset cursor), as a
   * binary COPY page (see decodeBarPage), read on the transaction's connection.
   */
  async page(key: SeriesKey, from: number, to: number, after: number | undefined, limit: number): Promise<Uint8Array> {
    const trx = requireTransaction(this.db, 'reading a page of bars');
    const query = this.series(key, from, to)
      .select(...BAR_PAGE_SELECT)
      .orderBy('ts')
      .limit(limit);
    if (after !== undefined) query.where('ts', '>', iso(after));
    return copyOut(trx, `COPY (${query.toQuery()}) TO STDOUT (FORMAT binary)`);
  }

  /** Whether the series has any bar at all (one primary-key probe). */
  async exists(key: SeriesKey): Promise<boolean> {
    const row = await this.db(this.db.raw(this.table))
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .first(this.db.raw('1 AS found'));
    return row !== undefined;
  }

  /**
   * Bars of a series with ts in [from, to), ascending, fills included only when asked; at most
   * `limit` rows (callers pass one more than they accept to detect an oversized range).
   */
  async rows(key: SeriesKey, options: { from?: number; to?: number; withFills: boolean; limit: number }): Promise<SeriesRows> {
    const query = this.db(this.db.raw(this.table))
      .select<Array<BarRow & { t: number; source: string }>>(
        this.db.raw('(extract(epoch FROM ts) * 1000)::float8 AS t'),
        ...BAR_PAGE_SELECT.slice(1),
        'source',
      )
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .orderBy('ts')
      .limit(options.limit);
    if (!options.withFills) query.whereNot('source', 'fill');
    if (options.from !== undefined) query.where('ts', '>=', iso(options.from));
    if (options.to !== undefined) query.where('ts', '<', iso(options.to));
    const found = await query;
    const bars = barsFromRows(found, (row) => row.t);
    const filled = Uint8Array.from(found, (row) => (row.source === 'fill' ? 1 : 0));
    return { bars, filled };
  }

  /**
   * Real bars of a series with ts in [from, to), ascending, in chunks of `chunkRows`, read through
   * a server-side cursor: any number of rows in the memory of one chunk. Ending the iteration
   * early closes the cursor and hands the connection back.
   */
  async *stream(key: SeriesKey, options: { from?: number; to?: number; chunkRows: number }): AsyncGenerator<BarColumns> {
    const { sql, bindings } = this.series(key, options.from, options.to)
      .select(this.db.raw('(extract(epoch FROM ts) * 1000)::float8 AS t'), ...BAR_PAGE_SELECT.slice(1))
      .orderBy('ts')
      .toSQL()
      .toNative();
    const client = this.db.client as {
      acquireConnection(): Promise<pg.Client>;
      releaseConnection(connection: pg.Client): Promise<void>;
    };
    const connection = await client.acquireConnection();
    const rows = connection.query(new QueryStream(sql, bindings as unknown[], { batchSize: options.chunkRows }));
    try {
      let chunk: Array<BarRow & { t: number }> = [];
      for await (const row of rows as AsyncIterable<BarRow & { t: number }>) {
        chunk.push(row);
        if (chunk.length < options.chunkRows) continue;
        yield barsFromRows(chunk, (bar) => bar.t);
        chunk = [];
      }
      if (chunk.length > 0) yield barsFromRows(chunk, (bar) => bar.t);
    } finally {
      if (!rows.destroyed) await new Promise<void>((resolve) => rows.destroy().once('close', () => resolve()));
      await client.releaseConnection(connection);
    }
  }

  /**
   * The last `count` real bars before `before` (epoch ms), ascending: the history a computation
   * needs ahead of a range, counted in bars whatever the calendar between them.
   */
  async lastBefore(key: SeriesKey, before: number, count: number): Promise<BarColumns> {
    const found = await this.series(key, undefined, before)
      .select<Array<BarRow & { t: number }>>(
        this.db.raw('(extract(epoch FROM ts) * 1000)::float8 AS t'),
        ...BAR_PAGE_SELECT.slice(1),
      )
      .orderBy('ts', 'desc')
      .limit(count);
    return barsFromRows(found.reverse(), (row) => row.t);
  }

  /** The last `limit` bars of a series (fills included), ascending. */
  async latest(
    key: SeriesKey,
    limit: number,
  ): Promise<Array<{ ts: number; open: number; high: number; low: number; close: number; volume: number }>> {
    const rows = await this.db(this.db.raw(this.table))
      .select<Array<{ ts: Date; open: number; high: number; low: number; close: number; volume: number }>>(
        ...BAR_PAGE_SELECT.slice(0, 6),
      )
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .orderBy('ts', 'desc')
      .limit(limit);
    return rows.reverse().map((row) => ({ ...row, ts: row.ts.getTime() }));
  }
}
