import { expect } from 'chai';
import { ScenarioRandom, logGamma, meanAbsStudentT } from '../../src/scenarios/random.js';
import { excessKurtosis, mean, standardDeviation } from '../../src/shared/statistics.js';

function draws(count: number, draw: () => number): Float64Array {
  return Float64Array.from({ length: count }, draw);
}

describe('scenario random streams', () => {
  it('should repeat a stream exactly when the seed and symbol repeat', () => {
    const a = new ScenarioRandom(42, 'SYN0001', 'daily');
    const b = new ScenarioRandom(42, 'SYN0001', 'daily');
    const first = draws(1_000, () => a.studentT(6));
    const second = draws(1_000, () => b.studentT(6));
    expect(Buffer.from(first.buffer).equals(Buffer.from(second.buffer))).to.equal(true);
  });

  it('should give different streams when the seed, the symbol or the purpose differs', () => {
    const streams = [
      new ScenarioRandom(43, 'SYN0001', 'daily'),
      new ScenarioRandom(42, 'SYN0002', 'daily'),
      new ScenarioRandom(42, 'SYN0001', 'intraday'),
    ];
    const reference = new ScenarioRandom(42, 'SYN0001', 'daily');
    const expected = draws(8, () => reference.uniform());
    for (const stream of streams) expect(Array.from(draws(8, () => stream.uniform()))).to.not.deep.equal(Array.from(expected));
  });

  it('should draw uniforms strictly inside (0, 1) with mean 1/2', () => {
    const random = new ScenarioRandom(1, 'U', 'test');
    const values = draws(100_000, () => random.uniform());
    expect(Math.min(...values)).to.be.greaterThan(0);
    expect(Math.max(...values)).to.be.lessThan(1);
    expect(mean(values)).to.be.closeTo(0.5, 0.005);
  });

  it('should draw standard normals (mean 0, variance 1, no excess kurtosis)', () => {
    const random = new ScenarioRandom(2, 'N', 'test');
    const values = draws(200_000, () => random.normal());
    expect(mean(values)).to.be.closeTo(0, 0.01);
    expect(standardDeviation(values)).to.be.closeTo(1, 0.01);
    expect(excessKurtosis(values)).to.be.closeTo(0, 0.05);
  });

  it('should draw gammas with mean and variance equal to the shape', () => {
    const random = new ScenarioRandom(3, 'G', 'test');
    const values = draws(200_000, () => random.gamma(3));
    expect(mean(values)).to.be.closeTo(3, 0.03);
    expect(standardDeviation(values) ** 2).to.be.closeTo(3, 0.06);
  });

  it('should draw unit-variance Student-t shocks with fat tails and the expected E|z|', () => {
    const random = new ScenarioRandom(4, 'T', 'test');
    const values = draws(300_000, () => random.studentT(8));
    expect(mean(values)).to.be.closeTo(0, 0.01);
    expect(standardDeviation(values)).to.be.closeTo(1, 0.015);
    // Excess kurtosis of t(8) is 6 / (8 − 4) = 1.5.
    expect(excessKurtosis(values)).to.be.closeTo(1.5, 0.4);
    expect(mean(values.map(Math.abs))).to.be.closeTo(meanAbsStudentT(8), 0.005);
  });

  it('should compute ln Γ like the factorials it generalises', () => {
    expect(logGamma(5)).to.be.closeTo(Math.log(24), 1e-12);
    expect(logGamma(0.5)).to.be.closeTo(0.5 * Math.log(Math.PI), 1e-12);
    expect(meanAbsStudentT(1e6)).to.be.closeTo(Math.sqrt(2 / Math.PI), 1e-5);
  });
});
