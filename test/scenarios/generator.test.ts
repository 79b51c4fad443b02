import { expect } from 'chai';
import { barProblem, type BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { buildSymbol, runScenarioBatch, type ScenarioSpec } from '../../src/scenarios/batch.js';
import { SCENARIO_NAMES, SCENARIOS, type ScenarioName } from '../../src/scenarios/catalog.js';
import { bridgeHigh, bridgeLow } from '../../src/scenarios/generator.js';
import type { ModelParams } from '../../src/scenarios/model.js';
import { ScenarioRandom } from '../../src/scenarios/random.js';
import { sessionGrid } from '../../src/scenarios/run.js';
import { mean } from '../../src/shared/statistics.js';
import { isOnGrid, TIMEFRAMES } from '../../src/bars/timeframes.js';
import { localMidnight } from '../../src/shared/zone.js';

const ZONE = 'America/New_York';
const ALL_COARSER = TIMEFRAMES.filter((tf) => tf !== '1m');

function spec(scenario: ScenarioName, overrides: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    scenario,
    params: SCENARIOS[scenario].params.parse({}) as ModelParams,
    seed: 42,
    timeframe: '1d',
    targets: [],
    ...overrides,
  };
}

function bytes(bars: BarColumns): Buffer {
  return Buffer.concat(
    Object.values(bars).map((column: Float64Array) => Buffer.from(column.buffer, column.byteOffset, column.byteLength)),
  );
}

/** Every bar: low ≤ min(open, close) ≤ max(open, close) ≤ high, low > 0, whole volume ≥ 0. */
function expectValidBars(bars: BarColumns, label: string): void {
  const problems: string[] = [];
  for (let i = 0; i < bars.ts.length; i++) {
    const problem =
      barProblem(bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]) ??
      (bars.low[i] > 0 ? undefined : `low ${bars.low[i]} is not positive`) ??
      (Number.isInteger(bars.volume[i]) ? undefined : `volume ${bars.volume[i]} is not whole`) ??
      (i === 0 || bars.ts[i] > bars.ts[i - 1] ? undefined : 'ts not ascending');
    if (problem) problems.push(`${label} bar ${i}: ${problem}`);
  }
  expect(problems.slice(0, 5)).to.deep.equal([]);
}

describe('scenario generator', () => {
  const { grid } = sessionGrid('2020-01-01', 252);

  it('should produce byte-identical bars when the same run is generated twice', () => {
    for (const name of SCENARIO_NAMES) {
      const first = runScenarioBatch(spec(name), ['SYN0001', 'SYN0002'], grid);
      const second = runScenarioBatch(spec(name), ['SYN0001', 'SYN0002'], grid);
      expect(second.copy, name).to.equal(first.copy);
      expect(
        bytes(buildSymbol(spec(name), 'SYN0001', grid).stored[0].bars).equals(
          bytes(buildSymbol(spec(name), 'SYN0001', grid).stored[0].bars),
        ),
      ).to.equal(true);
    }
  });

  it('should produce different bars for a different seed or symbol', () => {
    const base = buildSymbol(spec('growth_2021'), 'SYN0001', grid).stored[0].bars;
    const otherSeed = buildSymbol(spec('growth_2021', { seed: 43 }), 'SYN0001', grid).stored[0].bars;
    const otherSymbol = buildSymbol(spec('growth_2021'), 'SYN0002', grid).stored[0].bars;
    expect(Array.from(otherSeed.close)).to.not.deep.equal(Array.from(base.close));
    expect(Array.from(otherSymbol.close)).to.not.deep.equal(Array.from(base.close));
    // Both still land the scenario's exact total return.
    for (const bars of [base, otherSeed, otherSymbol]) expect(bars.close[251] / bars.open[0] - 1).to.be.closeTo(0.25, 0.0005);
  });

  it('should give a symbol the same bars whatever batch it is generated in', () => {
    const together = runScenarioBatch(spec('crash_2020'), ['SYN0001', 'SYN0002', 'SYN0003'], grid);
    const apart = ['SYN0003', 'SYN0001', 'SYN0002'].map((symbol) => runScenarioBatch(spec('crash_2020'), [symbol], grid));
    const lines = (copy: string) => copy.split('\n').filter(Boolean).sort();
    expect(lines(apart.map((batch) => batch.copy).join(''))).to.deep.equal(lines(together.copy));
  });

  it('should put every daily bar at local midnight of its NYSE session and keep every invariant', () => {
    for (const name of SCENARIO_NAMES) {
      for (const seed of [1, 2, 3]) {
        const built = buildSymbol(spec(name, { seed, targets: ['2d', '1w', '1M'] }), 'SYN0001', grid);
        for (const { timeframe, bars } of built.stored) {
          expectValidBars(bars, `${name}/${seed}/${timeframe}`);
          for (const ts of bars.ts)
            expect(isOnGrid(ts, timeframe, ZONE), `${name} ${timeframe} ${new Date(ts).toISOString()}`).to.equal(undefined);
        }
        const daily = built.stored[0].bars;
        expect(daily.ts.length).to.equal(252);
        const sessions = NYSE.sessionsBetween('2020-01-02', '2020-12-31').slice(0, 252);
        expect(Array.from(daily.ts)).to.deep.equal(sessions.map((s) => localMidnight(s.date, ZONE)));
      }
    }
  });

  it('should simulate 1m bars inside the regular session, early closes included, aggregated to every timeframe', () => {
    const minuteSpec = spec('crash_2020', { timeframe: '1m', targets: ALL_COARSER });
    const sessions = 252;
    const built = buildSymbol(minuteSpec, 'SYN0001', grid);
    const minutes = built.stored[0].bars;
    const expected = NYSE.sessionsBetween('2020-01-02', '2020-12-31').slice(0, sessions);
    expect(minutes.ts.length).to.equal(expected.reduce((sum, s) => sum + (s.close - s.open) / 60_000, 0));
    // Walk the minutes against the calendar's sessions: each must start on a minute within one.
    const perSession = new Map<string, number>();
    const outside: number[] = [];
    let index = 0;
    for (const ts of minutes.ts) {
      while (index < expected.length && ts >= expected[index].close) index++;
      const session = expected[index];
      if (!session || ts < session.open || ts % 60_000 !== 0) outside.push(ts);
      else perSession.set(session.date, (perSession.get(session.date) ?? 0) + 1);
    }
    expect(outside.map((ts) => new Date(ts).toISOString())).to.deep.equal([]);
    expect(perSession.get('2020-11-27'), 'the 13:00 close after Thanksgiving').to.equal(210);
    expect(perSession.get('2020-11-25')).to.equal(390);
    expect(perSession.size).to.equal(sessions);
    expectValidBars(minutes, '1m');
    expect(built.stored.map((s) => s.timeframe)).to.deep.equal(['1m', ...ALL_COARSER]);
    for (const { timeframe, bars } of built.stored.slice(1)) {
      expectValidBars(bars, timeframe);
      const offGrid = Array.from(bars.ts).filter((ts) => isOnGrid(ts, timeframe, ZONE) !== undefined);
      expect(offGrid, timeframe).to.deep.equal([]);
    }
    const hourly = built.stored.find((s) => s.timeframe === '1h')!.bars;
    expect(hourly.ts.length).to.equal(expected.reduce((sum, s) => sum + (s.earlyClose ? 4 : 7), 0));
  });

  it('should close each 1m session exactly where the daily run closes, with the same volume', () => {
    const daily = buildSymbol(spec('crash_2020'), 'SYN0007', grid).daily;
    const fromMinutes = buildSymbol(spec('crash_2020', { timeframe: '1m', targets: ['1d'] }), 'SYN0007', grid).daily;
    expect(Array.from(fromMinutes.ts)).to.deep.equal(Array.from(daily.ts));
    expect(Array.from(fromMinutes.open)).to.deep.equal(Array.from(daily.open));
    expect(Array.from(fromMinutes.close)).to.deep.equal(Array.from(daily.close));
    expect(Array.from(fromMinutes.volume)).to.deep.equal(Array.from(daily.volume));
  });

  it('should tie volume to volatility: the crash trades more than the calm months before it', () => {
    const built = buildSymbol(spec('crash_2020'), 'SYN0001', grid);
    const crash = built.phases.find((p) => p.name === 'crash')!;
    const calm = built.phases.find((p) => p.name === 'normal')!;
    const volume = built.daily.volume;
    expect(mean(volume, crash.start, crash.end)).to.be.greaterThan(2 * mean(volume, calm.start, calm.end));
  });

  it('should draw Brownian-bridge extremes that contain the move and have the bridge mean', () => {
    const random = new ScenarioRandom(5, 'B', 'test');
    const s = 0.01;
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const b = s * random.normal();
      if (bridgeHigh(b, s, random.uniform()) < Math.max(0, b) || bridgeLow(b, s, random.uniform()) > Math.min(0, b)) outside++;
      sum += bridgeHigh(0, s, random.uniform());
    }
    expect(outside).to.equal(0);
    // E[max of a Brownian bridge from 0 to 0 with variance s²] = s·sqrt(π/8).
    expect(sum / 100_000).to.be.closeTo(s * Math.sqrt(Math.PI / 8), s * 0.01);
  });
});
