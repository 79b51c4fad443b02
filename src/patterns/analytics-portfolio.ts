/**
 * What the patterns detected in a portfolio's symbols implied for it over a range
 * (`GET /api/analytics/portfolio/impact`): the returns that followed bullish and bearish
 * signals, a portfolio that followed the signals against buy-and-hold, and the exposure each
 * pattern gave it. Pure: each symbol's closes and detections in, figures out.
 */
import type { PortfolioImpact } from './analytics-schemas.js';

/** One holding: its closes over the range (ascending) and its detections. */
export interface Holding {
  symbol: string;
  /** Fraction of the portfolio; holdings' weights are normalised to sum to 1. */
  weight: number;
  close: ArrayLike<number>;
  /** Detections on this symbol: `bar` indexes `close`; direction +1 bullish, −1 bearish. */
  detections: { bar: number; pattern: string; direction: number }[];
}

interface Sum {
  weighted: number;
  weights: number;
  hits: number;
  measured: number;
  signals: number;
}

const emptySum = (): Sum => ({ weighted: 0, weights: 0, hits: 0, measured: 0, signals: 0 });

function signalReturns(sum: Sum, baseline: number | null): PortfolioImpact['afterBullishSignals'] {
  const mean = sum.weights > 0 ? sum.weighted / sum.weights : null;
  return {
    signals: sum.signals,
    measured: sum.measured,
    meanForwardReturn: mean,
    hitRate: sum.measured > 0 ? sum.hits / sum.measured : null,
    excessReturn: mean !== null && baseline !== null ? mean - baseline : null,
  };
}

/** The portfolio impact of the holdings' detections, forward returns over `horizon` bars. */
export function portfolioImpact(holdings: Holding[], horizon: number): PortfolioImpact {
  const totalWeight = holdings.reduce((sum, holding) => sum + holding.weight, 0);
  const bullish = emptySum();
  const bearish = emptySum();
  const byPattern = new Map<string, Sum & { bullish: number; bearish: number; exposure: number }>();
  let buyAndHold = 0;
  let following = 0;
  let baselineSum = 0;
  let baselineWeight = 0;
  for (const holding of holdings) {
    const weight = holding.weight / totalWeight;
    const { close } = holding;
    const bars = close.length;
    if (bars === 0) continue;
    buyAndHold += weight * (close[bars - 1] / close[0] - 1);
    let entries = 0;
    let entrySum = 0;
    for (let t = 0; t + horizon < bars; t++, entries++) entrySum += close[t + horizon] / close[t] - 1;
    if (entries > 0) {
      baselineSum += weight * (entrySum / entries);
      baselineWeight += weight;
    }
    // position[t]: the net direction of the signals active over the move from bar t − 1 to t.
    const position = new Float64Array(bars);
    const active = new Map<string, Uint8Array>();
    for (const detection of holding.detections) {
      const direction = detection.direction > 0 ? 1 : -1;
      const sum = direction > 0 ? bullish : bearish;
      const pattern = byPattern.get(detection.pattern) ?? { ...emptySum(), bullish: 0, bearish: 0, exposure: 0 };
      byPattern.set(detection.pattern, pattern);
      sum.signals++;
      pattern.signals++;
      pattern[direction > 0 ? 'bullish' : 'bearish']++;
      const activeEnd = Math.min(bars - 1, detection.bar + horizon);
      const marks = active.get(detection.pattern) ?? new Uint8Array(bars);
      active.set(detection.pattern, marks);
      for (let t = detection.bar + 1; t <= activeEnd; t++) {
        position[t] += direction;
        marks[t] = 1;
      }
      if (detection.bar + horizon >= bars) continue;
      const move = close[detection.bar + horizon] / close[detection.bar] - 1;
      for (const target of [sum, pattern]) {
        target.weighted += weight * move;
        target.weights += weight;
        target.measured++;
        target.hits += move * direction > 0 ? 1 : 0;
      }
    }
    for (const [key, marks] of active) {
      byPattern.get(key)!.exposure += (weight * marks.reduce((sum, mark) => sum + mark, 0)) / Math.max(1, bars - 1);
    }
    let growth = 1;
    for (let t = 1; t < bars; t++) growth *= 1 + Math.sign(position[t]) * (close[t] / close[t - 1] - 1);
    following += weight * (growth - 1);
  }
  const baseline = baselineWeight > 0 ? baselineSum / baselineWeight : null;
  return {
    holdings: holdings.map((holding) => ({ symbol: holding.symbol, weight: holding.weight / totalWeight })),
    horizonBars: horizon,
    buyAndHoldReturn: buyAndHold,
    signalFollowingReturn: following,
    unconditionalForwardReturn: baseline,
    afterBullishSignals: signalReturns(bullish, baseline),
    afterBearishSignals: signalReturns(bearish, baseline),
    exposureByPattern: [...byPattern]
      .map(([pattern, sum]) => ({
        pattern,
        signals: sum.signals,
        bullish: sum.bullish,
        bearish: sum.bearish,
        exposure: sum.exposure,
        netDirection: (sum.bullish - sum.bearish) / sum.signals,
        meanForwardReturn: sum.weights > 0 ? sum.weighted / sum.weights : null,
      }))
      .sort((a, b) => b.exposure - a.exposure || a.pattern.localeCompare(b.pattern)),
  };
}
