import { ident, type Queryable } from '../shared/db.js';
import { EXCHANGE_TIME_ZONE } from './universes.js';

export interface UniverseRow {
  key: string;
  category: string;
  description: string;
  liquidity_filter: Record<string, unknown>;
  metadata: Record<string, unknown>;
  last_universe_update: Date | null;
  members: number;
  flagged: number;
}

export interface MemberRow {
  symbol: string;
  name: string | null;
  kind: string;
  sector: string | null;
  market_cap: number | null;
  added_at: string;
  removed_at: string | null;
  flags: Record<string, unknown>;
}

export interface ChangeRow {
  id: number;
  trading_date: string;
  run_id: string;
  task: string;
  symbol: string;
  change: 'added' | 'removed' | 'updated';
  reason: string;
  before: unknown;
  after: unknown;
  created_at: Date;
}

export interface ChangeQuery {
  from?: string;
  to?: string;
  symbol?: string;
  /** Only changes with an id below this one (the `next` cursor of the previous page). */
  before?: number;
  limit: number;
}

/** One stored daily bar of a universe member, as the performance figures read it. */
export interface DailyCloseRow {
  symbol: string;
  /** Session date in the exchange's time zone. */
  date: string;
  close: number;
  volume: number;
}

/** A stored correlation matrix. */
export interface CorrelationRow {
  trading_date: string;
  window: number;
  labels: string[];
  matrix: Array<Array<number | null>>;
  observations: number;
}

const day = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

/** Reads universes, their members at a date, and their audit trail. */
export class UniversesRepository {
  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {}

  /** Every universe with its current member count and how many members are flagged. */
  async list(): Promise<UniverseRow[]> {
    const result = await this.db.raw<{ rows: UniverseRow[] }>(`
      SELECT u.key, u.category, u.description, u.liquidity_filter, u.metadata, u.last_universe_update,
             count(m.symbol)::int AS members,
             count(m.symbol) FILTER (WHERE m.flags <> '{}'::jsonb)::int AS flagged
      FROM ${ident(this.schema)}.universes u
      LEFT JOIN ${ident(this.schema)}.universe_members m ON m.universe = u.key AND m.removed_at IS NULL
      GROUP BY u.key
      ORDER BY u.category, u.key`);
    return result.rows;
  }

  async get(key: string): Promise<Omit<UniverseRow, 'members' | 'flagged'> | undefined> {
    return this.db
      .withSchema(this.schema)
      .table('universes')
      .select('key', 'category', 'description', 'liquidity_filter', 'metadata', 'last_universe_update')
      .where({ key })
      .first();
  }

  /**
   * Members as of a date: spells with added_at <= date < removed_at, that is the membership
   * the sync of that date left (survivorship-safe). Without a date, the current members.
   */
  async members(key: string, asOf?: string): Promise<MemberRow[]> {
    const query = this.db
      .withSchema(this.schema)
      .table('universe_members as m')
      .join('symbols as s', 's.symbol', 'm.symbol')
      .select(
        'm.symbol',
        's.name',
        's.kind',
        's.sector',
        's.market_cap',
        this.db.raw(`${day('m.added_at')} AS added_at`),
        this.db.raw(`${day('m.removed_at')} AS removed_at`),
        'm.flags',
      )
      .where('m.universe', key)
      .orderBy('m.symbol');
    if (asOf === undefined) query.whereNull('m.removed_at');
    else {
      query
        .where('m.added_at', '<=', asOf)
        .andWhere((spell) => spell.whereNull('m.removed_at').orWhere('m.removed_at', '>', asOf));
    }
    return query;
  }

  /** A universe's audit trail, newest first. */
  async changes(key: string, filter: ChangeQuery): Promise<ChangeRow[]> {
    const query = this.db
      .withSchema(this.schema)
      .table('sync_changes_log')
      .select(
        'id',
        this.db.raw(`${day('trading_date')} AS trading_date`),
        'run_id',
        'task',
        'symbol',
        'change',
        'reason',
        'before',
        'after',
        'created_at',
      )
      .where('universe', key)
      .orderBy('id', 'desc')
      .limit(filter.limit);
    if (filter.from !== undefined) query.where('trading_date', '>=', filter.from);
    if (filter.to !== undefined) query.where('trading_date', '<=', filter.to);
    if (filter.symbol !== undefined) query.where('symbol', filter.symbol);
    if (filter.before !== undefined) query.where('id', '<', filter.before);
    return query;
  }

  /**
   * The stored daily bars (1d, variant '') of `symbols` with ts in [from, to), by symbol and
   * date: what the performance figures are computed from.
   */
  async dailyCloses(symbols: readonly string[], from: Date, to: Date): Promise<DailyCloseRow[]> {
    if (symbols.length === 0) return [];
    const result = await this.db.raw<{ rows: DailyCloseRow[] }>(
      `SELECT b.symbol, to_char(b.ts AT TIME ZONE :zone, 'YYYY-MM-DD') AS date, b.close, b.volume
       FROM ${ident(this.schema)}.bars b
       WHERE b.symbol = ANY(:symbols) AND b.timeframe = '1d' AND b.variant = '' AND b.ts >= :from AND b.ts < :to
       ORDER BY b.symbol, b.ts`,
      { zone: EXCHANGE_TIME_ZONE, symbols: [...symbols], from, to },
    );
    return result.rows;
  }

  /** The stored correlation matrix of an ETF theme for a window, of the latest date on or before `asOf` (or the latest). */
  async correlation(key: string, window: number, asOf?: string): Promise<CorrelationRow | undefined> {
    const query = this.db
      .withSchema(this.schema)
      .table('etf_correlations')
      .select(this.db.raw(`${day('trading_date')} AS trading_date`), 'window', 'labels', 'matrix', 'observations')
      .where({ universe: key, window })
      .orderBy('trading_date', 'desc')
      .first();
    if (asOf !== undefined) query.where('trading_date', '<=', asOf);
    return query;
  }
}
