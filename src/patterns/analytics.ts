/**
 * One analysis of the pattern history: every figure the `/api/analytics/...` routes serve
 * from stored results, computed together from the same input.
 */
import { type AnalysisSettings, type AnalyticsInput } from './analytics-dataset.js';
import { patternCorrelations } from './analytics-correlations.js';
import { successPredictions } from './analytics-model.js';
import { regimeImpact } from './analytics-regime.js';
import type { PatternCorrelations, RegimeImpact, SeasonalPattern, SuccessPredictions } from './analytics-schemas.js';
import { seasonality } from './analytics-seasonal.js';

/** The results of one analysis. */
export interface PatternAnalysis {
  correlations: PatternCorrelations[];
  regimeImpact: RegimeImpact[];
  predictions: SuccessPredictions;
  seasonal: SeasonalPattern[];
}

/** Runs every analysis over the input; `intraday` adds the hour-of-day seasonality. */
export function analyzePatterns(input: AnalyticsInput, settings: AnalysisSettings, intraday: boolean): PatternAnalysis {
  return {
    correlations: patternCorrelations(input, settings),
    regimeImpact: regimeImpact(input, settings),
    predictions: successPredictions(input, settings),
    seasonal: seasonality(input, settings, intraday),
  };
}
