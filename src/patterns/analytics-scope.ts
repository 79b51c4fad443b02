/**
 * What one analysis covers, and the filters every analytics route takes: timeframe, universe
 * or symbols, date range, detector version and patterns. The scope's key names a stored
 * analysis.
 */
import { z } from 'zod';
import { timeframeSchema } from '../bars/timeframes.js';
import { tradingDateSchema } from '../shared/calendar.js';
import { patternKeySchema } from './catalog.js';

/** A list given as an array or, in a query string, comma-separated. */
export const commaList = <T extends z.ZodType>(item: T, max: number) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : value,
    z.array(item).min(1).max(max),
  );

/** The scope of an analysis (the analyze-patterns payload's and the routes' filters). */
export const analysisScopeSchema = z.object({
  timeframe: timeframeSchema.default('1d'),
  universe: z.string().min(1).optional().describe('a universe key: its members as of `to`'),
  symbols: commaList(z.string().min(1), 5_000).optional().describe('symbols, comma-separated in a query string'),
  from: tradingDateSchema.optional().describe('first session, inclusive'),
  to: tradingDateSchema.optional().describe('last session, inclusive; the analysis is as of this date'),
  detectorVersion: z.string().min(1).optional().describe('only detections of this detector version'),
  patterns: commaList(patternKeySchema, 100).optional().describe('pattern keys, comma-separated in a query string'),
});

export type AnalysisScope = z.output<typeof analysisScopeSchema>;

/** The key a scope's analyses are stored under: the same filters, in any order, give the same key. */
export function scopeKey(scope: AnalysisScope): string {
  const sorted = (values?: string[]) => (values ? [...new Set(values)].sort() : null);
  return JSON.stringify({
    timeframe: scope.timeframe,
    universe: scope.universe ?? null,
    symbols: sorted(scope.symbols),
    from: scope.from ?? null,
    to: scope.to ?? null,
    detectorVersion: scope.detectorVersion ?? null,
    patterns: sorted(scope.patterns),
  });
}
