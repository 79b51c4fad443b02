/**
 * How each pattern's success depends on the market: by trend regime, by volatility regime and
 * by sector, with the best combination of conditions.
 */
import {
  type AnalysisSettings,
  type AnalyticsInput,
  countByPattern,
  homogeneityTable,
  successRate,
} from './analytics-dataset.js';
import type { RegimeImpact, SuccessRate } from './analytics-schemas.js';
import { dependenceTests } from './analytics-statistics.js';
import { REGIMES, type Regime, VOLATILITY_REGIMES, type VolatilityRegime } from './context.js';

/** Regime impact of every pattern that has a detection with a known outcome. */
export function regimeImpact(input: AnalyticsInput, settings: AnalysisSettings): RegimeImpact[] {
  const { detections } = input;
  const patterns = input.patterns.length;
  const sectors = input.sectors.length;
  const rate = (successes: number, count: number) => successRate(successes, count, settings.confidence);
  const overall = countByPattern(input, 1, () => 0);
  const byRegime = countByPattern(input, REGIMES.length, (i) => detections.regime[i]);
  const byVolatility = countByPattern(input, VOLATILITY_REGIMES.length, (i) => detections.volatility[i]);
  const bySector = countByPattern(input, sectors, (i) => detections.sector[i]);
  const cells = REGIMES.length * VOLATILITY_REGIMES.length;
  const byConditions = countByPattern(input, cells, (i) =>
    detections.regime[i] < 0 || detections.volatility[i] < 0
      ? -1
      : detections.regime[i] * VOLATILITY_REGIMES.length + detections.volatility[i],
  );
  const present = Array.from({ length: patterns }, (_, p) => p).filter((p) => overall.count[p] > 0);
  const regimeTests = dependenceTests(present.map((p) => homogeneityTable(byRegime, p, REGIMES.length)));
  const volatilityTests = dependenceTests(present.map((p) => homogeneityTable(byVolatility, p, VOLATILITY_REGIMES.length)));
  const sectorTests = dependenceTests(present.map((p) => homogeneityTable(bySector, p, sectors)));

  return present.map((p, k) => {
    const regimeRate = (regime: Regime) => {
      const cell = p * REGIMES.length + REGIMES.indexOf(regime);
      return rate(byRegime.successes[cell], byRegime.count[cell]);
    };
    const volatilityRate = (level: number) => {
      const cell = p * VOLATILITY_REGIMES.length + level;
      return rate(byVolatility.successes[cell], byVolatility.count[cell]);
    };
    const volatility = Object.fromEntries(VOLATILITY_REGIMES.map((name, level) => [name, volatilityRate(level)])) as Record<
      VolatilityRegime,
      SuccessRate
    >;
    const { high, low } = volatility;
    const sectorRates = input.sectors
      .map((sector, c) => ({ sector, ...rate(bySector.successes[p * sectors + c], bySector.count[p * sectors + c]) }))
      .filter((entry) => entry.count > 0);
    return {
      pattern: input.patterns[p],
      overall: rate(overall.successes[p], overall.count[p]),
      bullMarketSuccessRate: regimeRate('bull'),
      bearMarketSuccessRate: regimeRate('bear'),
      neutralMarketSuccessRate: regimeRate('neutral'),
      regimeDependence: regimeTests[k],
      volatilityImpactFactor:
        high.successRate !== null && low.successRate !== null && low.successRate > 0 ? high.successRate / low.successRate : null,
      byVolatility: volatility,
      volatilityDependence: volatilityTests[k],
      sectorDependency: { ...sectorTests[k], sectors: sectorRates },
      optimalMarketConditions: optimalConditions(byConditions, p, settings),
    };
  });
}

/** The regime × volatility cell whose success rate has the highest lower confidence bound. */
function optimalConditions(
  counts: { count: Int32Array; successes: Int32Array },
  pattern: number,
  settings: AnalysisSettings,
): RegimeImpact['optimalMarketConditions'] {
  let best: RegimeImpact['optimalMarketConditions'] = null;
  REGIMES.forEach((regime, r) =>
    VOLATILITY_REGIMES.forEach((volatilityRegime, v) => {
      const cell = pattern * REGIMES.length * VOLATILITY_REGIMES.length + r * VOLATILITY_REGIMES.length + v;
      if (counts.count[cell] < settings.minCellCount) return;
      const candidate = {
        regime,
        volatilityRegime,
        ...successRate(counts.successes[cell], counts.count[cell], settings.confidence),
      };
      if (best === null || candidate.confidenceInterval![0] > best.confidenceInterval![0]) best = candidate;
    }),
  );
  return best;
}
