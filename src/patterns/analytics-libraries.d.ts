/**
 * Type declarations for the parts of the two untyped analytics libraries tickforge uses:
 * jstat (distribution functions) and ml-logistic-regression (the prediction model).
 */

declare module 'jstat' {
  interface Continuous {
    cdf(x: number, ...parameters: number[]): number;
    inv(p: number, ...parameters: number[]): number;
  }
  interface Discrete {
    pdf(k: number, ...parameters: number[]): number;
    cdf(k: number, ...parameters: number[]): number;
  }
  interface JStat {
    /** normal.inv(p, mean, sd), normal.cdf(x, mean, sd). */
    normal: Continuous;
    /** chisquare.cdf(x, dof). */
    chisquare: Continuous;
    /** poisson.cdf(k, mean). */
    poisson: Discrete;
  }
  const jstat: { jStat: JStat };
  export default jstat;
}

declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';

  /** One of the one-vs-all binary classifiers; `weights` is a 1 × features row. */
  export interface LogisticRegressionTwoClasses {
    weights: Matrix;
    testScores(features: Matrix): number[];
  }

  /** Logistic regression fitted by batch gradient ascent (mljs). */
  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    /** One classifier per class; classifiers[k] scores "the class is not k". */
    classifiers: LogisticRegressionTwoClasses[];
    numberClasses: number;
    train(features: Matrix, target: Matrix): void;
    predict(features: Matrix): number[];
  }
}
