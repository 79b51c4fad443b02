import { expect } from 'chai';
import type { GenerateScenarioResult } from '../../src/scenarios/generate-scenario.contract.js';
import { ValidationError } from '../../src/shared/errors.js';
import { sessionGrid } from '../../src/scenarios/run.js';
import { TestSystem } from '../helpers/system.js';

describe('generate-scenario with planted patterns', function () {
  this.timeout(180_000);
  let system: TestSystem;
  const { dates } = sessionGrid('2020-01-01', 300);

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
  });

  after(async () => {
    await system.close();
  });

  it('should store the planted bars and pass the report only because every planting is found', async () => {
    const { result } = await system.run('generate-scenario', {
      scenario: 'growth_2021',
      count: 2,
      seed: 5,
      sessions: 300,
      plant: [
        { pattern: 'cdlengulfing', session: dates[120], then: { sessions: 5, returnPct: 6 } },
        { pattern: 'breakdown_20', session: dates[200], symbols: ['SYN0002'] },
      ],
    });
    const run = result as GenerateScenarioResult;
    const planted = run.checks.filter((check) => check.check.startsWith('patterns.'));
    expect(planted).to.deep.equal([
      { check: `patterns.cdlengulfing bullish on ${dates[120]}`, passed: true, passedSymbols: 2, symbols: 2 },
      { check: `patterns.breakdown_20 bearish on ${dates[200]}`, passed: true, passedSymbols: 1, symbols: 1 },
    ]);
    const closes = await system.db
      .withSchema(system.config.sandboxSchema)
      .table('bars')
      .where({ symbol: 'SYN0001', timeframe: '1d', variant: '' })
      .orderBy('ts')
      .pluck<number[]>('close');
    expect(closes[125] / closes[120]).to.be.closeTo(1.06, 1e-9);
  });

  it('should refuse a planting it cannot draw, naming the entry, before queueing', async () => {
    try {
      await system.producer.enqueue('generate-scenario', {
        scenario: 'growth_2021',
        count: 1,
        sessions: 300,
        plant: [{ pattern: 'cdl2crows', session: dates[100] }],
      });
      expect.fail('enqueued');
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).issues[0]).to.include({ path: 'plant.0.pattern' });
    }
  });
});
