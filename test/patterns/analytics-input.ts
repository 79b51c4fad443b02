import type { AnalyticsInput, DetectionColumns } from '../../src/patterns/analytics-dataset.js';
import { ScenarioRandom } from '../../src/scenarios/random.js';

const DAY = 86_400_000;
/** 2020-01-06, a Monday: session t falls on weekday (t mod 5) + 1 when sessions are weekdays. */
const FIRST_SESSION = Date.UTC(2020, 0, 6);

/** One detection of a synthetic history. */
export interface SyntheticDetection {
  symbol: number;
  session: number;
  pattern: number;
  direction?: 1 | -1;
  strength?: number;
  success?: 0 | 1 | -1;
  forwardReturn?: number;
  sector?: number;
}

export interface SyntheticHistory {
  patterns: string[];
  symbols: number;
  sessions: number;
  sectors?: string[];
  /** Regime per session (default all bull). */
  regime?: (session: number) => number;
  volatility?: (session: number) => number;
  /** Session at which an outcome becomes known (default session + 5). */
  horizon?: number;
  detections: SyntheticDetection[];
}

/** Session t as an instant: weekdays only, five per week from Monday 2020-01-06. */
export function sessionTs(session: number): number {
  return FIRST_SESSION + (Math.floor(session / 5) * 7 + (session % 5)) * DAY;
}

/** Builds the analytics input of a synthetic history, calendar fields from the session dates. */
export function analyticsInput(history: SyntheticHistory): AnalyticsInput {
  const rows = history.detections;
  const count = rows.length;
  const horizon = history.horizon ?? 5;
  const detections: DetectionColumns = {
    count,
    id: Float64Array.from(rows, (_, i) => i + 1),
    symbol: Int32Array.from(rows, (row) => row.symbol),
    session: Int32Array.from(rows, (row) => row.session),
    ts: Float64Array.from(rows, (row) => sessionTs(row.session)),
    pattern: Int32Array.from(rows, (row) => row.pattern),
    direction: Int8Array.from(rows, (row) => row.direction ?? 1),
    strength: Float64Array.from(rows, (row) => row.strength ?? 100),
    forwardReturn: Float64Array.from(rows, (row) => row.forwardReturn ?? NaN),
    success: Int8Array.from(rows, (row) => (row.session + horizon < history.sessions ? (row.success ?? 0) : -1)),
    knownSession: Int32Array.from(rows, (row) => (row.session + horizon < history.sessions ? row.session + horizon : -1)),
    regime: Int8Array.from(rows, (row) => history.regime?.(row.session) ?? 0),
    volatility: Int8Array.from(rows, (row) => history.volatility?.(row.session) ?? 1),
    sector: Int32Array.from(rows, (row) => row.sector ?? -1),
    month: Int8Array.from(rows, (row) => new Date(sessionTs(row.session)).getUTCMonth() + 1),
    weekday: Int8Array.from(rows, (row) => new Date(sessionTs(row.session)).getUTCDay()),
    hour: Int8Array.from(rows, () => -1),
  };
  return {
    detections,
    patterns: history.patterns,
    symbols: Array.from({ length: history.symbols }, (_, s) => `S${s}`),
    sectors: history.sectors ?? [],
    sessions: {
      count: history.sessions,
      regime: Int8Array.from({ length: history.sessions }, (_, t) => history.regime?.(t) ?? 0),
      volatility: Int8Array.from({ length: history.sessions }, (_, t) => history.volatility?.(t) ?? 1),
    },
    symbolSpan: {
      first: new Int32Array(history.symbols),
      last: new Int32Array(history.symbols).fill(history.sessions - 1),
    },
  };
}

/** A seeded uniform stream for synthetic histories. */
export function randomStream(seed: number, purpose: string): () => number {
  const random = new ScenarioRandom(seed, 'analytics', purpose);
  return () => random.uniform();
}

export interface PlantedEffect {
  seed: number;
  symbols: number;
  sessions: number;
  patterns: string[];
  /** Chance of each pattern at each symbol-session. */
  rate: number;
  /** Success probability of a detection of `pattern` in `regime`. */
  success: (pattern: number, regime: number) => number;
  regime: (session: number) => number;
  /**
   * When set, `follower` is planted `lag` sessions after each `leader` with probability
   * `chance` (only in the listed regimes, when `regimes` is given).
   */
  follow?: { leader: number; follower: number; lag: number; chance: number; regimes?: number[] };
}

/** A random history with a chosen success structure and, optionally, a planted follow-on pattern. */
export function plantedHistory(effect: PlantedEffect): SyntheticHistory {
  const random = randomStream(effect.seed, 'planted');
  const detections: SyntheticDetection[] = [];
  const seen = new Set<string>();
  const add = (symbol: number, session: number, pattern: number) => {
    const key = `${symbol}:${session}:${pattern}`;
    if (session >= effect.sessions || seen.has(key)) return;
    seen.add(key);
    const success = random() < effect.success(pattern, effect.regime(session)) ? 1 : 0;
    detections.push({ symbol, session, pattern, success, forwardReturn: success ? 0.01 : -0.01 });
  };
  for (let symbol = 0; symbol < effect.symbols; symbol++) {
    for (let session = 0; session < effect.sessions; session++) {
      effect.patterns.forEach((_, pattern) => {
        if (random() >= effect.rate) return;
        add(symbol, session, pattern);
        const follow = effect.follow;
        if (!follow || pattern !== follow.leader || random() >= follow.chance) return;
        if (!follow.regimes || follow.regimes.includes(effect.regime(session)))
          add(symbol, session + follow.lag, follow.follower);
      });
    }
  }
  return { patterns: effect.patterns, symbols: effect.symbols, sessions: effect.sessions, regime: effect.regime, detections };
}
