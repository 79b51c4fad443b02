/**
 * The success model behind `GET /api/analytics/patterns/success/predictions`.
 *
 * Each detection is described by historical success rates known at its own session: of its
 * pattern (and direction) against all patterns, of its pattern in its trend regime, volatility
 * regime and sector against the pattern overall, and of all patterns in its regimes against
 * all patterns — each rate shrunk towards its parent by `priorWeight` pseudo-observations and
 * taken as a log-odds difference from the parent — plus the signal strength. The overall level
 * is left to the intercept: as a feature it would only track the drift of the rate in time. Only outcomes known before the detection's session count, so a
 * feature never sees the future ("ordered target statistics"). A logistic regression
 * (ml-logistic-regression) on these standardised features gives the probability.
 *
 * Accuracy is measured walk-forward: the detections after a warm-up are cut into folds in
 * time; each fold is predicted by a model fitted only on detections whose outcome was known
 * before the fold's first session. Current detections are predicted by a model fitted on
 * every known outcome, with a confidence interval from the fitted model's covariance (the
 * inverse Fisher information, delta method on the log-odds scale).
 */
import LogisticRegression from 'ml-logistic-regression';
import { Matrix, inverse } from 'ml-matrix';
import { type AnalysisSettings, type AnalyticsInput, orderByKey } from './analytics-dataset.js';
import { areaUnderRoc, brierScore, logLoss, logistic, logit, normalCritical } from './analytics-statistics.js';
import { REGIMES, VOLATILITY_REGIMES } from './context.js';
import type { HistoricalAccuracy, SuccessPrediction, SuccessPredictions } from './analytics-schemas.js';

/** What each feature of the model stands for. */
export const FACTORS = [
  'pattern',
  'pattern in this market regime',
  'pattern in this volatility regime',
  'pattern in this sector',
  'market regime',
  'volatility regime',
  'signal strength',
] as const;
export type Factor = (typeof FACTORS)[number];
const FEATURES = FACTORS.length;
/** The features that describe the market rather than the pattern. */
const CONTEXT_FEATURES = [1, 2, 3, 4, 5];

/** The historical rate behind a feature, and how many known outcomes it rests on. */
interface Evidence {
  rate: number;
  observations: number;
}

/**
 * The tables the historical rates are counted in, each detection's cell in every table, and
 * which table's rate is each table's parent (−1: the overall rate).
 */
const TABLES = ['pattern', 'pattern × regime', 'pattern × volatility', 'pattern × sector', 'regime', 'volatility'] as const;
const PARENT_TABLE = [-1, 0, 0, 0, -1, -1];

/** cells[i × TABLES.length + t]: detection i's cell in table t; and each table's size. */
function tableCells(input: AnalyticsInput): { cells: Int32Array; sizes: number[] } {
  const d = input.detections;
  const regimes = REGIMES.length + 1;
  const volatilities = VOLATILITY_REGIMES.length + 1;
  const sectors = input.sectors.length + 1;
  const signals = input.patterns.length * 2;
  const cells = new Int32Array(d.count * TABLES.length);
  for (let i = 0; i < d.count; i++) {
    const signal = d.pattern[i] * 2 + (d.direction[i] > 0 ? 0 : 1);
    const regime = d.regime[i] >= 0 ? d.regime[i] : REGIMES.length;
    const volatility = d.volatility[i] >= 0 ? d.volatility[i] : VOLATILITY_REGIMES.length;
    const sector = d.sector[i] >= 0 ? d.sector[i] : input.sectors.length;
    const row = i * TABLES.length;
    cells[row] = signal;
    cells[row + 1] = signal * regimes + regime;
    cells[row + 2] = signal * volatilities + volatility;
    cells[row + 3] = signal * sectors + sector;
    cells[row + 4] = regime;
    cells[row + 5] = volatility;
  }
  return { cells, sizes: [signals, signals * regimes, signals * volatilities, signals * sectors, regimes, volatilities] };
}

/** A rate shrunk towards `prior` by `weight` pseudo-observations. */
function shrunk(successes: number, trials: number, prior: number, weight: number): number {
  return (successes + weight * prior) / (trials + weight);
}

export interface Features {
  /** Row-major, FEATURES per detection. */
  values: Float64Array;
  /** Detections in session order. */
  bySession: Int32Array;
  /** Detections with a known outcome in the order their outcome became known. */
  byKnown: Int32Array;
  /** Evidence behind the features of the detections asked for. */
  evidence: Map<number, Evidence[]>;
}

/** The features of every detection, from the outcomes known before its session (exported for its no-look-ahead test). */
export function historicalFeatures(input: AnalyticsInput, weight: number, describe: Set<number>): Features {
  const d = input.detections;
  const bySession = orderByKey(d.count, (i) => d.session[i], input.sessions.count);
  const byKnown = orderByKey(d.count, (i) => (d.success[i] >= 0 ? d.knownSession[i] : -1), input.sessions.count);
  const { cells, sizes } = tableCells(input);
  const tables = TABLES.length;
  const trials = sizes.map((size) => new Float64Array(size));
  const successes = sizes.map((size) => new Float64Array(size));
  const rates = new Float64Array(tables);
  let overallTrials = 0;
  let overallSuccesses = 0;
  const values = new Float64Array(d.count * FEATURES);
  const evidence = new Map<number, Evidence[]>();
  let next = 0;
  for (const i of bySession) {
    for (; next < byKnown.length && d.knownSession[byKnown[next]] < d.session[i]; next++) {
      const known = byKnown[next];
      overallTrials++;
      overallSuccesses += d.success[known];
      for (let t = 0; t < tables; t++) {
        trials[t][cells[known * tables + t]]++;
        successes[t][cells[known * tables + t]] += d.success[known];
      }
    }
    const overall = shrunk(overallSuccesses, overallTrials, 0.5, weight);
    const row = i * FEATURES;
    // Parents come first in TABLES, so each rate's parent is ready when it is needed.
    for (let t = 0; t < tables; t++) {
      const parent = PARENT_TABLE[t] < 0 ? overall : rates[PARENT_TABLE[t]];
      const cell = cells[i * tables + t];
      rates[t] = shrunk(successes[t][cell], trials[t][cell], parent, weight);
      values[row + t] = logit(rates[t]) - logit(parent);
    }
    values[row + FEATURES - 1] = d.strength[i];
    if (describe.has(i)) {
      evidence.set(i, [
        ...Array.from(rates, (rate, t) => ({ rate, observations: trials[t][cells[i * tables + t]] })),
        { rate: d.strength[i], observations: 0 },
      ]);
    }
  }
  return { values, bySession, byKnown, evidence };
}

/** A fitted model: weights over the standardised active features. */
interface Fitted {
  intercept: number;
  /** Features that vary in the training set; the others carry no weight. */
  active: number[];
  weights: number[];
  mean: number[];
  scale: number[];
  /** Training success rate: the reference forecast. */
  baseRate: number;
  trainedOn: number;
  /** Covariance of (intercept, weights), when asked for. */
  covariance: Matrix | null;
}

function standardised(model: Fitted, values: Float64Array, i: number): number[] {
  return model.active.map((feature, k) => (values[i * FEATURES + feature] - model.mean[k]) / model.scale[k]);
}

function logOdds(model: Fitted, z: number[]): number {
  return z.reduce((sum, value, k) => sum + value * model.weights[k], model.intercept);
}

/** The model's log-odds for detection i, without building its standardised row. */
function logOddsOf(model: Fitted, values: Float64Array, i: number): number {
  let sum = model.intercept;
  for (let k = 0; k < model.active.length; k++) {
    sum += ((values[i * FEATURES + model.active[k]] - model.mean[k]) / model.scale[k]) * model.weights[k];
  }
  return sum;
}

/** Fits the logistic regression on the training rows. */
function fit(
  input: AnalyticsInput,
  features: Features,
  rows: ArrayLike<number>,
  settings: AnalysisSettings,
  withCovariance: boolean,
): Fitted {
  const d = input.detections;
  const n = rows.length;
  let successes = 0;
  for (let k = 0; k < n; k++) successes += d.success[rows[k]];
  const baseRate = successes / n;
  const active: number[] = [];
  const mean: number[] = [];
  const scale: number[] = [];
  for (let feature = 0; feature < FEATURES; feature++) {
    let sum = 0;
    let squares = 0;
    for (let k = 0; k < n; k++) {
      const value = features.values[rows[k] * FEATURES + feature];
      sum += value;
      squares += value * value;
    }
    const average = sum / n;
    const deviation = Math.sqrt(Math.max(0, squares / n - average * average));
    if (deviation > 1e-9) {
      active.push(feature);
      mean.push(average);
      scale.push(deviation);
    }
  }
  const model: Fitted = { intercept: 0, active, weights: [], mean, scale, baseRate, trainedOn: n, covariance: null };
  if (successes === 0 || successes === n) {
    // One class only: nothing to separate, so forecast the (shrunk) base rate.
    model.intercept = logit((successes + 1) / (n + 2));
    model.weights = active.map(() => 0);
    return model;
  }
  const design = new Matrix(n, active.length + 1);
  const target = new Matrix(n, 1);
  for (let k = 0; k < n; k++) {
    const z = standardised(model, features.values, rows[k]);
    design.set(k, 0, 1);
    z.forEach((value, j) => design.set(k, j + 1, value));
    target.set(k, 0, d.success[rows[k]]);
  }
  // The library ascends the summed gradient, so a step of 1/n is a unit step on the mean
  // log-likelihood: stable for standardised features and converging in a few hundred steps.
  const regression = new LogisticRegression({ numSteps: settings.model.steps, learningRate: 1 / n });
  regression.train(design, target);
  // classifiers[0] scores "not class 0", i.e. P(success).
  const weights = regression.classifiers[0].weights.to1DArray();
  model.intercept = weights[0];
  model.weights = weights.slice(1);
  if (withCovariance) model.covariance = covariance(model, design);
  return model;
}

/** Inverse Fisher information of the fitted model on its design matrix. */
function covariance(model: Fitted, design: Matrix): Matrix {
  const size = design.columns;
  const information = new Matrix(size, size);
  for (let k = 0; k < design.rows; k++) {
    const row = design.getRow(k);
    const p = logistic(logOdds(model, row.slice(1)));
    const w = p * (1 - p);
    for (let a = 0; a < size; a++) {
      for (let b = a; b < size; b++) information.set(a, b, information.get(a, b) + w * row[a] * row[b]);
    }
  }
  for (let a = 0; a < size; a++) for (let b = 0; b < a; b++) information.set(a, b, information.get(b, a));
  return inverse(information, true);
}

/** The last `cap` rows of byKnown[0 … end). */
function trainingRows(features: Features, end: number, cap: number): Int32Array {
  return features.byKnown.subarray(Math.max(0, end - cap), end);
}

/** How many outcomes were known before `session`. */
function knownBefore(input: AnalyticsInput, features: Features, session: number): number {
  let low = 0;
  let high = features.byKnown.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (input.detections.knownSession[features.byKnown[middle]] < session) low = middle + 1;
    else high = middle;
  }
  return low;
}

function walkForward(input: AnalyticsInput, features: Features, settings: AnalysisSettings): HistoricalAccuracy {
  const d = input.detections;
  const { folds, trainingCap, minTraining } = settings.model;
  const scored = features.bySession.filter((i) => d.success[i] >= 0);
  const start = scored.findIndex((i) => knownBefore(input, features, d.session[i]) >= minTraining);
  const empty = (note: string): HistoricalAccuracy => ({
    method: 'walk-forward',
    folds: 0,
    predictions: 0,
    baseRate: null,
    brierScore: null,
    referenceBrierScore: null,
    brierSkillScore: null,
    logLoss: null,
    referenceLogLoss: null,
    auc: null,
    note,
  });
  if (start < 0) return empty(`fewer than ${minTraining} outcomes were known before any detection`);
  const evaluated = scored.subarray(start);
  const foldCount = Math.min(folds, evaluated.length);
  const forecasts = new Float64Array(evaluated.length);
  const references = new Float64Array(evaluated.length);
  const outcomes = Float64Array.from(evaluated, (i) => d.success[i]);
  for (let f = 0; f < foldCount; f++) {
    const first = Math.floor((f * evaluated.length) / foldCount);
    const last = Math.floor(((f + 1) * evaluated.length) / foldCount);
    const end = knownBefore(input, features, d.session[evaluated[first]]);
    const model = fit(input, features, trainingRows(features, end, trainingCap), settings, false);
    for (let k = first; k < last; k++) {
      forecasts[k] = logistic(logOddsOf(model, features.values, evaluated[k]));
      references[k] = model.baseRate;
    }
  }
  const brier = brierScore(forecasts, outcomes);
  const referenceBrier = brierScore(references, outcomes);
  const auc = areaUnderRoc(forecasts, outcomes);
  return {
    method: 'walk-forward',
    folds: foldCount,
    predictions: forecasts.length,
    baseRate: outcomes.reduce((sum, y) => sum + y, 0) / outcomes.length,
    brierScore: brier,
    referenceBrierScore: referenceBrier,
    brierSkillScore: referenceBrier > 0 ? 1 - brier / referenceBrier : null,
    logLoss: logLoss(forecasts, outcomes),
    referenceLogLoss: logLoss(references, outcomes),
    auc: Number.isNaN(auc) ? null : auc,
  };
}

function predictOne(input: AnalyticsInput, features: Features, model: Fitted, i: number, confidence: number): SuccessPrediction {
  const d = input.detections;
  const z = standardised(model, features.values, i);
  const eta = logOdds(model, z);
  const probability = logistic(eta);
  const extended = Matrix.columnVector([1, ...z]);
  const variance = model.covariance ? extended.transpose().mmul(model.covariance).mmul(extended).get(0, 0) : NaN;
  const margin = normalCritical(confidence) * Math.sqrt(Math.max(0, variance));
  const contributions = model.active.map((feature, k) => ({ feature, value: z[k] * model.weights[k] }));
  const total = contributions.reduce((sum, entry) => sum + Math.abs(entry.value), 0);
  const evidence = features.evidence.get(i)!;
  const contextShift = contributions
    .filter((entry) => CONTEXT_FEATURES.includes(entry.feature))
    .reduce((sum, entry) => sum + entry.value, 0);
  const withoutContext = logistic(eta - contextShift);
  return {
    patternId: d.id[i],
    symbol: input.symbols[d.symbol[i]],
    pattern: input.patterns[d.pattern[i]],
    direction: d.direction[i] > 0 ? 'bullish' : 'bearish',
    ts: new Date(d.ts[i]).toISOString(),
    predictedSuccessProbability: probability,
    confidenceInterval: [logistic(eta - margin), logistic(eta + margin)],
    keyFactors: contributions
      .filter((entry) => entry.value !== 0)
      .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
      .map((entry) => ({
        factor: FACTORS[entry.feature],
        importance: Math.abs(entry.value) / total,
        effect: entry.value > 0 ? 'raises' : 'lowers',
        historicalRate: evidence[entry.feature].rate,
        observations: evidence[entry.feature].observations,
      })),
    marketContextInfluence: {
      regime: d.regime[i] >= 0 ? REGIMES[d.regime[i]] : null,
      volatilityRegime: d.volatility[i] >= 0 ? VOLATILITY_REGIMES[d.volatility[i]] : null,
      sector: d.sector[i] >= 0 ? input.sectors[d.sector[i]] : null,
      probabilityWithoutContext: withoutContext,
      shift: probability - withoutContext,
    },
  };
}

/**
 * Success predictions for the detections of the last `recentSessions` sessions, with the
 * model's walk-forward accuracy.
 */
export function successPredictions(input: AnalyticsInput, settings: AnalysisSettings): SuccessPredictions {
  const d = input.detections;
  const firstRecent = input.sessions.count - settings.model.recentSessions;
  const recent = new Set<number>();
  for (let i = 0; i < d.count; i++) if (d.session[i] >= firstRecent) recent.add(i);
  const features = historicalFeatures(input, settings.model.priorWeight, recent);
  const historicalAccuracy = walkForward(input, features, settings);
  const training = trainingRows(features, features.byKnown.length, settings.model.trainingCap);
  if (training.length === 0) {
    return {
      model: { kind: 'logistic-regression', library: 'ml-logistic-regression', trainedOn: 0, coefficients: [] },
      historicalAccuracy,
      predictions: [],
    };
  }
  const model = fit(input, features, training, settings, true);
  const predictions = [...recent]
    .sort((a, b) => d.ts[b] - d.ts[a] || d.id[a] - d.id[b])
    .map((i) => predictOne(input, features, model, i, settings.confidence));
  return {
    model: {
      kind: 'logistic-regression',
      library: 'ml-logistic-regression',
      trainedOn: model.trainedOn,
      coefficients: [
        { factor: 'intercept', coefficient: model.intercept },
        ...model.active.map((feature, k) => ({ factor: FACTORS[feature], coefficient: model.weights[k] })),
      ],
    },
    historicalAccuracy,
    predictions,
  };
}
