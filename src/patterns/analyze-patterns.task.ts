import type { AnalysisSettings, AnalyticsInput } from './analytics-dataset.js';
import { analyzePatterns, type PatternAnalysis } from './analytics.js';

/** One analysis' input, settings and whether its bars are intraday. */
export interface AnalyzePatternsInput {
  input: AnalyticsInput;
  settings: AnalysisSettings;
  intraday: boolean;
}

/** Runs every pattern analysis on the pool: the handler's event loop stays free meanwhile. */
export function analyzePatternsKernel({ input, settings, intraday }: AnalyzePatternsInput): PatternAnalysis {
  return analyzePatterns(input, settings, intraday);
}
