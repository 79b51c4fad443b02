import type { RollPolicy } from './contract-codes.js';

/** Why a roll happened on its day. */
export type RollTrigger = 'calendar' | 'volume' | 'open_interest' | 'forced';

/**
 * One contract of a chain as the roll finder sees it, over the sessions of the build window
 * (index 0 = the first session). Figures are NaN where the contract has none that session.
 */
export interface ChainContract {
  contract: string;
  /**
   * The first session on which the series may no longer hold this contract: the roll offset
   * counted back from its last trade date (or first notice date, when earlier). Below 0 or
   * beyond the window when that day falls outside it.
   */
  deadline: number;
  volume: Float64Array;
  openInterest: Float64Array;
}

/** A move from one contract of the chain to a later one, effective from `session`. */
export interface RollDecision {
  /** The first session held in `to` (the roll date). */
  session: number;
  /** Chain indexes. `to` is more than `from` + 1 when contracts were passed over. */
  from: number;
  to: number;
  trigger: RollTrigger;
  /** For the open-interest policy: open interest was missing, so volume decided. */
  fallback: boolean;
}

export interface RollSchedule {
  /** Chain index held on each session; -1 where every contract's deadline is already past. */
  held: Int32Array;
  rolls: RollDecision[];
  /** Open-interest policy: sessions where open interest was missing and volume decided instead. */
  fallbackSessions: number[];
}

/**
 * Decides which contract a continuous series holds on each session.
 *
 * - `calendar`: hold a contract until its deadline, then the next.
 * - `volume`: move to the next contract on the first session whose previous session shows
 *   the next contract trading more than the held one; at the deadline at the latest (forced).
 * - `open_interest`: the same with open interest; where either contract's open interest is
 *   missing on the previous session, volume decides and the session is listed in
 *   `fallbackSessions`.
 *
 * Decisions use only the previous session's figures (what is known at the roll session's
 * open), so nothing from the future leaks into the series. A figure that is missing never
 * triggers a roll. The series never returns to an earlier contract. `chain` must be ordered
 * by last trade date.
 */
export function findRolls(chain: readonly ChainContract[], sessionCount: number, policy: RollPolicy): RollSchedule {
  const held = new Int32Array(sessionCount).fill(-1);
  const rolls: RollDecision[] = [];
  const fallbackSessions: number[] = [];
  let active = chain.findIndex((contract) => contract.deadline > 0);
  if (active < 0) return { held, rolls, fallbackSessions };

  for (let session = 0; session < sessionCount; session++) {
    let target = active;
    while (target + 1 < chain.length && session >= chain[target].deadline) target++;
    let trigger: RollTrigger = policy === 'calendar' ? 'calendar' : 'forced';
    let fallback = false;

    if (target === active && policy !== 'calendar' && session > 0 && active + 1 < chain.length) {
      const front = chain[active];
      const back = chain[active + 1];
      const previous = session - 1;
      const frontInterest = front.openInterest[previous];
      const backInterest = back.openInterest[previous];
      if (policy === 'open_interest' && !Number.isNaN(frontInterest) && !Number.isNaN(backInterest)) {
        if (backInterest > frontInterest) {
          target = active + 1;
          trigger = 'open_interest';
        }
      } else {
        const frontVolume = front.volume[previous];
        const backVolume = back.volume[previous];
        if (!Number.isNaN(frontVolume) && !Number.isNaN(backVolume)) {
          fallback = policy === 'open_interest';
          if (fallback) fallbackSessions.push(session);
          if (backVolume > frontVolume) {
            target = active + 1;
            trigger = 'volume';
          }
        }
      }
    }

    if (target !== active) {
      rolls.push({ session, from: active, to: target, trigger, fallback });
      active = target;
    }
    held[session] = active;
  }
  return { held, rolls, fallbackSessions };
}
