/**
 * Pattern planting in scenario runs (docs/patterns.md, "Planting patterns"): the payload's
 * `plant` entries, checked against the run and resolved to bar indexes, applied to each
 * symbol's generated daily bars, and the report's check that the detectors find every one.
 */
import { z } from 'zod';
import type { BarColumns } from '../bars/columns.js';
import { checkPlantings, firstPlantableBar, isPlantable, PLANTABLE_KEYS, TEMPLATES, type Planting } from '../patterns/plant.js';
import { calendarDateSchema } from '../shared/dates.js';
import { symbolSchema } from '../shared/symbols.js';
import { atLeast } from './checks.js';
import type { Check } from './model.js';

/** Most plantings one run takes. */
export const MAX_PLANTINGS = 10_000;

/** One `plant` entry of a generate-scenario payload. */
export const plantingSchema = z
  .object({
    pattern: z.string().describe(`a plantable pattern key: ${PLANTABLE_KEYS.join(', ')}`),
    session: calendarDateSchema.describe('the session (YYYY-MM-DD) the detection must land on'),
    direction: z.enum(['bullish', 'bearish']).optional().describe("default: the pattern's first direction"),
    symbols: z.array(symbolSchema).min(1).optional().describe('symbols to plant it in; default: every symbol of the run'),
    then: z
      .object({
        sessions: z.number().int().min(1).max(252),
        returnPct: z.number().min(-90).max(1_000),
      })
      .strict()
      .optional()
      .describe('the close `sessions` later is returnPct % away from the planted close'),
  })
  .strict();

export type PlantingEntry = z.infer<typeof plantingSchema>;

/** A planting resolved to a bar index of the run, for the symbols it applies to. */
export interface RunPlanting extends Planting {
  /** The session as given, for the report. */
  session: string;
  /** Undefined: every symbol. */
  symbols?: string[];
}

/**
 * Checks the entries against the run (1d bars, its sessions, its symbols) and resolves them;
 * returns the issues instead when there are any, each with the entry's path.
 */
export function resolvePlantings(
  entries: readonly PlantingEntry[],
  run: { timeframe: string; sessions: readonly string[]; symbols?: readonly string[] },
): { plantings: RunPlanting[]; issues: Array<{ path: Array<string | number>; message: string }> } {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const plantings: RunPlanting[] = [];
  if (entries.length > 0 && run.timeframe !== '1d') {
    issues.push({ path: ['plant'], message: 'patterns can be planted in 1d runs only' });
    return { plantings, issues };
  }
  const index = new Map(run.sessions.map((date, i) => [date, i]));
  const known = run.symbols ? new Set(run.symbols) : undefined;
  entries.forEach((entry, k) => {
    const path = ['plant', k];
    const earlier = issues.length;
    if (!isPlantable(entry.pattern)) {
      issues.push({
        path: [...path, 'pattern'],
        message: `cannot plant ${JSON.stringify(entry.pattern)}; plantable: ${PLANTABLE_KEYS.join(', ')}`,
      });
      return;
    }
    const directions = TEMPLATES[entry.pattern].directions;
    const direction = entry.direction ?? directions[0];
    if (!(directions as readonly string[]).includes(direction)) {
      issues.push({ path: [...path, 'direction'], message: `${entry.pattern} is ${directions.join(' or ')} only` });
    }
    const bar = index.get(entry.session);
    const first = firstPlantableBar(entry.pattern);
    if (bar === undefined) {
      issues.push({
        path: [...path, 'session'],
        message: `${entry.session} is not a session of the run (${run.sessions[0]} … ${run.sessions.at(-1)})`,
      });
    } else if (bar < first) {
      issues.push({
        path: [...path, 'session'],
        message: `${entry.pattern} needs ${first} sessions of the run before it; ${entry.session} is session ${bar + 1}`,
      });
    } else if (entry.then && bar + entry.then.sessions >= run.sessions.length) {
      issues.push({
        path: [...path, 'then', 'sessions'],
        message: `${entry.then.sessions} sessions after ${entry.session} run past the run's last session`,
      });
    }
    for (const [s, symbol] of (entry.symbols ?? []).entries()) {
      if (known && !known.has(symbol))
        issues.push({ path: [...path, 'symbols', s], message: `${symbol} is not a symbol of the run` });
    }
    if (bar === undefined || issues.length > earlier) return;
    plantings.push({
      pattern: entry.pattern,
      bar,
      direction,
      session: entry.session,
      ...(entry.symbols ? { symbols: entry.symbols } : {}),
      ...(entry.then ? { then: { bars: entry.then.sessions, returnPct: entry.then.returnPct } } : {}),
    });
  });
  return { plantings, issues };
}

/** The plantings of one symbol. */
export function plantingsOf(plantings: readonly RunPlanting[], symbol: string): RunPlanting[] {
  return plantings.filter((planting) => !planting.symbols || planting.symbols.includes(symbol));
}

/** One check per planting: the planted pattern's detector fires on its session with its direction. */
export function plantingChecks(daily: BarColumns, plantings: readonly RunPlanting[]): Check[] {
  return checkPlantings(daily, plantings).map((found, k) => {
    const { session } = plantings[k];
    return atLeast(`${found.pattern} ${found.direction} on ${session}`, found.found ? 1 : 0, 1, {
      detail: `detector output ${found.value} on the planted session`,
    });
  });
}
