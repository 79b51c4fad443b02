import { aggregateBars, variantOf } from '../bars/aggregate.js';
import { encodeCopyRows, type BarColumns } from '../bars/columns.js';
import type { Timeframe } from '../bars/timeframes.js';
import { scenarioDefinition, type ScenarioName } from './catalog.js';
import { generateSeries, type GenerationDiagnostics, type SessionGrid } from './generator.js';
import type { ModelParams, Phase } from './model.js';
import { validateSeries, type SymbolReport, type TimeframeBars } from './validation.js';

/** The timeframes a scenario generates bars at; coarser ones are aggregated from them. */
export const BASE_TIMEFRAMES = ['1d', '1m'] as const;
export type BaseTimeframe = (typeof BASE_TIMEFRAMES)[number];

/** Where the aggregation kernel puts session-aligned regular-hours bars. */
const AGGREGATE_VARIANT = variantOf('1d', 'regular', 'session');

/** Everything that decides a run's bars, apart from the symbols. */
export interface ScenarioSpec {
  scenario: ScenarioName;
  /** The scenario's parameters with every default filled in. */
  params: ModelParams;
  seed: number;
  timeframe: BaseTimeframe;
  /** Timeframes aggregated from the generated ones and stored too. */
  targets: Timeframe[];
}

/** One stored series of a symbol: its timeframe, variant and row count. */
export interface StoredSeries {
  timeframe: Timeframe;
  variant: string;
  rows: number;
  from: number;
  to: number;
}

/** What a batch reports per symbol: stored series, phases, diagnostics and its validation report. */
export interface SymbolResult {
  symbol: string;
  series: StoredSeries[];
  phases: Phase[];
  diagnostics: GenerationDiagnostics;
  report: SymbolReport;
}

/** One symbol's bars as built, before validation and encoding. */
export interface SymbolBars {
  symbol: string;
  /** Every series to store, the generated timeframe first. */
  stored: Array<TimeframeBars & { variant: string }>;
  /** The daily bars the report is measured on. */
  daily: BarColumns;
  phases: Phase[];
  diagnostics: GenerationDiagnostics;
}

/**
 * Generates one symbol and aggregates it: the generated series is stored as it came (variant
 * ''), aggregates under the kernel's regular-session variant. A 1m run's daily bars come from
 * the kernel, so the report measures exactly what a consumer of the 1d series sees.
 */
export function buildSymbol(spec: ScenarioSpec, symbol: string, grid: SessionGrid): SymbolBars {
  const scenario = scenarioDefinition(spec.scenario);
  const generated = generateSeries({ scenario, params: spec.params, seed: spec.seed, symbol, grid, timeframe: spec.timeframe });
  const stored: SymbolBars['stored'] = [{ timeframe: spec.timeframe, variant: '', bars: generated.bars }];
  const wanted = spec.timeframe === '1m' ? [...new Set<Timeframe>(['1d', ...spec.targets])] : spec.targets;
  let daily = generated.bars;
  if (wanted.length > 0) {
    const aggregated = aggregateBars(generated.bars, { source: spec.timeframe, targets: wanted });
    for (const timeframe of spec.targets)
      stored.push({ timeframe, variant: AGGREGATE_VARIANT, bars: aggregated.bars[timeframe]! });
    if (spec.timeframe === '1m') daily = aggregated.bars['1d']!;
  }
  return { symbol, stored, daily, phases: generated.phases, diagnostics: generated.diagnostics };
}

/** The output of runScenarioBatch. */
export interface BatchOutput {
  /** COPY text (BAR_COPY_COLUMNS order, source 'scenario') of every stored bar of the batch. */
  copy: string;
  symbols: SymbolResult[];
}

/**
 * Generates, aggregates, validates and encodes a batch of symbols: a pure function of the
 * spec, the symbols and the sessions. Each symbol draws from its own streams, so the result
 * for a symbol does not depend on the batch it is in.
 */
export function runScenarioBatch(spec: ScenarioSpec, symbols: readonly string[], grid: SessionGrid): BatchOutput {
  const scenario = scenarioDefinition(spec.scenario);
  const parts: string[] = [];
  const results: SymbolResult[] = [];
  for (const symbol of symbols) {
    const built = buildSymbol(spec, symbol, grid);
    const report = validateSeries({
      scenario,
      params: spec.params,
      symbol,
      daily: built.daily,
      phases: built.phases,
      stored: built.stored,
    });
    const series: StoredSeries[] = [];
    for (const { timeframe, variant, bars } of built.stored) {
      parts.push(encodeCopyRows({ symbol, timeframe, variant }, 'scenario', bars));
      const rows = bars.ts.length;
      series.push({ timeframe, variant, rows, from: rows ? bars.ts[0] : NaN, to: rows ? bars.ts[rows - 1] : NaN });
    }
    results.push({ symbol, series, phases: built.phases, diagnostics: built.diagnostics, report });
  }
  return { copy: parts.join(''), symbols: results };
}
