import type { Check, Phase, SeriesView } from './model.js';
import { roundTo } from '../shared/statistics.js';

const shown = (value: number) => String(roundTo(value, 4));

function check(name: string, measured: number, passed: boolean, expected: string, detail?: string): Check {
  const finite = Number.isFinite(measured);
  return {
    name,
    passed: finite && passed,
    measured: finite ? roundTo(measured, 6) : null,
    expected,
    ...(detail ? { detail } : {}),
  };
}

/** A check that `measured` lies in [low, high]. */
export function within(name: string, measured: number, low: number, high: number, detail?: string): Check {
  return check(name, measured, measured >= low && measured <= high, `within [${shown(low)}, ${shown(high)}]`, detail);
}

/** A check that `measured` is at least `minimum` (strictly above it when `strict`). */
export function atLeast(
  name: string,
  measured: number,
  minimum: number,
  options: { strict?: boolean; detail?: string } = {},
): Check {
  const passed = options.strict ? measured > minimum : measured >= minimum;
  return check(name, measured, passed, `${options.strict ? '>' : '≥'} ${shown(minimum)}`, options.detail);
}

/** A check that `measured` is at most `maximum` (strictly below it when `strict`). */
export function atMost(
  name: string,
  measured: number,
  maximum: number,
  options: { strict?: boolean; detail?: string } = {},
): Check {
  const passed = options.strict ? measured < maximum : measured <= maximum;
  return check(name, measured, passed, `${options.strict ? '<' : '≤'} ${shown(maximum)}`, options.detail);
}

/**
 * Close-to-close log returns of the sessions in a phase (a session's return runs from the
 * previous close to its own close; the very first session has none).
 */
export function phaseReturns(view: SeriesView, phase: Phase): Float64Array {
  return view.returns.subarray(Math.max(0, phase.start - 1), Math.max(0, phase.end - 1));
}

/** Daily closes as a plain array (what the indicator library takes). */
export function closesOf(view: SeriesView): number[] {
  return Array.from(view.daily.close);
}
