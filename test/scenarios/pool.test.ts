import { expect } from 'chai';
import type { ScenarioSpec } from '../../src/scenarios/batch.js';
import { SCENARIOS } from '../../src/scenarios/catalog.js';
import type { ModelParams } from '../../src/scenarios/model.js';
import { sessionGrid, syntheticSymbols } from '../../src/scenarios/run.js';
import { KernelPool } from '../../src/kernels/pool.js';

/** Runs the generateScenario task over `symbols` in batches of `batch` on the pool; the COPY lines, sorted. */
async function generate(pool: KernelPool, batch: number, spec: ScenarioSpec, symbols: string[]): Promise<string[]> {
  const { grid } = sessionGrid('2020-01-01', 252);
  const batches: string[][] = [];
  for (let i = 0; i < symbols.length; i += batch) batches.push(symbols.slice(i, i + batch));
  const outputs = await Promise.all(
    batches.map((symbolsOfBatch) => pool.run('generateScenario', { spec, symbols: symbolsOfBatch, grid })),
  );
  const decoder = new TextDecoder();
  return outputs
    .flatMap((output) => decoder.decode(output.copy).split('\n'))
    .filter(Boolean)
    .sort();
}

describe('generateScenario pool task', function () {
  const pools: KernelPool[] = [];
  after(async () => {
    await Promise.all(pools.map((pool) => pool.destroy()));
  });

  it('should produce identical bars on 1 thread and on 4, whatever the batching', async () => {
    const one = new KernelPool(1);
    const four = new KernelPool(4);
    pools.push(one, four);
    const spec: ScenarioSpec = {
      scenario: 'volatility_periods',
      params: SCENARIOS.volatility_periods.params.parse({}) as ModelParams,
      seed: 2024,
      timeframe: '1d',
      targets: ['1w'],
    };
    const symbols = syntheticSymbols(12);
    const single = await generate(one, 12, spec, symbols);
    const perSymbol = await generate(four, 1, spec, symbols);
    const mixed = await generate(four, 5, spec, symbols);
    expect(single).to.have.length(12 * 252 + 12 * 53);
    expect(perSymbol).to.deep.equal(single);
    expect(mixed).to.deep.equal(single);
    expect(four.threads).to.be.greaterThan(1);
  });
});
