import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Config } from '../shared/config.js';
import { createDb, dbSettings } from '../shared/db.js';
import type { Timeframe } from '../bars/timeframes.js';
import { runChart } from '../scenarios/run-chart.js';
import { Store } from '../store/store.js';
import { z } from 'zod';
import { rangeBoundSchema, resolveRange } from '../bars/ranges.js';
import { NYSE } from '../shared/calendar.js';
import { parseOrThrow } from '../shared/validation.js';

/** Options of `tickforge scenario`, as commander hands them over. */
export interface ScenarioCommandOptions {
  symbols?: string;
  seed?: string;
  sessions?: string;
  start?: string;
  timeframe?: string;
  targets?: string;
  schema?: string;
  params?: unknown;
  wait?: boolean;
  chart?: string;
  chartSymbol?: string;
  chartTimeframe?: string;
  chartFrom?: string;
  chartTo?: string;
}

function wholeNumber(value: string, option: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${option} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * The generate-scenario payload for `tickforge scenario NAME …`: `--symbols 10` asks for ten
 * generated symbols, `--symbols AAA,BBB` names them. Anything else is left to the job's schema.
 */
export function scenarioPayload(name: string, options: ScenarioCommandOptions): Record<string, unknown> {
  const payload: Record<string, unknown> = { scenario: name };
  const symbols = options.symbols ?? '10';
  if (/^\d+$/.test(symbols)) payload.count = Number(symbols);
  else
    payload.symbols = symbols
      .split(',')
      .map((symbol) => symbol.trim())
      .filter(Boolean);
  if (options.seed !== undefined) payload.seed = wholeNumber(options.seed, '--seed');
  if (options.sessions !== undefined) payload.sessions = wholeNumber(options.sessions, '--sessions');
  if (options.start !== undefined) payload.start = options.start;
  if (options.timeframe !== undefined) payload.timeframe = options.timeframe;
  if (options.targets !== undefined)
    payload.targets = options.targets
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  if (options.schema !== undefined) payload.schema = options.schema;
  if (options.params !== undefined) payload.params = options.params;
  return payload;
}

const chartRangeSchema = z.object({
  '--chart-from': rangeBoundSchema.optional(),
  '--chart-to': rangeBoundSchema.optional(),
});

/**
 * The range --chart-from/--chart-to pick as instants (a date is a whole regular-session day in
 * New York), checked before the run is submitted so a typo does not cost the run.
 */
export function chartRange(options: ScenarioCommandOptions): { from?: number; to?: number } {
  const range = parseOrThrow(chartRangeSchema, { '--chart-from': options.chartFrom, '--chart-to': options.chartTo }, 'option');
  return resolveRange({ from: range['--chart-from'], to: range['--chart-to'] }, 'regular', NYSE);
}

/** Writes the SVG chart of one symbol of a finished run; returns the file's path. */
export async function writeRunChart(
  config: Config,
  runId: string,
  file: string,
  options: { symbol?: string; timeframe?: string; from?: number; to?: number },
): Promise<string> {
  const db = createDb({ ...dbSettings(config), poolMax: 2 });
  try {
    const { svg } = await runChart(new Store(db, config.dbSchema), runId, {
      ...options,
      timeframe: options.timeframe as Timeframe | undefined,
    });
    const target = path.resolve(file);
    await writeFile(target, svg);
    return target;
  } finally {
    await db.destroy();
  }
}
