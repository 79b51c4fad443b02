import { expect } from 'chai';
import type { ScenarioSpec } from '../../src/scenarios/batch.js';
import { SCENARIOS } from '../../src/scenarios/catalog.js';
import type { ModelParams } from '../../src/scenarios/model.js';
import { canonicalJson, scenarioRunId, sessionGrid, syntheticSymbols } from '../../src/scenarios/run.js';

const params = SCENARIOS.crash_2020.params.parse({}) as ModelParams;
const spec: ScenarioSpec = { scenario: 'crash_2020', params, seed: 42, timeframe: '1d', targets: [] };
const identity = { spec, symbols: ['SYN0001', 'SYN0002'], start: '2020-01-02', sessions: 252, schema: 'sandbox' };

describe('scenario runs', () => {
  it('should derive the same run id from the same run, whatever the order of symbols or keys', () => {
    const id = scenarioRunId(identity);
    expect(id).to.match(/^crash_2020-[0-9a-f]{16}$/);
    expect(scenarioRunId({ ...identity, symbols: ['SYN0002', 'SYN0001'] })).to.equal(id);
    const reordered = Object.fromEntries(Object.entries(params).reverse()) as unknown as ModelParams;
    expect(scenarioRunId({ ...identity, spec: { ...spec, params: reordered } })).to.equal(id);
  });

  it('should derive a new run id when the seed, a parameter, the symbols, the sessions or the schema change', () => {
    const id = scenarioRunId(identity);
    const variants = [
      { ...identity, spec: { ...spec, seed: 43 } },
      { ...identity, spec: { ...spec, params: { ...params, initialPrice: 101 } } },
      { ...identity, spec: { ...spec, timeframe: '1m' as const } },
      { ...identity, symbols: ['SYN0001'] },
      { ...identity, sessions: 253 },
      { ...identity, schema: 'other_sandbox' },
    ];
    const ids = new Set(variants.map(scenarioRunId));
    expect(ids.size).to.equal(variants.length);
    expect(ids.has(id)).to.equal(false);
  });

  it('should serialise objects with sorted keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 'x' }, z: undefined })).to.equal(
      '{"a":{"c":"x","d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it('should name generated symbols SYN0001 … with enough digits', () => {
    expect(syntheticSymbols(3)).to.deep.equal(['SYN0001', 'SYN0002', 'SYN0003']);
    expect(syntheticSymbols(12_000)[11_999]).to.equal('SYN12000');
  });

  it('should start on the first session on or after the start date and refuse to run past the calendar', () => {
    const { first, last, grid } = sessionGrid('2020-01-01', 252);
    expect(first).to.equal('2020-01-02');
    expect(last).to.equal('2020-12-30');
    expect(new Date(grid.open[0]).toISOString()).to.equal('2020-01-02T14:30:00.000Z');
    // 2020-11-27 (day after Thanksgiving) closes at 13:00 New York.
    const early = Array.from(grid.open).findIndex((open) => new Date(open).toISOString().startsWith('2020-11-27'));
    expect(new Date(grid.close[early]).toISOString()).to.equal('2020-11-27T18:00:00.000Z');
    expect(() => sessionGrid('2199-06-01', 252)).to.throw(/run past the end of the XNYS calendar/);
  });
});
