import { isIntraday } from '../../src/bars/timeframes.js';
import { AnalyticsInputBuilder, EXCHANGE_ZONE } from '../../src/patterns/analytics-load.js';
import { scopeKey, type AnalysisScope } from '../../src/patterns/analytics-scope.js';
import type { OutcomeRow, PatternAnalyticsRepository, SuccessRule } from '../../src/patterns/analytics.repository.js';
import { analyzePatternsContract } from '../../src/patterns/analyze-patterns.contract.js';
import {
  REGIMES,
  VOLATILITY_REGIMES,
  contextSettingsSchema,
  realisedVolatility,
  trendRegimes,
  volatilityRegimes,
} from '../../src/patterns/context.js';
import { measureOutcomes, outcomeSettingsSchema } from '../../src/patterns/outcomes.js';
import { localDate } from '../../src/shared/zone.js';
import type { Store } from '../../src/store/store.js';
import type { JobContext } from '../context.js';
import { defineHandler } from '../handler.js';

const finite = (value: number) => (Number.isFinite(value) ? value : null);

/** Recomputes the benchmark's regimes for every session it has; returns the sessions written. */
async function updateContext(repository: PatternAnalyticsRepository, benchmark: string): Promise<number> {
  const bars = await repository.dailyCloses(benchmark);
  const closes = Float64Array.from(bars, (bar) => bar.close);
  const settings = contextSettingsSchema.parse({ benchmark });
  const trend = trendRegimes(closes, settings);
  const volatility = realisedVolatility(closes, settings);
  const levels = volatilityRegimes(closes, settings);
  await repository.upsertContext(
    benchmark,
    bars.map((bar, i) => ({
      session_date: localDate(bar.ts, EXCHANGE_ZONE),
      regime: trend[i] >= 0 ? REGIMES[trend[i]] : null,
      volatility_regime: levels[i] >= 0 ? VOLATILITY_REGIMES[levels[i]] : null,
      realised_volatility: finite(volatility[i]),
    })),
  );
  return bars.length;
}

/** Labels every detection of the timeframe whose outcome is missing, incomplete or under another rule. */
async function labelOutcomes(ctx: JobContext, timeframe: string, rule: SuccessRule): Promise<number> {
  const repository = ctx.store.patternAnalytics;
  const pending = await repository.detectionsToLabel(timeframe, rule);
  const settings = outcomeSettingsSchema.parse({ successHorizon: rule.horizon, successThreshold: rule.threshold });
  let labelled = 0;
  for (let start = 0; start < pending.length;) {
    const { symbol, variant } = pending[start];
    let end = start;
    while (end < pending.length && pending[end].symbol === symbol && pending[end].variant === variant) end++;
    const series = pending.slice(start, end);
    start = end;
    const rows = await repository.seriesFrom(symbol, timeframe, variant, series[0].ts);
    const barOf = new Map(rows.map((row, index) => [row.ts, index]));
    const present = series.filter((detection) => barOf.has(detection.ts));
    const bars = {
      ts: rows.map((row) => row.ts),
      high: rows.map((row) => row.high),
      low: rows.map((row) => row.low),
      close: rows.map((row) => row.close),
      length: rows.length,
    };
    const out = measureOutcomes(
      bars,
      present.map((detection) => barOf.get(detection.ts)!),
      present.map((detection) => (detection.direction === 'bullish' ? 1 : -1)),
      settings,
    );
    const successColumn = settings.horizons.indexOf(rule.horizon);
    const outcomes: OutcomeRow[] = present.map((detection, i) => ({
      detection_id: detection.id,
      forward_1: finite(out.forward[0][i]),
      forward_5: finite(out.forward[1][i]),
      forward_20: finite(out.forward[2][i]),
      favourable: finite(out.favourable[i]),
      adverse: finite(out.adverse[i]),
      success: out.success[i] >= 0 ? out.success[i] : null,
      success_return: finite(out.forward[successColumn][i]),
      known_at: Number.isNaN(out.knownTs[i]) ? null : new Date(out.knownTs[i]).toISOString(),
      success_horizon: rule.horizon,
      success_threshold: rule.threshold,
      complete: out.complete[i] === 1,
    }));
    await repository.upsertOutcomes(outcomes);
    labelled += outcomes.length;
    await ctx.progress((40 * start) / pending.length, `labelled ${labelled} of ${pending.length} outcomes`);
  }
  return labelled;
}

/** The symbols a scope names: its universe's members as of `to`, its symbols, or all (undefined). */
async function scopeSymbols(store: Store, scope: AnalysisScope): Promise<string[] | undefined> {
  if (scope.symbols) return scope.symbols;
  if (!scope.universe) return undefined;
  const members = await store.universes.members(scope.universe, scope.to);
  return members.map((member) => member.symbol);
}

/**
 * analyze-patterns: context, then outcomes, then the analysis of the scope in the kernel pool,
 * stored with its as-of date and announced on tickstock.analytics.updated.
 */
export const analyzePatternsHandler = defineHandler(analyzePatternsContract, async (ctx, payload) => {
  const started = Date.now();
  const repository = ctx.store.patternAnalytics;
  const rule: SuccessRule = { horizon: payload.successHorizon, threshold: payload.successThreshold };
  const { benchmark, settings, successHorizon: _horizon, successThreshold: _threshold, ...scope } = payload;
  const contextSessions = await updateContext(repository, benchmark);
  await ctx.progress(5, `context of ${benchmark}: ${contextSessions} sessions`);
  const labelled = await labelOutcomes(ctx, scope.timeframe, rule);
  const done = (note: string) => ({
    analysisId: null,
    asOf: null,
    detections: 0,
    labelled,
    contextSessions,
    note,
    ms: Date.now() - started,
  });

  const symbols = await scopeSymbols(ctx.store, scope);
  if (symbols?.length === 0) return done(`universe ${scope.universe} has no members${scope.to ? ` on ${scope.to}` : ''}`);
  const { grid, spans } = await repository.barGrid(scope, symbols);
  if (grid.length === 0) return done(`no ${scope.timeframe} bars in the scope`);
  const intraday = isIntraday(scope.timeframe);
  const builder = new AnalyticsInputBuilder(grid, spans, await repository.contextByDate(benchmark), intraday);
  for await (const page of repository.analysisRows(scope, symbols, rule, benchmark, intraday)) {
    builder.add(page);
    await ctx.progress(50, `read ${builder.count} detections`);
  }
  if (builder.count === 0) return done(`no ${scope.timeframe} detections in the scope`);
  const input = builder.build();
  await ctx.progress(60, `analysing ${input.detections.count} detections`);
  const results = await ctx.kernels.run('analyzePatternsKernel', { input, settings, intraday }, { signal: ctx.signal });
  const asOf = scope.to ?? localDate(grid[grid.length - 1], EXCHANGE_ZONE);
  const analysisId = await repository.saveAnalysis({
    scopeKey: scopeKey(scope),
    scope,
    asOf,
    settings: { ...settings, benchmark, successHorizon: rule.horizon, successThreshold: rule.threshold },
    detections: input.detections.count,
    results,
    jobId: ctx.job.id,
  });
  await ctx.events.publish('analyticsUpdated', {
    analysis_id: analysisId,
    as_of: asOf,
    scope,
    detections: input.detections.count,
    labelled,
  });
  await ctx.progress(100);
  return { analysisId, asOf, detections: input.detections.count, labelled, contextSessions, ms: Date.now() - started };
});
