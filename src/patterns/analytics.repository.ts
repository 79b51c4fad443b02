import type { Knex } from 'knex';
import { ident, type Queryable } from '../shared/db.js';
import type { AnalysisScope } from './analytics-scope.js';
import type { CustomQuery, QueryDimension } from './analytics-query.js';

/** A detection that needs (re)labelling, with what the outcome kernel needs of it. */
export interface DetectionToLabel {
  id: number;
  symbol: string;
  variant: string;
  ts: number;
  direction: 'bullish' | 'bearish';
}

/** One outcome row as stored. */
export interface OutcomeRow {
  detection_id: number;
  forward_1: number | null;
  forward_5: number | null;
  forward_20: number | null;
  favourable: number | null;
  adverse: number | null;
  success: number | null;
  success_return: number | null;
  known_at: string | null;
  success_horizon: number;
  success_threshold: number;
  complete: boolean;
}

/** One session's market context as stored. */
export interface ContextRow {
  session_date: string;
  regime: string | null;
  volatility_regime: string | null;
  realised_volatility: number | null;
}

/** A detection with its outcome, context and sector, as the analysis reads it. */
export interface AnalysisRow {
  id: number;
  symbol: string;
  ts: number;
  pattern: string;
  direction: 'bullish' | 'bearish';
  strength: number;
  success: number | null;
  success_return: number | null;
  known_at: number | null;
  regime: string | null;
  volatility_regime: string | null;
  sector: string | null;
}

/** A stored analysis. */
export interface AnalysisRecord {
  id: number;
  scope: unknown;
  as_of: string;
  settings: unknown;
  detections: number;
  results: unknown;
  job_id: string | null;
  created_at: string;
}

/** Success settings an outcome was measured with. */
export interface SuccessRule {
  horizon: number;
  threshold: number;
}

/** Rows read per page when an analysis loads its detections. */
const PAGE = 50_000;
/** Rows written per statement. */
const BATCH = 5_000;

const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

/** The SQL of each custom-query dimension over d (detections), o (outcomes), c (context), s (symbols). */
const DIMENSION_SQL: Record<QueryDimension, string> = {
  pattern: 'd.pattern',
  symbol: 'd.symbol',
  sector: 's.sector',
  direction: 'd.direction',
  regime: 'c.regime',
  volatilityRegime: 'c.volatility_regime',
  detectorVersion: 'd.detector_version',
  year: `extract(year from d.ts AT TIME ZONE 'America/New_York')::int`,
  month: `extract(month from d.ts AT TIME ZONE 'America/New_York')::int`,
  weekday: `extract(isodow from d.ts AT TIME ZONE 'America/New_York')::int`,
  hour: `extract(hour from d.ts AT TIME ZONE 'America/New_York')::int`,
};

/**
 * The one writer of `pattern_outcomes`, `market_context` and `pattern_analyses`, and the reads
 * the analytics make of detections, bars and symbols.
 */
export class PatternAnalyticsRepository {
  private readonly s: string;

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.s = ident(schema);
  }

  /** Daily closes of the benchmark, ascending (ts epoch ms). */
  async dailyCloses(symbol: string): Promise<{ ts: number; close: number }[]> {
    const result = await this.db.raw<{ rows: { ts: number; close: number }[] }>(
      `SELECT ${epochMs('ts')} AS ts, close FROM ${this.s}.bars
       WHERE symbol = ? AND timeframe = '1d' AND variant = '' AND source <> 'fill' ORDER BY ts`,
      [symbol],
    );
    return result.rows;
  }

  /** Upserts a benchmark's context per session. */
  async upsertContext(benchmark: string, rows: ContextRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += BATCH) {
      await this.db.raw(
        `INSERT INTO ${this.s}.market_context (benchmark, session_date, regime, volatility_regime, realised_volatility)
         SELECT ?, r.session_date, r.regime, r.volatility_regime, r.realised_volatility
         FROM jsonb_to_recordset(?::jsonb) AS r(session_date date, regime text, volatility_regime text, realised_volatility float8)
         ON CONFLICT (benchmark, session_date) DO UPDATE SET regime = excluded.regime,
           volatility_regime = excluded.volatility_regime, realised_volatility = excluded.realised_volatility`,
        [benchmark, JSON.stringify(rows.slice(start, start + BATCH))],
      );
    }
  }

  /**
   * Detections of a timeframe without a complete outcome under the rule (never labelled,
   * waiting for later bars, or labelled under another rule), by series and ts.
   */
  async detectionsToLabel(timeframe: string, rule: SuccessRule): Promise<DetectionToLabel[]> {
    const result = await this.db.raw<{ rows: DetectionToLabel[] }>(
      `SELECT d.id::float8 AS id, d.symbol, d.variant, ${epochMs('d.ts')} AS ts, d.direction
       FROM ${this.s}.pattern_detections d
       LEFT JOIN ${this.s}.pattern_outcomes o ON o.detection_id = d.id
       WHERE d.timeframe = ?
         AND (o.detection_id IS NULL OR NOT o.complete OR o.success_horizon <> ? OR o.success_threshold <> ?)
       ORDER BY d.symbol, d.variant, d.ts`,
      [timeframe, rule.horizon, rule.threshold],
    );
    return result.rows;
  }

  /** A series' bars from `from` on (epoch ms), ascending: what outcomes are measured on. */
  async seriesFrom(symbol: string, timeframe: string, variant: string, from: number) {
    const result = await this.db.raw<{ rows: { ts: number; high: number; low: number; close: number }[] }>(
      `SELECT ${epochMs('ts')} AS ts, high, low, close FROM ${this.s}.bars
       WHERE symbol = ? AND timeframe = ? AND variant = ? AND ts >= ? AND source <> 'fill' ORDER BY ts`,
      [symbol, timeframe, variant, new Date(from).toISOString()],
    );
    return result.rows;
  }

  /** Upserts outcomes (a relabelled detection's row is replaced). */
  async upsertOutcomes(rows: OutcomeRow[]): Promise<void> {
    const columns = [
      ['forward_1', 'float8'],
      ['forward_5', 'float8'],
      ['forward_20', 'float8'],
      ['favourable', 'float8'],
      ['adverse', 'float8'],
      ['success', 'smallint'],
      ['success_return', 'float8'],
      ['known_at', 'timestamptz'],
      ['success_horizon', 'integer'],
      ['success_threshold', 'float8'],
      ['complete', 'boolean'],
    ] as const;
    const names = columns.map(([name]) => name);
    for (let start = 0; start < rows.length; start += BATCH) {
      await this.db.raw(
        `INSERT INTO ${this.s}.pattern_outcomes (detection_id, ${names.join(', ')})
         SELECT r.detection_id, ${names.map((name) => `r.${name}`).join(', ')}
         FROM jsonb_to_recordset(?::jsonb) AS r(detection_id bigint, ${columns.map(([name, type]) => `${name} ${type}`).join(', ')})
         ON CONFLICT (detection_id) DO UPDATE SET ${names.map((name) => `${name} = excluded.${name}`).join(', ')}, labelled_at = now()`,
        [JSON.stringify(rows.slice(start, start + BATCH))],
      );
    }
  }

  /** The WHERE clause and bindings of a scope over detections `d`. */
  private scopeFilter(scope: AnalysisScope, symbols: string[] | undefined): { sql: string; bindings: Knex.RawBinding[] } {
    const clauses = ['d.timeframe = ?', "d.variant = ''"];
    const bindings: Knex.RawBinding[] = [scope.timeframe];
    if (symbols) {
      clauses.push('d.symbol = ANY(?)');
      bindings.push(symbols);
    }
    if (scope.patterns) {
      clauses.push('d.pattern = ANY(?)');
      bindings.push(scope.patterns);
    }
    if (scope.detectorVersion) {
      clauses.push('d.detector_version = ?');
      bindings.push(scope.detectorVersion);
    }
    if (scope.from) {
      clauses.push(`d.ts >= (?::date)::timestamp AT TIME ZONE 'America/New_York'`);
      bindings.push(scope.from);
    }
    if (scope.to) {
      clauses.push(`d.ts < ((?::date + 1)::timestamp AT TIME ZONE 'America/New_York')`);
      bindings.push(scope.to);
    }
    return { sql: clauses.join(' AND '), bindings };
  }

  /**
   * The context a detection is judged in: its own session's for daily and longer bars (both
   * are known at that close), the previous session's for intraday ones (the day's close is not
   * known during the day).
   */
  private contextJoin(intraday: boolean): string {
    const day = `(d.ts AT TIME ZONE 'America/New_York')::date`;
    return `LEFT JOIN LATERAL (
        SELECT regime, volatility_regime FROM ${this.s}.market_context
        WHERE benchmark = ? AND session_date ${intraday ? '<' : '<='} ${day}
        ORDER BY session_date DESC LIMIT 1) c ON true`;
  }

  /** The scope's detections with outcome (under the rule), context and sector, page by page. */
  async *analysisRows(
    scope: AnalysisScope,
    symbols: string[] | undefined,
    rule: SuccessRule,
    benchmark: string,
    intraday: boolean,
  ): AsyncGenerator<AnalysisRow[]> {
    const filter = this.scopeFilter(scope, symbols);
    let after = 0;
    for (;;) {
      const result = await this.db.raw<{ rows: AnalysisRow[] }>(
        `SELECT d.id::float8 AS id, d.symbol, ${epochMs('d.ts')} AS ts, d.pattern, d.direction, d.strength,
                o.success, o.success_return, ${epochMs('o.known_at')} AS known_at,
                c.regime, c.volatility_regime, sym.sector
         FROM ${this.s}.pattern_detections d
         LEFT JOIN ${this.s}.pattern_outcomes o
           ON o.detection_id = d.id AND o.success_horizon = ? AND o.success_threshold = ?
         ${this.contextJoin(intraday)}
         LEFT JOIN ${this.s}.symbols sym ON sym.symbol = d.symbol
         WHERE ${filter.sql} AND d.id > ?
         ORDER BY d.id LIMIT ${PAGE}`,
        [rule.horizon, rule.threshold, benchmark, ...filter.bindings, after],
      );
      if (result.rows.length === 0) return;
      yield result.rows;
      after = result.rows[result.rows.length - 1].id;
    }
  }

  /** The bars' ts grid of the scope (every distinct bar start of its symbols) and each symbol's span. */
  async barGrid(
    scope: AnalysisScope,
    symbols: string[] | undefined,
  ): Promise<{ grid: number[]; spans: { symbol: string; first: number; last: number }[] }> {
    const clauses = ['timeframe = ?', "variant = ''", "source <> 'fill'"];
    const bindings: Knex.RawBinding[] = [scope.timeframe];
    if (symbols) {
      clauses.push('symbol = ANY(?)');
      bindings.push(symbols);
    }
    if (scope.from) {
      clauses.push(`ts >= (?::date)::timestamp AT TIME ZONE 'America/New_York'`);
      bindings.push(scope.from);
    }
    if (scope.to) {
      clauses.push(`ts < ((?::date + 1)::timestamp AT TIME ZONE 'America/New_York')`);
      bindings.push(scope.to);
    }
    const where = clauses.join(' AND ');
    const grid = await this.db.raw<{ rows: { ts: number }[] }>(
      `SELECT DISTINCT ${epochMs('ts')} AS ts FROM ${this.s}.bars WHERE ${where} ORDER BY 1`,
      bindings,
    );
    const spans = await this.db.raw<{ rows: { symbol: string; first: number; last: number }[] }>(
      `SELECT symbol, ${epochMs('min(ts)')} AS first, ${epochMs('max(ts)')} AS last FROM ${this.s}.bars WHERE ${where} GROUP BY symbol`,
      bindings,
    );
    return { grid: grid.rows.map((row) => row.ts), spans: spans.rows };
  }

  /** The benchmark's context per session date. */
  async contextByDate(benchmark: string): Promise<Map<string, { regime: string | null; volatility: string | null }>> {
    const result = await this.db.raw<{ rows: { date: string; regime: string | null; volatility_regime: string | null }[] }>(
      `SELECT to_char(session_date, 'YYYY-MM-DD') AS date, regime, volatility_regime FROM ${this.s}.market_context WHERE benchmark = ?`,
      [benchmark],
    );
    return new Map(result.rows.map((row) => [row.date, { regime: row.regime, volatility: row.volatility_regime }]));
  }

  /** Stores an analysis; a re-run of the same scope and as-of date replaces it. */
  async saveAnalysis(row: {
    scopeKey: string;
    scope: unknown;
    asOf: string;
    settings: unknown;
    detections: number;
    results: unknown;
    jobId: string | null;
  }): Promise<number> {
    const result = await this.db.raw<{ rows: { id: number }[] }>(
      `INSERT INTO ${this.s}.pattern_analyses (scope_key, scope, as_of, settings, detections, results, job_id)
       VALUES (?, ?::jsonb, ?, ?::jsonb, ?, ?::jsonb, ?)
       ON CONFLICT (scope_key, as_of) DO UPDATE SET scope = excluded.scope, settings = excluded.settings,
         detections = excluded.detections, results = excluded.results, job_id = excluded.job_id, created_at = now()
       RETURNING id::float8 AS id`,
      [
        row.scopeKey,
        JSON.stringify(row.scope),
        row.asOf,
        JSON.stringify(row.settings),
        row.detections,
        JSON.stringify(row.results),
        row.jobId,
      ],
    );
    return result.rows[0].id;
  }

  /** The latest analysis of a scope. */
  async latestAnalysis(scopeKey: string): Promise<AnalysisRecord | undefined> {
    const result = await this.db.raw<{ rows: AnalysisRecord[] }>(
      `SELECT id::float8 AS id, scope, to_char(as_of, 'YYYY-MM-DD') AS as_of, settings, detections, results, job_id, created_at::text AS created_at
       FROM ${this.s}.pattern_analyses WHERE scope_key = ? ORDER BY as_of DESC, id DESC LIMIT 1`,
      [scopeKey],
    );
    return result.rows[0];
  }

  /**
   * When the newest analysis of any scope was stored ('' before the first): the version of the
   * answers read from the tables, which every new analysis invalidates.
   */
  async latestAnalysisVersion(): Promise<string> {
    const result = await this.db.raw<{ rows: { at: string | null }[] }>(
      `SELECT max(created_at)::text AS at FROM ${this.s}.pattern_analyses`,
    );
    return result.rows[0].at ?? '';
  }

  /** The settings of the newest analysis of any scope: the outcome rule and benchmark reads use. */
  async latestSettings(): Promise<Record<string, unknown> | undefined> {
    const result = await this.db.raw<{ rows: { settings: Record<string, unknown> }[] }>(
      `SELECT settings FROM ${this.s}.pattern_analyses ORDER BY id DESC LIMIT 1`,
    );
    return result.rows[0]?.settings;
  }

  /** Whether any detection of the pattern key is stored (for telling an unknown key from a quiet one). */
  async patternKnown(pattern: string): Promise<boolean> {
    const result = await this.db.raw<{ rows: unknown[] }>(
      `SELECT 1 FROM ${this.s}.pattern_detections WHERE pattern = ? LIMIT 1`,
      [pattern],
    );
    return result.rows.length > 0;
  }

  /** Closes of a series between two dates (inclusive, exchange days), ascending. */
  async closesBetween(symbol: string, timeframe: string, from: string, to: string): Promise<{ ts: number; close: number }[]> {
    const result = await this.db.raw<{ rows: { ts: number; close: number }[] }>(
      `SELECT ${epochMs('ts')} AS ts, close FROM ${this.s}.bars
       WHERE symbol = ? AND timeframe = ? AND variant = '' AND source <> 'fill'
         AND ts >= (?::date)::timestamp AT TIME ZONE 'America/New_York'
         AND ts < ((?::date + 1)::timestamp AT TIME ZONE 'America/New_York')
       ORDER BY ts`,
      [symbol, timeframe, from, to],
    );
    return result.rows;
  }

  /** Detections of symbols in a scope (portfolio impact), ascending by ts. */
  async detectionsOf(
    scope: AnalysisScope,
    symbols: string[],
  ): Promise<{ symbol: string; ts: number; pattern: string; direction: string }[]> {
    const filter = this.scopeFilter(scope, symbols);
    const result = await this.db.raw<{ rows: { symbol: string; ts: number; pattern: string; direction: string }[] }>(
      `SELECT d.symbol, ${epochMs('d.ts')} AS ts, d.pattern, d.direction FROM ${this.s}.pattern_detections d
       WHERE ${filter.sql} ORDER BY d.ts, d.symbol, d.pattern`,
      filter.bindings,
    );
    return result.rows;
  }

  /** Answers a custom query: GROUP BY over whitelisted expressions, never the caller's SQL. */
  async customQuery(
    query: CustomQuery,
    symbols: string[] | undefined,
    rule: SuccessRule,
    benchmark: string,
    intraday: boolean,
  ): Promise<{ key: Record<string, string | number | null>; value: number | null; count: number; measured: number }[]> {
    const scope: AnalysisScope = {
      timeframe: query.filter.timeframe,
      from: query.filter.from,
      to: query.filter.to,
      patterns: query.filter.patterns,
      detectorVersion: query.filter.detectorVersion,
    };
    const filter = this.scopeFilter(scope, symbols);
    const clauses = [filter.sql];
    const bindings = [...filter.bindings];
    if (query.filter.regimes) {
      clauses.push('c.regime = ANY(?)');
      bindings.push(query.filter.regimes);
    }
    if (query.filter.volatilityRegimes) {
      clauses.push('c.volatility_regime = ANY(?)');
      bindings.push(query.filter.volatilityRegimes);
    }
    if (query.filter.directions) {
      clauses.push('d.direction = ANY(?)');
      bindings.push(query.filter.directions);
    }
    const groups = query.groupBy.map((dimension, k) => `${DIMENSION_SQL[dimension]} AS g${k}`);
    const metric = {
      count: 'count(*)::float8',
      successRate: 'avg(o.success)::float8',
      meanForwardReturn: 'avg(o.success_return)::float8',
    }[query.metric];
    const result = await this.db.raw<{ rows: Record<string, string | number | null>[] }>(
      `SELECT ${groups.join(', ')}, ${metric} AS value, count(*)::int AS count, count(o.success)::int AS measured
       FROM ${this.s}.pattern_detections d
       LEFT JOIN ${this.s}.pattern_outcomes o
         ON o.detection_id = d.id AND o.success_horizon = ? AND o.success_threshold = ?
       ${this.contextJoin(intraday)}
       LEFT JOIN ${this.s}.symbols s ON s.symbol = d.symbol
       WHERE ${clauses.join(' AND ')}
       GROUP BY ${groups.map((_, k) => `g${k}`).join(', ')}
       ORDER BY count DESC, ${groups.map((_, k) => `g${k}`).join(', ')}
       LIMIT ?`,
      [rule.horizon, rule.threshold, benchmark, ...bindings, query.limit + 1],
    );
    return result.rows.map((row) => ({
      key: Object.fromEntries(query.groupBy.map((dimension, k) => [dimension, row[`g${k}`] ?? null])),
      value: row.value === null ? null : Number(row.value),
      count: Number(row.count),
      measured: Number(row.measured),
    }));
  }
}
