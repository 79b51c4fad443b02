/** What a scenario phase does to the price, for colours that mean the same on every chart. */
export type PhaseMeaning = 'up' | 'down' | 'crash' | 'flat';

/** The part of a phase its meaning depends on: its sessions and the log return it lands. */
export interface PhaseMove {
  start: number;
  end: number;
  logReturn?: number;
}

/** A phase moving less than this (either way) is sideways. */
const FLAT_RETURN = 0.03;
/** A fall is a crash from this deep … */
const CRASH_RETURN = -0.15;
/** … and this fast on average per session. */
const CRASH_PACE = -0.01;

/**
 * Classifies a phase by the return it is built to land: `crash` for a fall of 15 % or more at
 * 1 % a session or faster, `down` and `up` for other moves of 3 % or more, `flat` for the rest
 * and for phases without a return target (ranges, calm and turbulent stretches).
 */
export function phaseMeaning(phase: PhaseMove): PhaseMeaning {
  if (phase.logReturn === undefined) return 'flat';
  const total = Math.expm1(phase.logReturn);
  if (Math.abs(total) < FLAT_RETURN) return 'flat';
  if (total > 0) return 'up';
  const sessions = Math.max(1, phase.end - phase.start);
  return total <= CRASH_RETURN && Math.expm1(phase.logReturn / sessions) <= CRASH_PACE ? 'crash' : 'down';
}
