import { expect } from 'chai';
import { NYSE } from '../../src/shared/calendar.js';
import { decideWeights, tierWeight, type RebalancePoint, type SectorStrength } from '../../src/universes/sector-strength.js';
import { TestSystem } from '../helpers/system.js';

const BASELINE = '2021-05-03';
const QUIET = '2021-05-10';
const MOVED = '2021-05-17';
/** From this session on the utilities stocks close 20 % higher: the constructed sector move. */
const MOVE_FROM = '2021-05-11';

const STOCKS = [
  ['E1', 'Energy'],
  ['E2', 'Energy'],
  ['M1', 'Materials'],
  ['M2', 'Materials'],
  ['U1', 'Utilities'],
  ['U2', 'Utilities'],
] as const;

describe('theme weights by relative strength', () => {
  const strength = (universe: string, rank: number, rs1m: number): SectorStrength => ({ universe, rank, rs1m, rs3m: 0 });
  const point = (rank: number, rs1m: number, weight = 1): RebalancePoint => ({ date: '2021-05-03', rank, rs1m, rs3m: 0, weight });

  it('should give the top third of the sectors 1.5, the bottom third 0.5 and the rest 1', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((rank) => tierWeight(rank, 11))).to.deep.equal([
      1.5, 1.5, 1.5, 1.5, 1, 1, 1, 0.5, 0.5, 0.5, 0.5,
    ]);
  });

  it('should rebalance a theme whose rank moved 3 places or whose 1-month relative return moved 5 points, and no other', () => {
    const previous = new Map([
      ['a', point(1, 0)],
      ['b', point(5, 0)],
      ['c', point(9, 0.02)],
    ]);
    const decisions = decideWeights(
      [strength('b', 2, 0.01), strength('a', 3, 0.049), strength('c', 9, -0.04)],
      previous,
      '2021-05-17',
    );
    const byUniverse = new Map(decisions.map((decision) => [decision.universe, decision]));
    expect(byUniverse.get('a')!.trigger).to.equal(undefined);
    expect(byUniverse.get('a')!.point).to.equal(previous.get('a'));
    expect(byUniverse.get('b')!.trigger).to.equal('rank 5 → 2 of 3');
    expect(byUniverse.get('c')!.trigger).to.equal('1-month return vs SPY +2.0 % → -4.0 %');
    expect(byUniverse.get('c')!.point).to.include({ rank: 9, rs1m: -0.04, date: '2021-05-17' });
  });
});

describe('theme_rebalancing in the sync', function () {
  let system: TestSystem;

  const weightLog = (runId: string) =>
    system
      .db('sync_changes_log')
      .where({ run_id: runId, task: 'theme_rebalancing' })
      .whereRaw('symbol = universe')
      .select('universe', 'reason', 'before', 'after');

  before(async function () {
    this.timeout(120_000);
    system = await TestSystem.create();
    await system.startWorker();
    await system.run('import-symbols', {
      rows: STOCKS.map(([symbol, sector]) => ({ symbol, kind: 'stock' as const, sector, name: `${symbol} Corp` })),
    });
    const lines = ['date,open,high,low,close,volume,Name'];
    for (const { date } of NYSE.sessionsBetween('2021-01-04', MOVED)) {
      lines.push(`${date},100,100,100,100,50000000,SPY`);
      for (const [symbol, sector] of STOCKS) {
        const close = sector === 'Utilities' && date >= MOVE_FROM ? 12 : 10;
        lines.push(`${date},${close},${close},${close},${close},1000000,${symbol}`);
      }
    }
    await system.run('import-bars', { csv: lines.join('\n'), timeframe: '1d' });
  });

  after(async () => {
    await system.close();
  });

  it('should record a neutral weight for every sector theme on the first ranking, logging no weight change', async () => {
    const { result } = await system.run('eod-sync', { date: BASELINE }, 120_000);
    const themes = await system.db('universes').where({ category: 'sector' }).orderBy('key').select('key', 'metadata');
    expect(themes.map((theme: { key: string }) => theme.key)).to.deep.equal([
      'sector_energy',
      'sector_materials',
      'sector_utilities',
    ]);
    for (const theme of themes) expect(theme.metadata).to.deep.include({ weight: 1 });
    expect(await weightLog(result.run_id)).to.deep.equal([]);
  });

  it('should change no weight when no sector moved', async () => {
    const { result } = await system.run('eod-sync', { date: QUIET }, 120_000);
    expect(await weightLog(result.run_id)).to.deep.equal([]);
    const ranking = result.task_details.theme_rebalancing.ranking as SectorStrength[];
    expect(ranking.map((sector) => sector.rs1m)).to.deep.equal([0, 0, 0]);
  });

  it('should overweight the sector that rose 20 % against the benchmark, logging the change with its reason', async () => {
    const { result } = await system.run('eod-sync', { date: MOVED }, 120_000);
    const log = await weightLog(result.run_id);
    expect(log).to.have.length(1);
    expect(log[0].universe).to.equal('sector_utilities');
    expect(log[0].reason).to.equal(
      'theme weight 1 → 1.5 (rank 1 of 3 by relative strength vs SPY): 1-month return vs SPY +0.0 % → +20.0 %',
    );
    expect(log[0].before).to.include({ weight: 1, rank: 3, date: BASELINE });
    expect(log[0].after).to.include({ weight: 1.5, rank: 1, date: MOVED });
    const utilities = await system.db('universes').where({ key: 'sector_utilities' }).first();
    expect(utilities.metadata.weight).to.equal(1.5);
    expect(result.universes.sector_utilities).to.deep.include({ updated: 1 });
  });
});
