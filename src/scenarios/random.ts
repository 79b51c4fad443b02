import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * A seeded stream of random variates for one symbol: pure-rand's xoroshiro128+ whose 128-bit
 * state is taken from SHA-256 of (seed, symbol, purpose). Each symbol therefore owns its
 * stream, and what a symbol gets never depends on which other symbols share its batch or
 * thread. Variates are built from the generator's 32-bit outputs with fixed algorithms
 * (pure-rand's 53-bit uniforms, Marsaglia's polar normals, Marsaglia–Tsang gammas), so a given
 * (seed, symbol, purpose) yields the same sequence on every machine running the same engine.
 */
export class ScenarioRandom {
  private readonly generator: RandomGenerator;
  private spareNormal = NaN;

  constructor(seed: number, symbol: string, purpose: string) {
    const digest = createHash('sha256').update(`tickforge-scenario\u0000${seed}\u0000${symbol}\u0000${purpose}`).digest();
    const state: number[] = [digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12)];
    // xoroshiro's all-zero state is a fixed point; SHA-256 makes it practically unreachable.
    if (!state.some((word) => word !== 0)) state[0] = 1;
    this.generator = xoroshiro128plusFromState(state);
  }

  /** Uniform on the open interval (0, 1): never 0, so logarithms stay finite. */
  uniform(): number {
    for (;;) {
      const value = uniformFloat64(this.generator);
      if (value > 0) return value;
    }
  }

  /** Standard normal, by Marsaglia's polar method (the second value of each pair is kept). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const spare = this.spareNormal;
      this.spareNormal = NaN;
      return spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const factor = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * factor;
        return u * factor;
      }
    }
  }

  /** Gamma(shape, 1) for shape >= 1, by Marsaglia and Tsang (2000). */
  gamma(shape: number): number {
    if (!(shape >= 1)) throw new RangeError(`gamma shape must be >= 1, got ${shape}`);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /**
   * Student-t with `nu` degrees of freedom scaled to unit variance: T·sqrt((ν−2)/ν), with
   * T = Z / sqrt(χ²_ν/ν) and χ²_ν = 2·Gamma(ν/2). Needs ν > 2 (ν ≥ 2 for the gamma step).
   */
  studentT(nu: number): number {
    const z = this.normal();
    const chiSquare = 2 * this.gamma(nu / 2);
    return z * Math.sqrt((nu - 2) / chiSquare);
  }
}

/** E|Z| for a unit-variance Student-t with ν degrees of freedom (ν > 2). */
export function meanAbsStudentT(nu: number): number {
  // E|T_ν| = 2·sqrt(ν)·Γ((ν+1)/2) / (sqrt(π)·(ν−1)·Γ(ν/2)), then scaled by sqrt((ν−2)/ν).
  const logRatio = logGamma((nu + 1) / 2) - logGamma(nu / 2);
  return ((2 * Math.sqrt(nu) * Math.exp(logRatio)) / (Math.sqrt(Math.PI) * (nu - 1))) * Math.sqrt((nu - 2) / nu);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 significant digits). */
export function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = coefficients[0];
  for (let i = 1; i < 9; i++) sum += coefficients[i] / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** A seeded uniform stream on (0, 1) for synthetic data outside scenarios (benchmarks, tests). */
export function uniformStream(seed: number, purpose: string): () => number {
  const random = new ScenarioRandom(seed, 'synthetic', purpose);
  return () => random.uniform();
}
