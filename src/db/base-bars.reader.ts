import type { Knex } from 'knex';
import type { SeriesKey } from '../domain/bars.js';
import { copyOut } from './copy.js';
import { ident } from './knex.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Reads the real (non-fill) bars aggregations start from: their extent, the symbols that have
 * them, and keyset pages of them as COPY text, so a series is streamed, never loaded whole.
 */
export class BaseBarsReader {
  private readonly table: string;

  constructor(
    private readonly db: Knex,
    readonly schema: string,
  ) {
    this.table = `${ident(schema)}.bars`;
  }

  private series(db: Knex, key: SeriesKey, from?: number, to?: number): Knex.QueryBuilder {
    const query = db(db.raw(this.table))
      .where({ symbol: key.symbol, timeframe: key.timeframe, variant: key.variant })
      .whereNot('source', 'fill');
    if (from !== undefined) query.where('ts', '>=', iso(from));
    if (to !== undefined) query.where('ts', '<', iso(to));
    return query;
  }

  /** First and last ts (epoch ms) of the series' real bars in [from, to), if it has any. */
  async extent(db: Knex, key: SeriesKey, from?: number, to?: number): Promise<{ first: number; last: number } | undefined> {
    const [row] = await this.series(db, key, from, to).select<Array<{ first: Date | null; last: Date | null }>>(
      db.raw('min(ts) AS first'),
      db.raw('max(ts) AS last'),
    );
    return row?.first && row.last ? { first: row.first.getTime(), last: row.last.getTime() } : undefined;
  }

  /**
   * The symbols with real bars of this timeframe and variant in [from, to), in order. A loose
   * index scan (one probe of the primary key per symbol) instead of a DISTINCT over every row.
   */
  async symbolsWithBars(timeframe: string, variant: string, from?: number, to?: number): Promise<string[]> {
    const range = [from !== undefined ? `AND ts >= ?` : '', to !== undefined ? `AND ts < ?` : ''].join(' ');
    const bounds = [...(from !== undefined ? [iso(from)] : []), ...(to !== undefined ? [iso(to)] : [])];
    const probe = (after: string) =>
      `SELECT symbol FROM ${this.table} WHERE ${after} timeframe = ? AND variant = ? ${range} ORDER BY symbol LIMIT 1`;
    const result = await this.db.raw<{ rows: Array<{ symbol: string }> }>(
      `WITH RECURSIVE found(symbol) AS (
         SELECT (${probe('')})
         UNION ALL
         SELECT (${probe('symbol > found.symbol AND')}) FROM found WHERE found.symbol IS NOT NULL
       )
       SELECT symbol FROM found WHERE symbol IS NOT NULL`,
      [timeframe, variant, ...bounds, timeframe, variant, ...bounds],
    );
    return result.rows.map((row) => row.symbol);
  }

  /**
   * Up to `limit` real bars with ts in [from, to) and after `after` (the keyset cursor), as
   * COPY text in BAR_PAGE_COLUMNS order, read on the transaction's connection.
   */
  async page(trx: Knex.Transaction, key: SeriesKey, from: number, to: number, after: number | undefined, limit: number): Promise<Uint8Array> {
    const query = this.series(trx, key, from, to)
      .select(trx.raw('(extract(epoch FROM ts) * 1000)::bigint'), 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count')
      .orderBy('ts')
      .limit(limit);
    if (after !== undefined) query.where('ts', '>', iso(after));
    return copyOut(trx, `COPY (${query.toQuery()}) TO STDOUT`);
  }
}
