import type { Knex } from 'knex';
import { ConflictError } from '../shared/errors.js';
import { ident, type Queryable } from '../shared/db.js';
import { SymbolsRepository } from './symbols.repository.js';
import {
  DEFAULT_SECTOR_FILTER,
  EXCHANGE_TIME_ZONE,
  IPO_WINDOW_DAYS,
  sectorSlugSql,
  syncWindow,
  type EtfFilter,
  type SyncTask,
} from './universes.js';
import { effectiveEtfFilters } from './etf-themes.js';
import { equalWeightIndex, shiftDate, type DailySeries } from './performance.js';
import { CORRELATION_WINDOWS, correlationMatrix, correlationMoves, type CorrelationMove } from './correlation.js';
import { REBALANCE_BENCHMARK, decideWeights, rankSectors, type RebalancePoint } from './sector-strength.js';
import { localMidnight } from '../shared/zone.js';

/** Changes one task made to one universe. */
export interface ChangeCounts {
  added: number;
  removed: number;
  updated: number;
}

/** What one sync task did, as its job returns it. */
export interface TaskOutcome {
  task: SyncTask;
  tradingDate: string;
  /** Rows the task wrote to sync_changes_log. */
  changes: number;
  /** Membership changes by universe. */
  universes: Record<string, ChangeCounts>;
  /** Symbols whose reference data the task changed (market caps), logged without a universe. */
  symbolsUpdated: number;
  durationMs: number;
  /** Task-specific findings worth a look, such as flagged ETFs. */
  notes: Record<string, unknown>;
}

/** A sync for a date earlier than one the task has already synced: history only moves forward. */
export class SyncOrderError extends ConflictError {
  constructor(
    readonly task: SyncTask,
    readonly syncedThrough: string,
    readonly requested: string,
  ) {
    super(
      `${task} has already synced ${syncedThrough}; universes are built forward in time, so ${requested} cannot be synced after it`,
    );
  }
}

const TRADING_DATE = 'CAST(:tradingDate AS date)';

/** Gone on the date: delisted on or before it, or (without a delisting date) not active. */
const gone = (s: string) => `coalesce(${s}.delisted_at <= ${TRADING_DATE}, ${s}.status <> 'active')`;
/** Listed by the date: no IPO date, or an IPO on or before it. */
const listed = (s: string) => `coalesce(${s}.ipo_date <= ${TRADING_DATE}, true)`;
const eligibleStock = (s: string) => `(${s}.kind = 'stock' AND NOT ${gone(s)} AND ${listed(s)})`;
const recentIpo = (s: string) =>
  `coalesce(${s}.ipo_date > ${TRADING_DATE} - ${IPO_WINDOW_DAYS} AND ${s}.ipo_date <= ${TRADING_DATE}, false)`;
/** Recent IPOs are the IPO task's in every sector theme; the theme task leaves them alone. */
/** The smallest market cap a recent IPO needs for the IPO universe: ipo_recent's filter. */
const IPO_MIN_MARKET_CAP = `coalesce((SELECT (u.liquidity_filter->>'min_market_cap')::float8 FROM universes u WHERE u.key = 'ipo_recent'), 0)`;
/**
 * A recent IPO's market cap on the date: shares outstanding × its last close (the `_daily`
 * table), else the stored figure. Computed here rather than read after market_cap_recalculation,
 * so the tasks stay free to run in any order.
 */
const ipoMarketCap = (s: string) =>
  `coalesce((SELECT ${s}.shares_outstanding * d.last_close FROM _daily d WHERE d.symbol = ${s}.symbol), ${s}.market_cap)`;
const largeEnoughIpo = (s: string) => `coalesce(${ipoMarketCap(s)} >= ${IPO_MIN_MARKET_CAP}, false)`;
const ipoOwned = (s: string) => `(${eligibleStock(s)} AND ${recentIpo(s)} AND ${largeEnoughIpo(s)})`;
const slug = sectorSlugSql;
const isoDate = (expression: string) => `to_char(${expression}, 'YYYY-MM-DD')`;

/**
 * Per-symbol daily figures on the date: the last close on or before it and the average
 * volume of the last sessions (from 1d bars as stored, variant ''), for the symbols `where`
 * selects. One statement; each symbol costs two index probes.
 */
function dailyFiguresSql(where: string): string {
  return `
    CREATE TEMP TABLE _daily ON COMMIT DROP AS
    SELECT s.symbol, lc.close AS last_close,
           to_char(lc.ts AT TIME ZONE '${EXCHANGE_TIME_ZONE}', 'YYYY-MM-DD') AS close_date,
           av.avg_volume AS bar_avg_volume, av.sessions AS bar_sessions
    FROM symbols s
    LEFT JOIN LATERAL (
      SELECT b.close, b.ts FROM bars b
      WHERE b.symbol = s.symbol AND b.timeframe = '1d' AND b.variant = '' AND b.ts < :dayEnd
      ORDER BY b.ts DESC LIMIT 1
    ) lc ON true
    LEFT JOIN LATERAL (
      SELECT avg(b.volume) AS avg_volume, count(*)::int AS sessions FROM bars b
      WHERE b.symbol = s.symbol AND b.timeframe = '1d' AND b.variant = '' AND b.ts >= :volumeFrom AND b.ts < :dayEnd
    ) av ON true
    WHERE ${where}`;
}

const EVAL_TABLE = `
  CREATE TEMP TABLE _eval (
    universe text NOT NULL,
    symbol text NOT NULL,
    qualifies boolean NOT NULL,
    reason text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    flags jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (universe, symbol)
  ) ON COMMIT DROP`;

/** Size universes: the N largest eligible stocks by market cap, ties by symbol. */
const SIZE_EVALUATION = `
  WITH ranked AS (
    SELECT s.symbol, s.market_cap, row_number() OVER (ORDER BY s.market_cap DESC, s.symbol) AS rank
    FROM symbols s WHERE ${eligibleStock('s')} AND s.market_cap IS NOT NULL
  ),
  sizes AS (SELECT u.key, (u.metadata->>'size')::int AS size FROM universes u WHERE u.category = 'size'),
  pairs AS (
    SELECT z.key AS universe, r.symbol FROM sizes z JOIN ranked r ON r.rank <= z.size
    UNION
    SELECT m.universe, m.symbol FROM universe_members m
    JOIN sizes z ON z.key = m.universe JOIN symbols s ON s.symbol = m.symbol
    WHERE m.removed_at IS NULL AND NOT ${gone('s')}
  )
  SELECT p.universe, p.symbol,
    coalesce(r.rank <= z.size, false),
    CASE
      WHEN r.rank <= z.size THEN format('rank %s of %s by market cap', r.rank, z.size)
      WHEN r.rank IS NOT NULL THEN format('rank %s by market cap is outside the top %s', r.rank, z.size)
      WHEN s.kind <> 'stock' THEN format('kind is %s, not stock', s.kind)
      WHEN NOT ${listed('s')} THEN format('not listed until its IPO on %s', s.ipo_date)
      ELSE 'market cap unknown'
    END,
    jsonb_build_object('rank', r.rank, 'market_cap', s.market_cap, 'market_cap_date', ${isoDate('s.market_cap_date')}),
    '{}'::jsonb
  FROM pairs p JOIN sizes z ON z.key = p.universe JOIN symbols s ON s.symbol = p.symbol
  LEFT JOIN ranked r ON r.symbol = p.symbol`;

/** Recent IPOs: ipo_recent, and their sector theme (exempt from its filter while recent). */
const IPO_EVALUATION = `
  WITH ipos AS (SELECT u.key FROM universes u WHERE u.category = 'ipo'),
  sectors AS (SELECT u.key, u.metadata->>'slug' AS slug FROM universes u WHERE u.category = 'sector'),
  fresh AS (SELECT s.symbol, ${slug('s.sector')} AS slug FROM symbols s WHERE ${ipoOwned('s')}),
  pairs AS (
    SELECT i.key AS universe, f.symbol FROM ipos i CROSS JOIN fresh f
    UNION
    SELECT x.key, f.symbol FROM fresh f JOIN sectors x ON x.slug = f.slug
    UNION
    SELECT m.universe, m.symbol FROM universe_members m
    JOIN ipos i ON i.key = m.universe JOIN symbols s ON s.symbol = m.symbol
    WHERE m.removed_at IS NULL AND NOT ${gone('s')}
    UNION
    SELECT m.universe, m.symbol FROM universe_members m
    JOIN sectors x ON x.key = m.universe JOIN symbols s ON s.symbol = m.symbol
    WHERE m.removed_at IS NULL AND ${ipoOwned('s')}
  ),
  judged AS (
    SELECT p.universe, p.symbol, u.category, s.kind, s.sector, s.ipo_date, ${ipoMarketCap('s')} AS market_cap,
      ${ipoOwned('s')} AS fresh, ${recentIpo('s')} AS recent, ${IPO_MIN_MARKET_CAP} AS min_market_cap,
      coalesce(${slug('s.sector')} = u.metadata->>'slug', false) AS in_sector,
      ${TRADING_DATE} - s.ipo_date AS age
    FROM pairs p JOIN universes u ON u.key = p.universe JOIN symbols s ON s.symbol = p.symbol
  )
  SELECT universe, symbol,
    fresh AND (category = 'ipo' OR in_sector),
    CASE
      WHEN category = 'ipo' AND fresh THEN format('IPO on %s, %s days before %s', ipo_date, age, ${TRADING_DATE})
      WHEN fresh AND in_sector THEN format('recent IPO (%s) assigned to its sector %s', ipo_date, sector)
      WHEN fresh THEN format('sector is now %s', coalesce(sector, 'unknown'))
      WHEN kind <> 'stock' THEN format('kind is %s, not stock', kind)
      WHEN recent AND market_cap IS NULL THEN 'market cap unknown'
      WHEN recent AND market_cap < min_market_cap THEN format('market cap %s below %s', market_cap, min_market_cap)
      WHEN ipo_date IS NULL THEN 'no IPO date'
      WHEN ipo_date > ${TRADING_DATE} THEN format('IPO on %s is after %s', ipo_date, ${TRADING_DATE})
      ELSE format('IPO on %s is %s days before %s, beyond the ${IPO_WINDOW_DAYS}-day window', ipo_date, age, ${TRADING_DATE})
    END,
    jsonb_build_object('ipo_date', ${isoDate('ipo_date')}, 'sector', sector, 'market_cap', market_cap),
    '{}'::jsonb
  FROM judged`;

/** Delisted or inactive symbols leave every universe. */
const DELISTED_EVALUATION = `
  SELECT m.universe, m.symbol, false,
    CASE WHEN s.delisted_at IS NOT NULL THEN format('delisted on %s', s.delisted_at) ELSE format('status is %s', s.status) END,
    jsonb_build_object('status', s.status, 'delisted_at', ${isoDate('s.delisted_at')}),
    '{}'::jsonb
  FROM universe_members m JOIN symbols s ON s.symbol = m.symbol
  WHERE m.removed_at IS NULL AND ${gone('s')}`;

/** Sector themes: eligible stocks of the sector passing the theme's volume and close filter. */
const THEME_EVALUATION = `
  WITH sectors AS (SELECT u.key, u.metadata->>'slug' AS slug, u.liquidity_filter AS f FROM universes u WHERE u.category = 'sector'),
  stocks AS (
    SELECT s.symbol, ${slug('s.sector')} AS slug FROM symbols s
    WHERE ${eligibleStock('s')} AND NOT ${ipoOwned('s')} AND s.sector IS NOT NULL
  ),
  pairs AS (
    SELECT x.key AS universe, st.symbol FROM stocks st JOIN sectors x ON x.slug = st.slug
    UNION
    SELECT m.universe, m.symbol FROM universe_members m
    JOIN sectors x ON x.key = m.universe JOIN symbols s ON s.symbol = m.symbol
    WHERE m.removed_at IS NULL AND NOT ${gone('s')} AND NOT ${ipoOwned('s')}
  ),
  measured AS (
    SELECT p.universe, p.symbol, s.kind, s.sector, s.ipo_date,
      ${eligibleStock('s')} AS eligible,
      coalesce(${slug('s.sector')} = x.slug, false) AS in_sector,
      d.last_close, d.close_date, coalesce(d.bar_avg_volume, s.avg_volume) AS avg_volume,
      (x.f->>'min_avg_volume')::float8 AS min_avg_volume, (x.f->>'min_last_close')::float8 AS min_last_close
    FROM pairs p JOIN symbols s ON s.symbol = p.symbol JOIN sectors x ON x.key = p.universe
    LEFT JOIN _daily d ON d.symbol = p.symbol
  ),
  judged AS (
    SELECT m.*, array_remove(ARRAY[
      CASE WHEN m.avg_volume IS NULL THEN 'average volume unknown'
           WHEN m.avg_volume < m.min_avg_volume THEN format('average volume %s below %s', round(m.avg_volume), m.min_avg_volume) END,
      CASE WHEN m.last_close IS NULL THEN format('no daily close on or before %s', ${TRADING_DATE})
           WHEN m.last_close < m.min_last_close THEN format('last close %s below %s', m.last_close, m.min_last_close) END
    ], NULL) AS failures
    FROM measured m
  )
  SELECT universe, symbol,
    eligible AND in_sector AND cardinality(failures) = 0,
    CASE
      WHEN kind <> 'stock' THEN format('kind is %s, not stock', kind)
      WHEN NOT eligible THEN format('not listed until its IPO on %s', ipo_date)
      WHEN NOT in_sector THEN format('sector is now %s', coalesce(sector, 'unknown'))
      WHEN cardinality(failures) > 0 THEN 'fails the liquidity filter: ' || array_to_string(failures, '; ')
      ELSE format('passes the liquidity filter: average volume %s, last close %s on %s', round(avg_volume), last_close, close_date)
    END,
    jsonb_build_object('avg_volume', avg_volume, 'last_close', last_close, 'close_date', close_date),
    '{}'::jsonb
  FROM judged`;

/**
 * ETF themes: the theme's candidates (ETFs whose theme, assigned by rule at import, is the
 * theme's, and the theme's named anchors, metadata.anchors) against the filter in the
 * universe's liquidity_filter, as the report states it: AUM above min_aum, average volume above
 * min_avg_volume, expense ratio below max_expense_ratio. An anchor failing the filter stays,
 * flagged with what it fails (flags.anchor_kept); a fund without some of those figures is
 * judged on what is known and flagged with what is missing (flags.missing_metadata); one that
 * neither a reference import nor a daily bar confirms is flagged unverified.
 */
const ETF_EVALUATION = `
  WITH themes AS (
    SELECT u.key, u.metadata, u.liquidity_filter AS f FROM universes u WHERE u.category = 'etf_theme'
  ),
  anchors AS (
    SELECT t.key AS universe, a.symbol FROM themes t
    CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(t.metadata->'anchors', '[]'::jsonb)) AS a(symbol)
  ),
  candidates AS (
    SELECT universe, symbol FROM anchors
    UNION
    SELECT t.key, s.symbol FROM themes t JOIN symbols s ON s.kind = 'etf' AND s.theme = t.metadata->>'theme'
  ),
  pairs AS (
    SELECT c.universe, c.symbol, true AS candidate FROM candidates c
    JOIN symbols s ON s.symbol = c.symbol WHERE NOT ${gone('s')}
    UNION ALL
    SELECT m.universe, m.symbol, false FROM universe_members m
    JOIN themes t ON t.key = m.universe JOIN symbols s ON s.symbol = m.symbol
    WHERE m.removed_at IS NULL AND NOT ${gone('s')}
      AND NOT EXISTS (SELECT 1 FROM candidates c WHERE c.universe = m.universe AND c.symbol = m.symbol)
  ),
  measured AS (
    SELECT p.universe, p.symbol, p.candidate, s.kind, s.ipo_date, ${listed('s')} AS listed,
      EXISTS (SELECT 1 FROM anchors a WHERE a.universe = p.universe AND a.symbol = p.symbol) AS anchor,
      s.aum, s.expense_ratio, coalesce(d.bar_avg_volume, s.avg_volume) AS avg_volume,
      (s.aum IS NULL AND s.expense_ratio IS NULL AND s.avg_volume IS NULL AND d.last_close IS NULL) AS unverified,
      (t.f->>'min_aum')::float8 AS min_aum, (t.f->>'min_avg_volume')::float8 AS min_avg_volume,
      (t.f->>'max_expense_ratio')::float8 AS max_expense_ratio
    FROM pairs p JOIN symbols s ON s.symbol = p.symbol JOIN themes t ON t.key = p.universe
    LEFT JOIN _daily d ON d.symbol = p.symbol
  ),
  judged AS (
    SELECT m.*,
      array_remove(ARRAY[
        CASE WHEN m.aum <= m.min_aum THEN 'aum' END,
        CASE WHEN m.avg_volume <= m.min_avg_volume THEN 'avg_volume' END,
        CASE WHEN m.expense_ratio >= m.max_expense_ratio THEN 'expense_ratio' END
      ], NULL) AS failed,
      array_remove(ARRAY[
        CASE WHEN m.aum <= m.min_aum THEN format('AUM %s not above %s', m.aum, m.min_aum) END,
        CASE WHEN m.avg_volume <= m.min_avg_volume THEN format('average volume %s not above %s', round(m.avg_volume), m.min_avg_volume) END,
        CASE WHEN m.expense_ratio >= m.max_expense_ratio
             THEN format('expense ratio %s%% not below %s%%', round((m.expense_ratio * 100)::numeric, 3), round((m.max_expense_ratio * 100)::numeric, 3)) END
      ], NULL) AS failures,
      array_remove(ARRAY[
        CASE WHEN m.aum IS NULL THEN 'aum' END,
        CASE WHEN m.avg_volume IS NULL THEN 'avg_volume' END,
        CASE WHEN m.expense_ratio IS NULL THEN 'expense_ratio' END
      ], NULL) AS missing
    FROM measured m
  )
  SELECT universe, symbol,
    candidate AND kind = 'etf' AND listed AND (cardinality(failures) = 0 OR anchor),
    CASE
      WHEN NOT candidate THEN 'no longer a candidate of the theme'
      WHEN kind <> 'etf' THEN format('kind is %s, not etf', kind)
      WHEN NOT listed THEN format('not listed until its inception on %s', ipo_date)
      WHEN cardinality(failures) > 0 AND anchor THEN 'named anchor kept although it fails the filter: ' || array_to_string(failures, '; ')
      WHEN cardinality(failures) > 0 THEN 'fails the filter: ' || array_to_string(failures, '; ')
      WHEN cardinality(missing) > 0 THEN 'passes what is known; flagged, missing ' || array_to_string(missing, ', ')
      WHEN anchor THEN 'named anchor; passes the filter'
      ELSE 'passes the filter'
    END,
    jsonb_build_object('aum', aum, 'avg_volume', avg_volume, 'expense_ratio', expense_ratio,
      'anchor', anchor, 'candidate', candidate AND kind = 'etf' AND listed, 'failed', to_jsonb(failed)),
    jsonb_strip_nulls(jsonb_build_object(
      'missing_metadata', CASE WHEN cardinality(missing) > 0 THEN to_jsonb(missing) END,
      'unverified', CASE WHEN unverified THEN to_jsonb(format('in no reference import and without daily bars up to %s', ${TRADING_DATE})) END,
      'anchor_kept', CASE WHEN anchor AND cardinality(failures) > 0 THEN to_jsonb(failures) END))
  FROM judged`;

/**
 * What etf_universe_maintenance's filters did, per theme, from the evaluation: listed
 * candidates, funds each filter removed (counted once, at the first filter failed in the
 * report's order AUM, volume, expense ratio), anchors kept despite a failure, members.
 */
const ETF_FILTER_REPORT = `
  SELECT e.universe,
    count(*) FILTER (WHERE (e.detail->>'candidate')::boolean)::int AS candidates,
    count(*) FILTER (WHERE (e.detail->>'candidate')::boolean AND NOT (e.detail->>'anchor')::boolean AND e.detail->'failed'->>0 = 'aum')::int AS aum,
    count(*) FILTER (WHERE (e.detail->>'candidate')::boolean AND NOT (e.detail->>'anchor')::boolean AND e.detail->'failed'->>0 = 'avg_volume')::int AS avg_volume,
    count(*) FILTER (WHERE (e.detail->>'candidate')::boolean AND NOT (e.detail->>'anchor')::boolean AND e.detail->'failed'->>0 = 'expense_ratio')::int AS expense_ratio,
    coalesce(array_agg(e.symbol ORDER BY e.symbol) FILTER (WHERE e.qualifies AND e.flags->'anchor_kept' IS NOT NULL), '{}') AS anchors_kept,
    count(*) FILTER (WHERE e.qualifies)::int AS members
  FROM _eval e GROUP BY e.universe ORDER BY e.universe`;

/** Writes each ETF theme's filter (the default with its configured override) into its universe row. */
const SET_ETF_FILTERS = `
  UPDATE universes u SET liquidity_filter = f.filter
  FROM jsonb_each(CAST(:etfFilters AS jsonb)) AS f(theme, filter)
  WHERE u.category = 'etf_theme' AND u.metadata->>'theme' = f.theme AND u.liquidity_filter IS DISTINCT FROM f.filter`;

/** Market cap = shares outstanding × last close on or before the date, where both are known. */
/** Logs the market caps the sync recomputed (a JSON array of MarketCapChange), without a universe. */
const LOG_MARKET_CAPS = `
  INSERT INTO sync_changes_log (run_id, trading_date, task, universe, symbol, change, reason, before, after)
  SELECT :runId, ${TRADING_DATE}, :taskName, NULL, c.symbol, 'updated',
    format('market cap = shares outstanding × close %s on %s', c.last_close, c.close_date),
    jsonb_build_object('market_cap', c.old_cap, 'market_cap_date', c.old_date),
    jsonb_build_object('market_cap', c.new_cap, 'market_cap_date', c.close_date)
  FROM jsonb_to_recordset(CAST(:changes AS jsonb))
    AS c(symbol text, old_cap float8, old_date text, new_cap float8, last_close float8, close_date text)`;

/** Logs the average volumes the sync refreshed from daily bars (a JSON array of AvgVolumeChange), without a universe. */
const LOG_VOLUMES = `
  INSERT INTO sync_changes_log (run_id, trading_date, task, universe, symbol, change, reason, before, after)
  SELECT :runId, ${TRADING_DATE}, :taskName, NULL, c.symbol, 'updated',
    format('average volume = mean volume of %s daily bars up to %s', c.sessions, ${TRADING_DATE}),
    jsonb_build_object('avg_volume', c.old_volume), jsonb_build_object('avg_volume', c.new_volume)
  FROM jsonb_to_recordset(CAST(:changes AS jsonb)) AS c(symbol text, old_volume float8, new_volume float8, sessions int)`;

/**
 * Applies an evaluation (the _eval table: every pair the task owns, with whether it should
 * be a member) in one statement: closes spells of pairs that no longer qualify, reopens a
 * spell closed on this same date or opens a new one for pairs that do, updates flags, and
 * logs every change with its reason. Returns the counts by universe and change.
 */
const APPLY_EVALUATION = `
  WITH current_members AS (
    SELECT m.universe, m.symbol, m.added_at, m.flags
    FROM universe_members m JOIN _eval e ON e.universe = m.universe AND e.symbol = m.symbol
    WHERE m.removed_at IS NULL
  ),
  closed AS (
    UPDATE universe_members m SET removed_at = ${TRADING_DATE}
    FROM _eval e
    WHERE m.universe = e.universe AND m.symbol = e.symbol AND m.removed_at IS NULL AND NOT e.qualifies
    RETURNING m.universe, m.symbol, ${isoDate('m.added_at')} AS added_at, m.flags, e.reason, e.detail
  ),
  adding AS (
    SELECT e.* FROM _eval e
    WHERE e.qualifies
      AND NOT EXISTS (SELECT 1 FROM current_members c WHERE c.universe = e.universe AND c.symbol = e.symbol)
  ),
  reopened AS (
    UPDATE universe_members m SET removed_at = NULL, flags = a.flags
    FROM adding a
    WHERE m.universe = a.universe AND m.symbol = a.symbol AND m.removed_at = ${TRADING_DATE}
    RETURNING m.universe, m.symbol
  ),
  inserted AS (
    INSERT INTO universe_members (universe, symbol, added_at, flags)
    SELECT a.universe, a.symbol, ${TRADING_DATE}, a.flags FROM adding a
    WHERE NOT EXISTS (SELECT 1 FROM reopened r WHERE r.universe = a.universe AND r.symbol = a.symbol)
    RETURNING universe, symbol
  ),
  reflagged AS (
    UPDATE universe_members m SET flags = e.flags
    FROM _eval e
    WHERE m.universe = e.universe AND m.symbol = e.symbol AND m.removed_at IS NULL
      AND e.qualifies AND m.flags IS DISTINCT FROM e.flags
    RETURNING m.universe, m.symbol
  ),
  logged AS (
    INSERT INTO sync_changes_log (run_id, trading_date, task, universe, symbol, change, reason, before, after)
    SELECT :runId, ${TRADING_DATE}, :taskName, c.universe, c.symbol, 'removed', c.reason,
      jsonb_build_object('added_at', c.added_at, 'flags', c.flags), c.detail
    FROM closed c
    UNION ALL
    SELECT :runId, ${TRADING_DATE}, :taskName, e.universe, e.symbol, 'added', e.reason,
      NULL, e.detail || jsonb_build_object('flags', e.flags)
    FROM _eval e
    JOIN (SELECT universe, symbol FROM reopened UNION ALL SELECT universe, symbol FROM inserted) n
      ON n.universe = e.universe AND n.symbol = e.symbol
    UNION ALL
    SELECT :runId, ${TRADING_DATE}, :taskName, e.universe, e.symbol, 'updated', e.reason,
      jsonb_build_object('flags', c.flags), e.detail || jsonb_build_object('flags', e.flags)
    FROM reflagged r
    JOIN _eval e ON e.universe = r.universe AND e.symbol = r.symbol
    JOIN current_members c ON c.universe = r.universe AND c.symbol = r.symbol
    RETURNING universe, change
  )
  SELECT universe, change, count(*)::int AS count FROM logged GROUP BY universe, change`;

/** Daily closes from :from of the current members of every theme of a :category, by universe and symbol. */
const THEME_CLOSES = `
  SELECT m.universe, b.symbol, to_char(b.ts AT TIME ZONE '${EXCHANGE_TIME_ZONE}', 'YYYY-MM-DD') AS date, b.close
  FROM universe_members m
  JOIN universes u ON u.key = m.universe AND u.category = :category
  JOIN bars b ON b.symbol = m.symbol AND b.timeframe = '1d' AND b.variant = '' AND b.ts >= :from AND b.ts < :dayEnd
  WHERE m.removed_at IS NULL
  ORDER BY m.universe, b.symbol, b.ts`;

const BENCHMARK_CLOSES = `
  SELECT to_char(b.ts AT TIME ZONE '${EXCHANGE_TIME_ZONE}', 'YYYY-MM-DD') AS date, b.close
  FROM bars b
  WHERE b.symbol = :benchmark AND b.timeframe = '1d' AND b.variant = '' AND b.ts >= :from AND b.ts < :dayEnd
  ORDER BY b.ts`;

/** Records each ranked theme's strength, reference point and weight in its metadata. */
const STORE_WEIGHTS = `
  UPDATE universes u SET metadata = u.metadata || d.patch
  FROM jsonb_to_recordset(CAST(:decisions AS jsonb)) AS d(universe text, patch jsonb)
  WHERE u.key = d.universe AND u.metadata IS DISTINCT FROM u.metadata || d.patch`;

/** Logs the theme weights a rebalancing changed; the symbol column holds the theme's key. */
const LOG_WEIGHTS = `
  INSERT INTO sync_changes_log (run_id, trading_date, task, universe, symbol, change, reason, before, after)
  SELECT :runId, ${TRADING_DATE}, :taskName, c.universe, c.universe, 'updated', c.reason, c.before, c.after
  FROM jsonb_to_recordset(CAST(:changes AS jsonb)) AS c(universe text, reason text, before jsonb, after jsonb)`;

/**
 * Daily closes from `from` to the trading day: the benchmark's, and those of the current members
 * of every theme of `category`, by universe and symbol.
 */
async function themeCloses(
  trx: Knex.Transaction,
  bindings: Record<string, unknown>,
  category: 'sector' | 'etf_theme',
  from: Date,
): Promise<{ benchmark: DailySeries; members: Map<string, Map<string, DailySeries>> }> {
  const query = { ...bindings, from, category, benchmark: REBALANCE_BENCHMARK };
  const benchmarkRows = await trx.raw<{ rows: Array<{ date: string; close: number }> }>(BENCHMARK_CLOSES, query);
  const closes = await trx.raw<{ rows: Array<{ universe: string; symbol: string; date: string; close: number }> }>(
    THEME_CLOSES,
    query,
  );
  return {
    benchmark: { dates: benchmarkRows.rows.map((row) => row.date), closes: benchmarkRows.rows.map((row) => row.close) },
    members: seriesByUniverse(closes.rows),
  };
}

/**
 * The rebalancing step of theme_rebalancing, after the members are settled: ranks the sector
 * themes by relative strength against the benchmark and changes a theme's weight when its
 * strength moved significantly (sector-strength.ts). Returns the number of weights changed per
 * theme and what it found.
 */
async function rebalanceThemes(
  trx: Knex.Transaction,
  bindings: Record<string, unknown> & { tradingDate: string },
): Promise<{ changed: Record<string, number>; notes: Record<string, unknown> }> {
  const strengthFrom = new Date(localMidnight(shiftDate(bindings.tradingDate, { months: -3, days: -10 }), EXCHANGE_TIME_ZONE));
  const { benchmark, members } = await themeCloses(trx, bindings, 'sector', strengthFrom);
  const sectors = new Map([...members].map(([universe, series]) => [universe, [...series.values()]]));
  const strengths = rankSectors(sectors, benchmark, bindings.tradingDate);
  const points = await trx.raw<{ rows: Array<{ key: string; point: RebalancePoint | null }> }>(
    `SELECT key, metadata->'rebalance' AS point FROM universes WHERE category = 'sector'`,
  );
  const previous = new Map(points.rows.filter((row) => row.point !== null).map((row) => [row.key, row.point!]));
  const decisions = decideWeights(strengths, previous, bindings.tradingDate);
  const patches = decisions.map((decision) => ({
    universe: decision.universe,
    patch: { rebalance: decision.point, weight: decision.point.weight },
  }));
  if (patches.length > 0) await trx.raw(STORE_WEIGHTS, { decisions: JSON.stringify(patches) });
  const changes = decisions
    .filter((decision) => decision.trigger !== undefined && decision.previous!.weight !== decision.point.weight)
    .map((decision) => ({
      universe: decision.universe,
      reason: `theme weight ${decision.previous!.weight} → ${decision.point.weight} (rank ${decision.strength.rank} of ${strengths.length} by relative strength vs ${REBALANCE_BENCHMARK}): ${decision.trigger}`,
      before: decision.previous,
      after: decision.point,
    }));
  if (changes.length > 0) await trx.raw(LOG_WEIGHTS, { ...bindings, changes: JSON.stringify(changes) });
  return {
    changed: Object.fromEntries(changes.map((change) => [change.universe, 1])),
    notes: {
      benchmark: REBALANCE_BENCHMARK,
      ranking: strengths,
      ...(benchmark.dates.length === 0 ? { skipped: `${REBALANCE_BENCHMARK} has no daily bars` } : {}),
    },
  };
}

const STORE_CORRELATION = `
  INSERT INTO etf_correlations (universe, "window", trading_date, labels, matrix, observations)
  VALUES (:universe, :window, ${TRADING_DATE}, CAST(:labels AS jsonb), CAST(:matrix AS jsonb), :observations)
  ON CONFLICT (universe, "window", trading_date)
  DO UPDATE SET labels = excluded.labels, matrix = excluded.matrix, observations = excluded.observations, created_at = now()`;

const PREVIOUS_CORRELATION = `
  SELECT labels, matrix, observations FROM etf_correlations
  WHERE universe = :universe AND "window" = :window AND trading_date < ${TRADING_DATE}
  ORDER BY trading_date DESC LIMIT 1`;

/** Groups ordered (universe, symbol, date, close) rows into series by universe and symbol. */
function seriesByUniverse(
  rows: ReadonlyArray<{ universe: string; symbol: string; date: string; close: number }>,
): Map<string, Map<string, DailySeries>> {
  const universes = new Map<string, Map<string, DailySeries>>();
  for (const row of rows) {
    const members = universes.get(row.universe) ?? new Map<string, DailySeries>();
    universes.set(row.universe, members);
    const series = members.get(row.symbol) ?? { dates: [], closes: [] };
    members.set(row.symbol, series);
    series.dates.push(row.date);
    series.closes.push(row.close);
  }
  return universes;
}

/**
 * The correlation step of etf_universe_maintenance, after the members are settled: for each
 * ETF theme and window, the return correlation matrix of its members with bars, the theme's
 * equal-weighted index and the benchmark, stored for the date; pairs that moved by more than
 * CORRELATION_MOVE_THRESHOLD since the previous stored date are returned for the announcement.
 */
async function maintainCorrelations(
  trx: Knex.Transaction,
  bindings: Record<string, unknown> & { tradingDate: string },
): Promise<{ changed: Record<string, number>; notes: Record<string, unknown> }> {
  const correlationFrom = new Date(localMidnight(shiftDate(bindings.tradingDate, { years: -1, months: -3 }), EXCHANGE_TIME_ZONE));
  const { benchmark, members: themes } = await themeCloses(trx, bindings, 'etf_theme', correlationFrom);
  const moves: Array<CorrelationMove & { universe: string; window: number }> = [];
  const stored: Array<{ universe: string; window: number; labels: number; observations: number }> = [];
  for (const [universe, members] of themes) {
    const series = [...members].map(([label, memberSeries]) => ({ label, series: memberSeries }));
    series.push({ label: universe, series: equalWeightIndex([...members.values()]) });
    if (benchmark.dates.length > 0) series.push({ label: REBALANCE_BENCHMARK, series: benchmark });
    for (const window of CORRELATION_WINDOWS) {
      const current = correlationMatrix(series, window, bindings.tradingDate);
      if (current.observations < 2) continue;
      const previous = await trx.raw<{
        rows: Array<{ labels: string[]; matrix: Array<Array<number | null>>; observations: number }>;
      }>(PREVIOUS_CORRELATION, { ...bindings, universe, window });
      await trx.raw(STORE_CORRELATION, {
        ...bindings,
        universe,
        window,
        labels: JSON.stringify(current.labels),
        matrix: JSON.stringify(current.matrix),
        observations: current.observations,
      });
      stored.push({ universe, window, labels: current.labels.length, observations: current.observations });
      if (previous.rows.length > 0) {
        const before = { ...previous.rows[0], from: null, to: null };
        for (const move of correlationMoves(before, current)) moves.push({ universe, window, ...move });
      }
    }
  }
  return { changed: {}, notes: { correlations: stored, correlationMoves: moves } };
}

interface TaskPlan {
  /** Which symbols need daily figures, if the task reads any. */
  dailyFor?: string;
  /** Whether sector universes must exist for every sector met before evaluating. */
  ensureSectors?: boolean;
  updateMarketCaps?: boolean;
  /** Whether ETF average volumes are refreshed from the daily bars first. */
  refreshEtfVolumes?: boolean;
  /** A statement run before the evaluation, such as writing the configured filters. */
  prepare?: string;
  evaluation: string;
  notes?: (trx: Knex.Transaction) => Promise<Record<string, unknown>>;
  /** A step after the memberships are applied that changes universes themselves (and logs it). */
  after?: typeof rebalanceThemes;
}

const PLANS: Record<SyncTask, TaskPlan> = {
  market_cap_recalculation: {
    dailyFor: `s.kind = 'stock' AND s.shares_outstanding IS NOT NULL AND NOT ${gone('s')}`,
    updateMarketCaps: true,
    evaluation: SIZE_EVALUATION,
  },
  ipo_universe_assignment: {
    dailyFor: `${eligibleStock('s')} AND ${recentIpo('s')}`,
    ensureSectors: true,
    evaluation: IPO_EVALUATION,
  },
  delisted_cleanup: { evaluation: DELISTED_EVALUATION },
  theme_rebalancing: {
    dailyFor: `${eligibleStock('s')} AND s.sector IS NOT NULL`,
    ensureSectors: true,
    evaluation: THEME_EVALUATION,
    after: rebalanceThemes,
  },
  etf_universe_maintenance: {
    dailyFor: `s.kind = 'etf' AND NOT ${gone('s')}`,
    refreshEtfVolumes: true,
    prepare: SET_ETF_FILTERS,
    evaluation: ETF_EVALUATION,
    after: maintainCorrelations,
    async notes(trx) {
      const unknown = await trx.raw<{ rows: Array<{ universe: string; symbol: string }> }>(
        `SELECT u.key AS universe, a.symbol FROM universes u
         CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(u.metadata->'anchors', '[]'::jsonb)) AS a(symbol)
         WHERE u.category = 'etf_theme' AND NOT EXISTS (SELECT 1 FROM symbols s WHERE s.symbol = a.symbol)
         ORDER BY 1, 2`,
      );
      const flagged = await trx.raw<{ rows: Array<{ universe: string; symbol: string; missing: string[] }> }>(
        `SELECT m.universe, m.symbol, ARRAY(SELECT jsonb_array_elements_text(m.flags->'missing_metadata')) AS missing
         FROM universe_members m JOIN universes u ON u.key = m.universe
         WHERE u.category = 'etf_theme' AND m.removed_at IS NULL AND m.flags->'missing_metadata' IS NOT NULL
         ORDER BY 1, 2`,
      );
      const filters = await trx.raw<{ rows: EtfFilterReport[] }>(ETF_FILTER_REPORT);
      const unverified = await trx.raw<{ rows: Array<{ universe: string; symbol: string }> }>(
        `SELECT universe, symbol FROM _eval WHERE qualifies AND flags->'unverified' IS NOT NULL ORDER BY 1, 2`,
      );
      return { unknownAnchors: unknown.rows, flagged: flagged.rows, unverified: unverified.rows, filters: filters.rows };
    },
  },
};

/** Creates a sector theme (with the default filter) for every sector an eligible stock has. */
const ENSURE_SECTORS = `
  INSERT INTO universes (key, category, description, liquidity_filter, metadata)
  SELECT DISTINCT ON (x.slug) 'sector_' || x.slug, 'sector',
    format('Active stocks of the %s sector passing its liquidity filter', x.sector),
    CAST(:sectorFilter AS jsonb), jsonb_build_object('sector', x.sector, 'slug', x.slug)
  FROM (SELECT s.sector, ${slug('s.sector')} AS slug FROM symbols s WHERE ${eligibleStock('s')} AND s.sector IS NOT NULL) x
  WHERE x.slug <> ''
  ORDER BY x.slug, x.sector
  ON CONFLICT (key) DO NOTHING`;

/** Summary of a sync run, built from its audit rows. */
export interface RunSummary {
  run_id: string;
  trading_date: string;
  duration_ms: number;
  changes: number;
  symbols_updated: number;
  tasks: Record<string, ChangeCounts>;
  universes: Record<string, ChangeCounts>;
}

/** The membership changes of one universe in one run, for its notification. */
export interface UniverseRunChanges {
  universe: string;
  added: string[];
  removed: string[];
  updated: string[];
  members: number;
}

/** What a rollback of the sync to a date undid. */
export interface SyncRollback {
  to: string;
  /** Tasks whose state moved back to the date. */
  tasks: SyncTask[];
  membershipsDeleted: number;
  membershipsReopened: number;
  changesDeleted: number;
  runsDeleted: number;
}

/** What the ETF filters did to one theme in one run (see ETF_FILTER_REPORT). */
export interface EtfFilterReport {
  universe: string;
  candidates: number;
  aum: number;
  avg_volume: number;
  expense_ratio: number;
  anchors_kept: string[];
  members: number;
}

/** Settings a sync task runs with. */
export interface SyncOptions {
  /** Each ETF theme's filter by theme (default: the report's filters). */
  etfFilters?: Record<string, EtfFilter>;
}

const emptyCounts = (): ChangeCounts => ({ added: 0, removed: 0, updated: 0 });

/** Runs the sync tasks and records sync runs. Every task is one transaction. */
export class UniverseSyncRepository {
  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {}

  /**
   * Runs one task for a trading date inside its own transaction. The task's row in
   * sync_task_state is locked for the duration, so runs of the same task never interleave,
   * and a date before the one the task last synced is refused (SyncOrderError).
   */
  async runTask(task: SyncTask, tradingDate: string, runId: string, options: SyncOptions = {}): Promise<TaskOutcome> {
    const started = performance.now();
    const window = syncWindow(tradingDate);
    const bindings = {
      tradingDate,
      runId,
      taskName: task,
      dayEnd: window.dayEnd,
      volumeFrom: window.volumeFrom,
      sectorFilter: JSON.stringify(DEFAULT_SECTOR_FILTER),
      etfFilters: JSON.stringify(options.etfFilters ?? effectiveEtfFilters()),
    };
    const plan = PLANS[task];
    return this.db.transaction(async (trx) => {
      // The task's SQL names tables unqualified: they are this repository's schema's.
      await trx.raw(`SET LOCAL search_path TO ${ident(this.schema)}`);
      await this.claimTask(trx, task, tradingDate, runId);
      if (plan.ensureSectors) await trx.raw(ENSURE_SECTORS, bindings);
      if (plan.prepare) await trx.raw(plan.prepare, bindings);
      if (plan.dailyFor) await trx.raw(dailyFiguresSql(plan.dailyFor), bindings);
      let symbolsUpdated = 0;
      if (plan.updateMarketCaps) {
        const changes = await new SymbolsRepository(trx, this.schema).recalculateMarketCaps();
        if (changes.length > 0) await trx.raw(LOG_MARKET_CAPS, { ...bindings, changes: JSON.stringify(changes) });
        symbolsUpdated = changes.length;
      }
      if (plan.refreshEtfVolumes) {
        const changes = await new SymbolsRepository(trx, this.schema).refreshEtfVolumes();
        if (changes.length > 0) await trx.raw(LOG_VOLUMES, { ...bindings, changes: JSON.stringify(changes) });
        symbolsUpdated = changes.length;
      }
      await trx.raw(EVAL_TABLE);
      await trx.raw(`INSERT INTO _eval (universe, symbol, qualifies, reason, detail, flags) ${plan.evaluation}`, bindings);
      const applied = await trx.raw<{ rows: Array<{ universe: string; change: keyof ChangeCounts; count: number }> }>(
        APPLY_EVALUATION,
        bindings,
      );
      const universes: Record<string, ChangeCounts> = {};
      for (const row of applied.rows) (universes[row.universe] ??= emptyCounts())[row.change] += row.count;
      const after = plan.after ? await plan.after(trx, bindings) : { changed: {}, notes: {} };
      for (const [universe, count] of Object.entries(after.changed)) (universes[universe] ??= emptyCounts()).updated += count;
      const changed = Object.keys(universes);
      if (changed.length > 0) await trx('universes').whereIn('key', changed).update({ last_universe_update: trx.fn.now() });
      const notes = { ...(plan.notes ? await plan.notes(trx) : {}), ...after.notes };
      await trx('sync_task_state')
        .where({ task })
        .update({ synced_through: tradingDate, run_id: runId, updated_at: trx.fn.now() });
      const membershipChanges =
        applied.rows.reduce((sum, row) => sum + row.count, 0) +
        Object.values(after.changed).reduce((sum, count) => sum + count, 0);
      return {
        task,
        tradingDate,
        changes: membershipChanges + symbolsUpdated,
        universes,
        symbolsUpdated,
        durationMs: Math.round(performance.now() - started),
        notes,
      };
    });
  }

  private async claimTask(trx: Knex.Transaction, task: SyncTask, tradingDate: string, runId: string): Promise<void> {
    await trx.raw(
      `INSERT INTO sync_task_state (task, synced_through, run_id) VALUES (:task, CAST(:tradingDate AS date), :runId)
       ON CONFLICT (task) DO NOTHING`,
      { task, tradingDate, runId },
    );
    const state = await trx.raw<{ rows: Array<{ through: string }> }>(
      `SELECT ${isoDate('synced_through')} AS through FROM sync_task_state WHERE task = :task FOR UPDATE`,
      { task },
    );
    const through = state.rows[0].through;
    if (through > tradingDate) throw new SyncOrderError(task, through, tradingDate);
  }

  /** Records the start of a run (once; a re-entry keeps the first start). */
  async startRun(runId: string, tradingDate: string): Promise<void> {
    await this.db
      .withSchema(this.schema)
      .table('sync_runs')
      .insert({ run_id: runId, trading_date: tradingDate })
      .onConflict('run_id')
      .ignore();
  }

  /** Counts a run's changes from its audit rows, by task and by universe. */
  async summarize(runId: string): Promise<RunSummary> {
    const run = await this.db.raw<{ rows: Array<{ trading_date: string; duration_ms: number }> }>(
      `SELECT ${isoDate('trading_date')} AS trading_date,
              round(extract(epoch FROM (clock_timestamp() - started_at)) * 1000)::int AS duration_ms
       FROM ${ident(this.schema)}.sync_runs WHERE run_id = ?`,
      [runId],
    );
    if (run.rows.length === 0) throw new Error(`no sync run ${runId}`);
    const counted = await this.db.raw<{
      rows: Array<{ task: string; universe: string | null; change: keyof ChangeCounts; count: number }>;
    }>(
      `SELECT task, universe, change, count(*)::int AS count FROM ${ident(this.schema)}.sync_changes_log WHERE run_id = ? GROUP BY task, universe, change`,
      [runId],
    );
    const summary: RunSummary = {
      run_id: runId,
      trading_date: run.rows[0].trading_date,
      duration_ms: run.rows[0].duration_ms,
      changes: 0,
      symbols_updated: 0,
      tasks: {},
      universes: {},
    };
    for (const row of counted.rows) {
      const count = row.count;
      summary.changes += count;
      (summary.tasks[row.task] ??= emptyCounts())[row.change] += count;
      if (row.universe === null) summary.symbols_updated += count;
      else (summary.universes[row.universe] ??= emptyCounts())[row.change] += count;
    }
    return summary;
  }

  /** Marks a run completed with its summary. */
  async finishRun(summary: RunSummary): Promise<void> {
    await this.db
      .withSchema(this.schema)
      .table('sync_runs')
      .where({ run_id: summary.run_id })
      .update({ status: 'completed', finished_at: this.db.fn.now(), summary: JSON.stringify(summary) });
  }

  /** The symbols each universe gained, lost or had updated in a run, with its member count after it. */
  async universeChanges(runId: string): Promise<UniverseRunChanges[]> {
    const result = await this.db.raw<{ rows: UniverseRunChanges[] }>(
      `SELECT l.universe,
              coalesce(array_agg(l.symbol ORDER BY l.symbol) FILTER (WHERE l.change = 'added'), '{}') AS added,
              coalesce(array_agg(l.symbol ORDER BY l.symbol) FILTER (WHERE l.change = 'removed'), '{}') AS removed,
              coalesce(array_agg(l.symbol ORDER BY l.symbol) FILTER (WHERE l.change = 'updated'), '{}') AS updated,
              (SELECT count(*)::int FROM ${ident(this.schema)}.universe_members m WHERE m.universe = l.universe AND m.removed_at IS NULL) AS members
       FROM ${ident(this.schema)}.sync_changes_log l
       WHERE l.run_id = ? AND l.universe IS NOT NULL
       GROUP BY l.universe
       ORDER BY l.universe`,
      [runId],
    );
    return result.rows;
  }

  /**
   * Rolls the sync back to a trading date, for an operator undoing runs of later dates (a date
   * synced by mistake): memberships that began after it are deleted, those that ended after it
   * reopen, the runs and audit rows of later dates go, and every task's state returns to the
   * date, so the dates after it can be synced again. One transaction. Market caps are left as
   * the last run set them: the next run recalculates them.
   */
  async rollBack(toDate: string): Promise<SyncRollback> {
    return this.db.transaction(async (trx) => {
      const later = (table: string, column: string) => trx.withSchema(this.schema).table(table).where(column, '>', toDate);
      // Tasks wait on their state rows, so no run of any task interleaves with the rollback.
      await trx.withSchema(this.schema).table('sync_task_state').forUpdate().select('task');
      const membershipsDeleted = await later('universe_members', 'added_at').delete();
      const membershipsReopened = await later('universe_members', 'removed_at').update({ removed_at: null });
      const changesDeleted = await later('sync_changes_log', 'trading_date').delete();
      const runsDeleted = await later('sync_runs', 'trading_date').delete();
      const tasks = (await later('sync_task_state', 'synced_through').update(
        { synced_through: toDate, updated_at: trx.fn.now() },
        ['task'],
      )) as Array<{ task: SyncTask }>;
      return {
        to: toDate,
        tasks: tasks.map((row) => row.task).sort(),
        membershipsDeleted,
        membershipsReopened,
        changesDeleted,
        runsDeleted,
      };
    });
  }
}
