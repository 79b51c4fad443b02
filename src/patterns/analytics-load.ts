/**
 * Turns what the database holds — detections with outcomes, context and sector, the scope's
 * bar grid and symbol spans, the benchmark's context per date — into the columnar input of the
 * analyses. Rows arrive page by page, so a million detections never sit in memory as objects.
 */
import { formatIsoDate, toWallClock } from '../shared/zone.js';
import type { AnalyticsInput, DetectionColumns } from './analytics-dataset.js';
import type { AnalysisRow } from './analytics.repository.js';
import { REGIMES, UNKNOWN, VOLATILITY_REGIMES } from './context.js';

/** Exchange time, for calendar fields and session dates. */
export const EXCHANGE_ZONE = 'America/New_York';

/** A growable typed column. */
class Column<T extends Float64Array | Int32Array | Int8Array> {
  length = 0;
  constructor(private values: T) {}
  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new (this.values.constructor as new (size: number) => T)(Math.max(1024, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
  done(): T {
    return this.values.subarray(0, this.length) as T;
  }
}

const code = (names: readonly string[], name: string | null) => (name === null ? UNKNOWN : names.indexOf(name));

/** Builds the analytics input of one scope from its rows. */
export class AnalyticsInputBuilder {
  private readonly sessionOf = new Map<number, number>();
  private readonly symbolIndex = new Map<string, number>();
  private readonly patternIndex = new Map<string, number>();
  private readonly sectorIndex = new Map<string, number>();
  private readonly calendar: { month: Int8Array; weekday: Int8Array; hour: Int8Array };
  private readonly columns = {
    id: new Column(new Float64Array(0)),
    symbol: new Column(new Int32Array(0)),
    session: new Column(new Int32Array(0)),
    ts: new Column(new Float64Array(0)),
    pattern: new Column(new Int32Array(0)),
    direction: new Column(new Int8Array(0)),
    strength: new Column(new Float64Array(0)),
    forwardReturn: new Column(new Float64Array(0)),
    success: new Column(new Int8Array(0)),
    knownSession: new Column(new Int32Array(0)),
    regime: new Column(new Int8Array(0)),
    volatility: new Column(new Int8Array(0)),
    sector: new Column(new Int32Array(0)),
  };
  /** Detections skipped because their bar is not in the grid (bars deleted since detection). */
  skipped = 0;

  /**
   * `grid`: the scope's bar starts, ascending; `spans`: each symbol's first and last bar;
   * `context`: the benchmark's regimes by session date; `intraday`: whether a session's
   * context is the previous session's.
   */
  constructor(
    private readonly grid: number[],
    private readonly spans: { symbol: string; first: number; last: number }[],
    private readonly context: Map<string, { regime: string | null; volatility: string | null }>,
    private readonly intraday: boolean,
  ) {
    grid.forEach((ts, index) => this.sessionOf.set(ts, index));
    spans.forEach((span) => this.index(this.symbolIndex, span.symbol));
    const wall = grid.map((ts) => toWallClock(ts, EXCHANGE_ZONE));
    this.calendar = {
      month: Int8Array.from(wall, (clock) => clock.month),
      weekday: Int8Array.from(wall, (clock) => clock.weekday || 7),
      hour: Int8Array.from(wall, (clock) => (intraday ? clock.hour : -1)),
    };
  }

  private index(map: Map<string, number>, key: string): number {
    let index = map.get(key);
    if (index === undefined) {
      index = map.size;
      map.set(key, index);
    }
    return index;
  }

  /** Adds a page of rows. */
  add(rows: AnalysisRow[]): void {
    const c = this.columns;
    for (const row of rows) {
      const session = this.sessionOf.get(row.ts);
      if (session === undefined) {
        this.skipped++;
        continue;
      }
      const known = row.known_at === null ? undefined : this.sessionOf.get(row.known_at);
      // An outcome known after the scope's last bar is not known as of the analysis.
      const success = row.success !== null && known !== undefined ? row.success : -1;
      c.id.push(row.id);
      c.symbol.push(this.index(this.symbolIndex, row.symbol));
      c.session.push(session);
      c.ts.push(row.ts);
      c.pattern.push(this.index(this.patternIndex, row.pattern));
      c.direction.push(row.direction === 'bullish' ? 1 : -1);
      c.strength.push(row.strength);
      c.forwardReturn.push(success >= 0 && row.success_return !== null ? row.success_return : NaN);
      c.success.push(success);
      c.knownSession.push(success >= 0 ? known! : -1);
      c.regime.push(code(REGIMES, row.regime));
      c.volatility.push(code(VOLATILITY_REGIMES, row.volatility_regime));
      c.sector.push(row.sector === null ? -1 : this.index(this.sectorIndex, row.sector));
    }
  }

  /** Detections added so far. */
  get count(): number {
    return this.columns.id.length;
  }

  /** The session grid's context codes, each session judged as its detections are. */
  private sessionContext(): { regime: Int8Array; volatility: Int8Array } {
    const dates = [...this.context.keys()].sort();
    const regime = new Int8Array(this.grid.length).fill(UNKNOWN);
    const volatility = new Int8Array(this.grid.length).fill(UNKNOWN);
    let pointer = -1;
    this.grid.forEach((ts, t) => {
      const clock = toWallClock(ts, EXCHANGE_ZONE);
      const day = formatIsoDate(clock.year, clock.month, clock.day);
      while (pointer + 1 < dates.length && (this.intraday ? dates[pointer + 1] < day : dates[pointer + 1] <= day)) pointer++;
      if (pointer < 0) return;
      const entry = this.context.get(dates[pointer])!;
      regime[t] = code(REGIMES, entry.regime);
      volatility[t] = code(VOLATILITY_REGIMES, entry.volatility);
    });
    return { regime, volatility };
  }

  build(): AnalyticsInput {
    const c = this.columns;
    const session = c.session.done();
    const detections: DetectionColumns = {
      count: this.count,
      id: c.id.done(),
      symbol: c.symbol.done(),
      session,
      ts: c.ts.done(),
      pattern: c.pattern.done(),
      direction: c.direction.done(),
      strength: c.strength.done(),
      forwardReturn: c.forwardReturn.done(),
      success: c.success.done(),
      knownSession: c.knownSession.done(),
      regime: c.regime.done(),
      volatility: c.volatility.done(),
      sector: c.sector.done(),
      month: Int8Array.from(session, (t) => this.calendar.month[t]),
      weekday: Int8Array.from(session, (t) => this.calendar.weekday[t]),
      hour: Int8Array.from(session, (t) => this.calendar.hour[t]),
    };
    const symbols = [...this.symbolIndex.keys()];
    const first = new Int32Array(symbols.length).fill(-1);
    const last = new Int32Array(symbols.length).fill(-1);
    for (const span of this.spans) {
      const s = this.symbolIndex.get(span.symbol)!;
      first[s] = this.sessionOf.get(span.first) ?? -1;
      last[s] = this.sessionOf.get(span.last) ?? -1;
    }
    return {
      detections,
      patterns: [...this.patternIndex.keys()],
      symbols,
      sectors: [...this.sectorIndex.keys()],
      sessions: { count: this.grid.length, ...this.sessionContext() },
      symbolSpan: { first, last },
    };
  }
}
