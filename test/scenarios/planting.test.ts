import { expect } from 'chai';
import { runScenarioBatch, type ScenarioSpec } from '../../src/scenarios/batch.js';
import { SCENARIOS } from '../../src/scenarios/catalog.js';
import type { ModelParams } from '../../src/scenarios/model.js';
import { resolvePlantings, type PlantingEntry } from '../../src/scenarios/planting.js';
import { scenarioRunId, sessionGrid } from '../../src/scenarios/run.js';
import { summarizeReports } from '../../src/scenarios/validation.js';
import { DETECTORS, patternSeries } from '../../src/patterns/catalog.js';

describe('pattern planting in scenarios', function () {
  this.timeout(60_000);
  const { grid, dates } = sessionGrid('2020-01-01', 504);
  const params = SCENARIOS.trend_changes.params.parse({}) as ModelParams;
  const spec = (plant: PlantingEntry[]): ScenarioSpec => {
    const { plantings, issues } = resolvePlantings(plant, { timeframe: '1d', sessions: dates });
    expect(issues).to.deep.equal([]);
    return { scenario: 'trend_changes', params, seed: 11, timeframe: '1d', targets: ['1w'], plant: plantings };
  };
  const symbols = ['SYN0001', 'SYN0002', 'SYN0003'];

  it('should plant every pattern where asked and report each found by its detector', () => {
    const plant: PlantingEntry[] = [
      { pattern: 'cdlengulfing', session: dates[100], direction: 'bearish', then: { sessions: 5, returnPct: -3 } },
      { pattern: 'cdlmorningstar', session: dates[200] },
      { pattern: 'high_52w', session: dates[300], symbols: ['SYN0002'] },
      { pattern: 'volume_spike', session: dates[400], direction: 'bearish' },
    ];
    const output = runScenarioBatch(spec(plant), symbols, grid);
    const summary = summarizeReports(output.symbols.map((symbol) => symbol.report));
    const patternChecks = summary.checks.filter((check) => check.group === 'patterns');
    expect(patternChecks.map((check) => [check.name, check.symbols, check.passed])).to.deep.equal([
      [`cdlengulfing bearish on ${dates[100]}`, 3, true],
      [`cdlmorningstar bullish on ${dates[200]}`, 3, true],
      [`volume_spike bearish on ${dates[400]}`, 3, true],
      [`high_52w bullish on ${dates[300]}`, 1, true],
    ]);
  });

  it('should measure the scenario targets on the bars as generated and store the planted ones', () => {
    const plain = runScenarioBatch({ ...spec([]), plant: [] }, ['SYN0001'], grid).symbols[0];
    const planted = runScenarioBatch(
      spec([{ pattern: 'gap_down', session: dates[250], then: { sessions: 20, returnPct: -8 } }]),
      ['SYN0001'],
      grid,
    );
    expect(planted.symbols[0].report.targets).to.deep.equal(plain.report.targets);
    expect(planted.symbols[0].report.patterns.map((check) => check.passed)).to.deep.equal([true]);
    // The stored daily bars carry the gap and the move after it.
    const rows = planted.copy.split('\n').filter((line) => line.startsWith('SYN0001\t1d\t'));
    const closes = rows.map((line) => Number(line.split('\t')[7]));
    expect(closes[270] / closes[250]).to.be.closeTo(0.92, 1e-9);
    const opens = rows.map((line) => Number(line.split('\t')[4]));
    const highs = rows.map((line) => Number(line.split('\t')[5]));
    const lows = rows.map((line) => Number(line.split('\t')[6]));
    const out = new Int32Array(closes.length);
    DETECTORS.gap_down.detect(
      patternSeries({
        open: Float64Array.from(opens),
        high: Float64Array.from(highs),
        low: Float64Array.from(lows),
        close: Float64Array.from(closes),
        volume: new Float64Array(closes.length),
      }),
      out,
    );
    expect(out[250]).to.equal(-100);
  });

  it('should give a run with plantings its own id and leave other runs their ids', () => {
    const identity = { symbols, start: dates[0], sessions: 504, schema: 'sandbox' };
    const withoutPlant = { ...spec([]) };
    delete withoutPlant.plant;
    const plain = scenarioRunId({ ...identity, spec: withoutPlant });
    expect(scenarioRunId({ ...identity, spec: spec([]) })).to.equal(plain);
    expect(scenarioRunId({ ...identity, spec: spec([{ pattern: 'cdldoji', session: dates[50] }]) })).to.not.equal(plain);
  });

  it('should name every planting it cannot draw when resolving the payload', () => {
    const { issues } = resolvePlantings(
      [
        { pattern: 'cdlunicorn', session: dates[50] },
        { pattern: 'cdlhammer', session: dates[50], direction: 'bearish' },
        { pattern: 'high_52w', session: dates[100] },
        { pattern: 'cdldoji', session: '2020-01-04' },
        { pattern: 'gap_up', session: dates[500], then: { sessions: 10, returnPct: 5 } },
        { pattern: 'cdldoji', session: dates[60], symbols: ['SYN9999'] },
      ],
      { timeframe: '1d', sessions: dates, symbols },
    );
    expect(issues.map((issue) => issue.path.join('.'))).to.deep.equal([
      'plant.0.pattern',
      'plant.1.direction',
      'plant.2.session',
      'plant.3.session',
      'plant.4.then.sessions',
      'plant.5.symbols.0',
    ]);
    expect(issues[0].message).to.contain('cdlunicorn');
    expect(
      resolvePlantings([{ pattern: 'cdldoji', session: dates[50] }], { timeframe: '1m', sessions: dates }).issues[0].message,
    ).to.match(/1d runs only/);
  });
});
