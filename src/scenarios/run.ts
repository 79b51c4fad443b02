import { createHash } from 'node:crypto';
import { NYSE, type TradingCalendar } from '../shared/calendar.js';
import { localMidnight } from '../shared/zone.js';
import type { ScenarioSpec } from './batch.js';
import type { SessionGrid } from './generator.js';
import { GENERATOR_VERSION } from './model.js';

/** `SYN0001` … : names for `count` generated symbols (at least four digits). */
export function syntheticSymbols(count: number): string[] {
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => `SYN${String(i + 1).padStart(width, '0')}`);
}

/** The sessions of a run: `count` sessions from the first one on or after `start`. */
export function sessionGrid(
  start: string,
  count: number,
  calendar: TradingCalendar = NYSE,
): { grid: SessionGrid; first: string; last: string } {
  const first = calendar.isSession(start) ? calendar.session(start)! : calendar.nextSession(start);
  const last = calendar.sessionAt(first.index + count - 1);
  if (!last) {
    throw new RangeError(
      `${count} sessions from ${first.date} run past the end of the ${calendar.name} calendar (${calendar.range.last})`,
    );
  }
  const grid: SessionGrid = {
    midnight: new Float64Array(count),
    open: new Float64Array(count),
    close: new Float64Array(count),
  };
  for (let i = 0; i < count; i++) {
    const session = calendar.sessionAt(first.index + i)!;
    grid.midnight[i] = localMidnight(session.date, calendar.timeZone);
    grid.open[i] = session.open;
    grid.close[i] = session.close;
  }
  return { grid, first: first.date, last: last.date };
}

/** JSON with object keys sorted at every level, so equal values always serialise alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What identifies a run: everything that decides its bars and where they go. */
export interface RunIdentity {
  spec: ScenarioSpec;
  symbols: readonly string[];
  /** The first session (YYYY-MM-DD) and the number of sessions. */
  start: string;
  sessions: number;
  schema: string;
}

/**
 * The run's id: `<scenario>-` and 16 hex digits of SHA-256 over the canonical form of the
 * scenario, seed, parameters, generator version, symbols (as a set), sessions, timeframes
 * and target schema. Loading the same run again finds the same id, so it rewrites its row
 * and its bars instead of adding new ones.
 */
export function scenarioRunId(identity: RunIdentity): string {
  const canonical = canonicalJson({
    generatorVersion: GENERATOR_VERSION,
    scenario: identity.spec.scenario,
    seed: identity.spec.seed,
    params: identity.spec.params,
    timeframe: identity.spec.timeframe,
    targets: [...identity.spec.targets].sort(),
    symbols: [...identity.symbols].sort(),
    start: identity.start,
    sessions: identity.sessions,
    schema: identity.schema,
  });
  return `${identity.spec.scenario}-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}
