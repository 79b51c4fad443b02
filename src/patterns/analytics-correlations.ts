/**
 * Which patterns follow which, measured against chance. The trials are symbol-sessions: every
 * session of a symbol whose next `followWindow` sessions are all in the data. For a pair
 * (A, B) of different patterns, each trial is "A detected at this session" or not, and "B
 * detected within the next `followWindow` sessions of the same symbol" or not.
 *
 * Patterns are not spread evenly: a symbol may be busier than another, a detector needs a
 * year of history before it fires at all, volatile years bring more of every pattern. Pooling
 * every trial into one 2 × 2 table would call all of that "A and B go together". So the
 * trials are stratified by symbol and by blocks of `strataSessions` sessions, and the
 * association is the Cochran–Mantel–Haenszel test across those strata: within each stratum,
 * how many A-sessions were followed by B against what the stratum's own B-coverage gives. The
 * p-values are adjusted over every pair tested. Lags are counted for every B occurrence in the
 * window and compared with B's density in the same strata, so the lag at which B really
 * follows stands out from the background.
 */
import { type AnalysisSettings, type AnalyticsInput, orderByKey } from './analytics-dataset.js';
import { adjustBenjaminiHochberg, mantelHaenszel, type StratifiedAssociation } from './analytics-statistics.js';
import { REGIMES } from './context.js';
import type { ContextSensitivity, CorrelatedPattern, LagProfile, PatternCorrelations } from './analytics-schemas.js';

const REGIME_SLOTS = REGIMES.length + 1;
const unknownSlot = REGIMES.length;

/** Sessions of each (symbol, pattern), sorted and unique: sessions[offsets[k] … offsets[k + 1]). */
function sessionLists(input: AnalyticsInput): { offsets: Int32Array; sessions: Int32Array } {
  const { detections } = input;
  const patterns = input.patterns.length;
  const lists = input.symbols.length * patterns;
  const bySession = orderByKey(detections.count, (i) => detections.session[i], input.sessions.count);
  // A stable second pass by (symbol, pattern) keeps each list in session order.
  const listOf = (k: number) => detections.symbol[bySession[k]] * patterns + detections.pattern[bySession[k]];
  const byList = orderByKey(bySession.length, listOf, lists);
  const offsets = new Int32Array(lists + 1);
  const sessions = new Int32Array(byList.length);
  let length = 0;
  let previous = -1;
  for (const k of byList) {
    const list = listOf(k);
    const session = detections.session[bySession[k]];
    if (list === previous && sessions[length - 1] === session) continue;
    sessions[length++] = session;
    offsets[list + 1] = length;
    previous = list;
  }
  for (let k = 1; k < offsets.length; k++) offsets[k] = Math.max(offsets[k], offsets[k - 1]);
  return { offsets, sessions: sessions.subarray(0, length) };
}

/** Counts gathered over every symbol, per stratum (symbol × block of sessions). */
interface Tally {
  strata: number;
  /** Trials (symbol-sessions whose follow window is in the data) per stratum. */
  trials: Float64Array;
  /** Symbol-sessions with a bar per stratum: B's density is its occurrences over these. */
  sessions: Float64Array;
  /** pattern × stratum × regime slot: trials at which the pattern was detected. */
  primary: Float64Array;
  /** pattern × stratum: the same over every regime. */
  primaryTotal: Float64Array;
  /** pattern × stratum: trials followed by the pattern within the window. */
  covered: Float64Array;
  /** pattern × stratum: detections of the pattern. */
  occurrences: Float64Array;
  /** pair × regime slot: trials of A followed by B. */
  followed: Float64Array;
  /** pair × lag: occurrences of B that many sessions after A. */
  lagCounts: Float64Array;
}

function tallyPairs(input: AnalyticsInput, window: number, strataSessions: number): Tally {
  const patterns = input.patterns.length;
  const { offsets, sessions } = sessionLists(input);
  const blocks = Math.max(1, Math.ceil(input.sessions.count / strataSessions));
  const strata = input.symbols.length * blocks;
  const regimeOf = (session: number) => {
    const regime = input.sessions.regime[session];
    return regime >= 0 ? regime : unknownSlot;
  };
  const tally: Tally = {
    strata,
    trials: new Float64Array(strata),
    sessions: new Float64Array(strata),
    primary: new Float64Array(patterns * strata * REGIME_SLOTS),
    primaryTotal: new Float64Array(patterns * strata),
    covered: new Float64Array(patterns * strata),
    occurrences: new Float64Array(patterns * strata),
    followed: new Float64Array(patterns * patterns * REGIME_SLOTS),
    lagCounts: new Float64Array(patterns * patterns * window),
  };
  /** Adds the sessions from … to (inclusive) of symbol s to `target[base + stratum]`, block by block. */
  const addSpan = (target: Float64Array, base: number, s: number, from: number, to: number) => {
    for (let t = from; t <= to;) {
      const block = Math.floor(t / strataSessions);
      const end = Math.min(to, (block + 1) * strataSessions - 1);
      target[base + s * blocks + block] += end - t + 1;
      t = end + 1;
    }
  };
  for (let s = 0; s < input.symbols.length; s++) {
    const first = input.symbolSpan.first[s];
    const last = input.symbolSpan.last[s];
    if (first < 0) continue;
    addSpan(tally.sessions, 0, s, first, last);
    const lastTrial = last - window;
    if (lastTrial >= first) addSpan(tally.trials, 0, s, first, lastTrial);
    for (let b = 0; b < patterns; b++) {
      const start = offsets[s * patterns + b];
      const end = offsets[s * patterns + b + 1];
      let spanFrom = 0;
      let spanTo = -1;
      for (let k = start; k < end; k++) {
        tally.occurrences[b * strata + s * blocks + Math.floor(sessions[k] / strataSessions)]++;
        const from = Math.max(first, sessions[k] - window);
        const to = Math.min(lastTrial, sessions[k] - 1);
        if (to < from) continue;
        if (spanTo >= spanFrom && from <= spanTo + 1) {
          spanTo = Math.max(spanTo, to);
          continue;
        }
        if (spanTo >= spanFrom) addSpan(tally.covered, b * strata, s, spanFrom, spanTo);
        spanFrom = from;
        spanTo = to;
      }
      if (spanTo >= spanFrom) addSpan(tally.covered, b * strata, s, spanFrom, spanTo);
    }
    for (let a = 0; a < patterns; a++) {
      const aStart = offsets[s * patterns + a];
      let aEnd = offsets[s * patterns + a + 1];
      while (aEnd > aStart && sessions[aEnd - 1] > lastTrial) aEnd--;
      for (let k = aStart; k < aEnd; k++) {
        const stratum = s * blocks + Math.floor(sessions[k] / strataSessions);
        tally.primary[(a * strata + stratum) * REGIME_SLOTS + regimeOf(sessions[k])]++;
        tally.primaryTotal[a * strata + stratum]++;
      }
      for (let b = 0; b < patterns && aEnd > aStart; b++) {
        const bEnd = offsets[s * patterns + b + 1];
        let j = offsets[s * patterns + b];
        const pair = a * patterns + b;
        for (let k = aStart; k < aEnd && j < bEnd; k++) {
          const at = sessions[k];
          while (j < bEnd && sessions[j] <= at) j++;
          if (j === bEnd || sessions[j] - at > window) continue;
          tally.followed[pair * REGIME_SLOTS + regimeOf(at)]++;
          for (let m = j; m < bEnd && sessions[m] - at <= window; m++) tally.lagCounts[pair * window + sessions[m] - at - 1]++;
        }
      }
    }
  }
  return tally;
}

/** The stratified comparison of pair (a, b): observed follows against each stratum's expectation. */
interface PairStatistics {
  primary: number;
  followed: number;
  association: StratifiedAssociation;
  /** Expected occurrences of B at each lag, from B's density in A's strata. */
  expectedPerLag: number;
}

function pairStatistics(tally: Tally, a: number, b: number, patterns: number): PairStatistics {
  const pair = a * patterns + b;
  const { strata } = tally;
  let primary = 0;
  let expected = 0;
  let variance = 0;
  let trials = 0;
  let expectedPerLag = 0;
  for (let k = 0; k < strata; k++) {
    const n = tally.trials[k];
    trials += n;
    const exposed = tally.primaryTotal[a * strata + k];
    if (exposed === 0) continue;
    const covered = tally.covered[b * strata + k];
    primary += exposed;
    expected += (exposed * covered) / n;
    if (n > 1) variance += (exposed * (n - exposed) * covered * (n - covered)) / (n * n * (n - 1));
    if (tally.sessions[k] > 0) expectedPerLag += (exposed * tally.occurrences[b * strata + k]) / tally.sessions[k];
  }
  let followed = 0;
  for (let r = 0; r < REGIME_SLOTS; r++) followed += tally.followed[pair * REGIME_SLOTS + r];
  return { primary, followed, association: mantelHaenszel(followed, expected, variance, trials), expectedPerLag };
}

/** Pattern-to-pattern correlations for every primary pattern with at least one trial. */
export function patternCorrelations(input: AnalyticsInput, settings: AnalysisSettings): PatternCorrelations[] {
  const window = settings.followWindow;
  const patterns = input.patterns.length;
  const tally = tallyPairs(input, window, settings.strataSessions);
  const statistics: (PairStatistics | null)[] = [];
  const coveredTotal = (b: number) => tally.covered.subarray(b * tally.strata, (b + 1) * tally.strata).reduce((x, y) => x + y, 0);
  const coverage = Array.from({ length: patterns }, (_, b) => coveredTotal(b));
  for (let a = 0; a < patterns; a++) {
    for (let b = 0; b < patterns; b++) {
      // A pattern following itself is left out: within a stratum its detections compete for
      // the same sessions, so the stratified expectation would be biased against it.
      const pair = a === b ? null : pairStatistics(tally, a, b, patterns);
      statistics.push(pair && pair.primary > 0 && coverage[b] > 0 && pair.association.variance > 0 ? pair : null);
    }
  }
  const adjusted = adjustBenjaminiHochberg(statistics.map((pair) => pair?.association.pValue ?? NaN));
  const tested = statistics.filter((pair) => pair !== null).length;
  const significant = statistics.filter((pair, k) => pair !== null && adjusted[k] < settings.alpha).length;

  const results: PatternCorrelations[] = [];
  for (let a = 0; a < patterns; a++) {
    const trials = tally.primaryTotal.subarray(a * tally.strata, (a + 1) * tally.strata).reduce((x, y) => x + y, 0);
    if (trials === 0) continue;
    const partners: CorrelatedPattern[] = [];
    const lags: LagProfile[] = [];
    const sensitivities: ContextSensitivity[] = [];
    for (let b = 0; b < patterns; b++) {
      const pair = a * patterns + b;
      const stats = statistics[pair];
      if (stats === null || !(adjusted[pair] < settings.alpha)) continue;
      const profile = lagProfile(tally, pair, stats.expectedPerLag, window, input.patterns[b]);
      partners.push({
        pattern: input.patterns[b],
        strength: stats.association.strength,
        lift: stats.association.lift,
        lagSessions: profile.peakLagSessions,
        pValue: adjusted[pair],
        rawPValue: stats.association.pValue,
        test: stats.association.test,
        followed: stats.followed,
        expectedFollowed: stats.association.expected,
      });
      lags.push(profile);
      sensitivities.push(contextSensitivity(tally, a, b, patterns, input.patterns[b]));
    }
    const order = partners
      .map((_, k) => k)
      .sort((i, j) => partners[i].pValue - partners[j].pValue || Math.abs(partners[j].strength) - Math.abs(partners[i].strength));
    results.push({
      pattern: input.patterns[a],
      detections: trials,
      correlatedPatterns: order.map((k) => partners[k]),
      timeLagAnalysis: order.map((k) => lags[k]),
      statisticalSignificance: {
        method:
          `trials are symbol-sessions, stratified by symbol and ${settings.strataSessions}-session blocks: pattern at the session × ` +
          `other pattern within ${window} sessions; Cochran–Mantel–Haenszel χ² test, exact Poisson test when fewer than 5 follows are expected`,
        adjustment: 'benjamini-hochberg',
        alpha: settings.alpha,
        testedPairs: tested,
        significantPairs: significant,
      },
      marketContextSensitivity: order.map((k) => sensitivities[k]),
    });
  }
  return results;
}

function lagProfile(tally: Tally, pair: number, expected: number, window: number, pattern: string): LagProfile {
  const lags = Array.from({ length: window }, (_, k) => {
    const count = tally.lagCounts[pair * window + k];
    return { lagSessions: k + 1, count, expected, lift: expected > 0 ? count / expected : null };
  });
  const peak = lags.reduce((best, lag) => (lag.count - lag.expected > best.count - best.expected ? lag : best), lags[0]);
  const total = lags.reduce((sum, lag) => sum + lag.count, 0);
  let median: number | null = null;
  for (let k = 0, running = 0; k < window && total > 0; k++) {
    running += lags[k].count;
    if (running >= total / 2) {
      median = k + 1;
      break;
    }
  }
  return { pattern, lags, peakLagSessions: peak.lagSessions, medianLagSessions: median };
}

/** Lift by the trend regime at A's session: follows observed against the strata's expectation. */
function contextSensitivity(tally: Tally, a: number, b: number, patterns: number, pattern: string): ContextSensitivity {
  const { strata } = tally;
  const pair = a * patterns + b;
  const entries = REGIMES.map((regime, r) => {
    let detections = 0;
    let expected = 0;
    for (let k = 0; k < strata; k++) {
      const inRegime = tally.primary[(a * strata + k) * REGIME_SLOTS + r];
      if (inRegime === 0) continue;
      detections += inRegime;
      expected += (inRegime * tally.covered[b * strata + k]) / tally.trials[k];
    }
    const followed = tally.followed[pair * REGIME_SLOTS + r];
    return [regime, { lift: expected > 0 ? followed / expected : null, detections, followed }] as const;
  });
  const lifts = entries.map(([, entry]) => entry.lift).filter((lift): lift is number => lift !== null);
  return {
    pattern,
    liftByRegime: Object.fromEntries(entries) as ContextSensitivity['liftByRegime'],
    sensitivity: lifts.length > 1 ? Math.max(...lifts) - Math.min(...lifts) : null,
  };
}
