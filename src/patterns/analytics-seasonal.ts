/**
 * Seasonality of pattern success: by month, by weekday and, for intraday bars, by hour, each
 * with a χ² test that success does not depend on the season.
 */
import {
  type AnalysisSettings,
  type AnalyticsInput,
  countByPattern,
  homogeneityTable,
  successRate,
} from './analytics-dataset.js';
import type { SeasonalBreakdown, SeasonalPattern } from './analytics-schemas.js';
import { dependenceTests } from './analytics-statistics.js';

interface Dimension {
  /** Seasons are first … first + size − 1. */
  first: number;
  size: number;
  column: Int8Array;
}

/** Per-pattern breakdowns along one dimension, p-values adjusted across the patterns. */
function breakdowns(
  input: AnalyticsInput,
  patterns: number[],
  dimension: Dimension,
  settings: AnalysisSettings,
): SeasonalBreakdown[] {
  const counts = countByPattern(input, dimension.size, (i) => {
    const bucket = dimension.column[i] - dimension.first;
    return bucket >= 0 && bucket < dimension.size ? bucket : -1;
  });
  const tests = dependenceTests(patterns.map((p) => homogeneityTable(counts, p, dimension.size)));
  return patterns.map((p, k) => ({
    seasons: Array.from({ length: dimension.size }, (_, b) => ({
      season: dimension.first + b,
      ...successRate(counts.successes[p * dimension.size + b], counts.count[p * dimension.size + b], settings.confidence),
    })).filter((season) => season.count > 0),
    significance: tests[k],
  }));
}

/** Seasonality of every pattern with a known outcome; `intraday` adds the hour of day. */
export function seasonality(input: AnalyticsInput, settings: AnalysisSettings, intraday: boolean): SeasonalPattern[] {
  const { detections } = input;
  const known = countByPattern(input, 1, () => 0);
  const patterns = input.patterns.map((_, p) => p).filter((p) => known.count[p] > 0);
  const byMonth = breakdowns(input, patterns, { first: 1, size: 12, column: detections.month }, settings);
  const byWeekday = breakdowns(input, patterns, { first: 1, size: 7, column: detections.weekday }, settings);
  const byHour = intraday ? breakdowns(input, patterns, { first: 0, size: 24, column: detections.hour }, settings) : null;
  return patterns.map((p, k) => ({
    pattern: input.patterns[p],
    byMonth: byMonth[k],
    byWeekday: byWeekday[k],
    byHour: byHour ? byHour[k] : null,
  }));
}
