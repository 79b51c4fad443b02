import { equalWeightIndex, seriesPerformance, type DailySeries } from './performance.js';

/** The benchmark sector themes are measured against. */
export const REBALANCE_BENCHMARK = 'SPY';
/** A move of a sector's rank by this many places since the last rebalancing is significant. */
export const RANK_SHIFT_THRESHOLD = 3;
/** A move of a sector's 1-month relative return by this much (5 percentage points) is significant. */
export const RELATIVE_RETURN_THRESHOLD = 0.05;
/** Theme weights by tier: the strongest third of the sectors, the middle, the weakest third. */
export const TIER_WEIGHTS = { overweight: 1.5, neutral: 1, underweight: 0.5 } as const;

/** A sector theme's strength against the benchmark on one date. */
export interface SectorStrength {
  universe: string;
  /** Sector (equal-weighted members) return minus the benchmark's, over 1 and 3 months. */
  rs1m: number;
  rs3m: number;
  /** 1 is the strongest, by the mean of rs1m and rs3m (ties by universe key). */
  rank: number;
}

/** What a theme's weight was last decided on: its strength then, and the weight. */
export interface RebalancePoint {
  date: string;
  rank: number;
  rs1m: number;
  rs3m: number;
  weight: number;
}

/** A weight decision for one theme. */
export interface RebalanceDecision {
  universe: string;
  strength: SectorStrength;
  /** The reference point kept for the next run: the new one when the move was significant. */
  point: RebalancePoint;
  previous?: RebalancePoint;
  /** Why the move is significant; absent when it is not (or on the first ranking). */
  trigger?: string;
}

/**
 * Ranks sector themes by relative strength as of `asOf`: each sector's equal-weighted index of
 * its members' daily closes against the benchmark's closes, over 1 and 3 calendar months.
 * Sectors without both figures are left out.
 */
export function rankSectors(sectors: ReadonlyMap<string, DailySeries[]>, benchmark: DailySeries, asOf: string): SectorStrength[] {
  const bench = seriesPerformance(benchmark, asOf).returns;
  if (bench['1m'] === null || bench['3m'] === null) return [];
  const measured: Array<Omit<SectorStrength, 'rank'>> = [];
  for (const [universe, members] of sectors) {
    const returns = seriesPerformance(equalWeightIndex(members), asOf).returns;
    if (returns['1m'] === null || returns['3m'] === null) continue;
    measured.push({ universe, rs1m: returns['1m'] - bench['1m'], rs3m: returns['3m'] - bench['3m'] });
  }
  const score = (sector: Omit<SectorStrength, 'rank'>) => (sector.rs1m + sector.rs3m) / 2;
  measured.sort((a, b) => score(b) - score(a) || (a.universe < b.universe ? -1 : 1));
  return measured.map((sector, index) => ({ ...sector, rank: index + 1 }));
}

/** The weight of a rank among `count` sectors: the top third overweight, the bottom third underweight. */
export function tierWeight(rank: number, count: number): number {
  const third = Math.ceil(count / 3);
  if (rank <= third) return TIER_WEIGHTS.overweight;
  if (rank > count - third) return TIER_WEIGHTS.underweight;
  return TIER_WEIGHTS.neutral;
}

const percent = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`;

/**
 * Decides each ranked theme's weight. The first ranking of a theme records a neutral point.
 * Afterwards a theme is rebalanced only on a significant move since its last point: its rank
 * moved by RANK_SHIFT_THRESHOLD places or more, or its 1-month relative return by
 * RELATIVE_RETURN_THRESHOLD or more; its weight becomes its tier's and the point moves.
 */
export function decideWeights(
  strengths: readonly SectorStrength[],
  previous: ReadonlyMap<string, RebalancePoint>,
  date: string,
): RebalanceDecision[] {
  return strengths.map((strength) => {
    const before = previous.get(strength.universe);
    const current = { date, rank: strength.rank, rs1m: strength.rs1m, rs3m: strength.rs3m };
    if (!before) return { universe: strength.universe, strength, point: { ...current, weight: TIER_WEIGHTS.neutral } };
    const reasons: string[] = [];
    if (Math.abs(strength.rank - before.rank) >= RANK_SHIFT_THRESHOLD)
      reasons.push(`rank ${before.rank} → ${strength.rank} of ${strengths.length}`);
    if (Math.abs(strength.rs1m - before.rs1m) >= RELATIVE_RETURN_THRESHOLD)
      reasons.push(`1-month return vs ${REBALANCE_BENCHMARK} ${percent(before.rs1m)} → ${percent(strength.rs1m)}`);
    if (reasons.length === 0) return { universe: strength.universe, strength, point: before, previous: before };
    return {
      universe: strength.universe,
      strength,
      point: { ...current, weight: tierWeight(strength.rank, strengths.length) },
      previous: before,
      trigger: reasons.join('; '),
    };
  });
}
