import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  ETF_FILTER_STEPS,
  effectiveEtfFilters,
  etfFilterOverrides,
  etfFilterOverridesSchema,
  etfThemeOf,
  failedSteps,
  selectEtfThemes,
  type EtfFilterOverrides,
} from '../../src/universes/etf-themes.js';
import type { EtfFilterReport } from '../../src/universes/sync.repository.js';
import { DEFAULT_ETF_THEMES, etfUniverseKey } from '../../src/universes/universes.js';
import { UniversesRepository } from '../../src/universes/universes.repository.js';
import { ConfigError, loadConfig } from '../../src/shared/config.js';
import { US_ETFS, dataFile } from '../helpers/data.js';
import { etfFundsOn } from '../helpers/etfs.js';
import { readEtfs } from '../helpers/sp500.js';
import { TestSystem } from '../helpers/system.js';

const DATE = '2021-09-01';
const NEXT = '2021-09-03';
const OVERRIDES: EtfFilterOverrides = { bonds: { min_avg_volume: 1_000_000 } };

describe('ETF themes by rule', () => {
  it('should assign a fund to a theme by its category, and a blend or uncategorised fund by its holdings', () => {
    expect(etfThemeOf({ category: 'Technology' })).to.equal('technology');
    expect(etfThemeOf({ category: 'Health' })).to.equal('sectors');
    expect(etfThemeOf({ category: 'Large Growth' })).to.equal('growth');
    expect(etfThemeOf({ category: 'Small Value' })).to.equal('value');
    expect(etfThemeOf({ category: 'Diversified Emerging Mkts' })).to.equal('international');
    expect(etfThemeOf({ category: 'Commodities Broad Basket' })).to.equal('commodities');
    expect(etfThemeOf({ category: 'Muni California Long' })).to.equal('bonds');
    expect(etfThemeOf({ category: 'Large Blend', investmentType: 'Growth' })).to.equal('growth');
    expect(etfThemeOf({ category: 'Large Blend', investmentType: 'Value' })).to.equal('value');
    expect(etfThemeOf({ category: 'Large Blend', investmentType: 'Blend' })).to.equal(undefined);
    expect(etfThemeOf({ category: 'Trading--Leveraged Equity', investmentType: 'Growth' })).to.equal(undefined);
    expect(etfThemeOf({ category: '', assetBonds: 0.97 })).to.equal('bonds');
    expect(etfThemeOf({ category: '', assetBonds: 0.5 })).to.equal(undefined);
  });

  it("should apply the report's filters as strict inequalities and lay a theme's override over its default", () => {
    const filters = effectiveEtfFilters(OVERRIDES);
    expect(filters.growth).to.deep.equal({ min_aum: 1e9, min_avg_volume: 5e6, max_expense_ratio: 0.0075 });
    expect(filters.international.min_aum).to.equal(5e8);
    expect(filters.commodities.min_aum).to.equal(2e8);
    expect(filters.bonds).to.deep.equal({ min_aum: 1e9, min_avg_volume: 1e6, max_expense_ratio: 0.0075 });
    const filter = filters.growth;
    expect(failedSteps({ symbol: 'A', aum: 1e9, avgVolume: 5e6, expenseRatio: 0.0075 }, filter)).to.deep.equal([
      ...ETF_FILTER_STEPS,
    ]);
    expect(failedSteps({ symbol: 'A', aum: 1e9 + 1, avgVolume: 5e6 + 1, expenseRatio: 0.0074 }, filter)).to.deep.equal([]);
    expect(failedSteps({ symbol: 'A' }, filter)).to.deep.equal([]);
  });

  it('should refuse an override naming an unknown theme or a bad threshold, naming it', () => {
    expect(etfFilterOverridesSchema.safeParse({ crypto: { min_aum: 1 } }).error?.issues[0]).to.include({
      message: 'is not a theme (one of sectors, growth, value, international, commodities, technology, bonds)',
    });
    expect(etfFilterOverridesSchema.safeParse({ bonds: { min_aum: -1 } }).success).to.equal(false);
    expect(() => loadConfig({ TICKFORGE_ETF_FILTERS: '{bonds' })).to.throw(/TICKFORGE_ETF_FILTERS.*must be a JSON object/);
    const unknownTheme = loadConfig({ TICKFORGE_ETF_FILTERS: '{"crypto":{"min_aum":1}}' }).etfFilters;
    expect(() => etfFilterOverrides(unknownTheme)).to.throw(ConfigError, /TICKFORGE_ETF_FILTERS: crypto is not a theme/);
    expect(loadConfig({ TICKFORGE_ETF_FILTERS: JSON.stringify(OVERRIDES) }).etfFilters).to.deep.equal(OVERRIDES);
  });

  it('should select every theme from the reference file: counts by rule and filter, anchors kept', () => {
    const funds = etfFundsOn(DATE);
    const selection = selectEtfThemes(funds);
    for (const theme of selection) {
      const definition = DEFAULT_ETF_THEMES.find((candidate) => candidate.theme === theme.theme)!;
      const anchors = definition.anchors.map(([symbol]) => symbol);
      const byRule = funds.filter((fund) => fund.theme === theme.theme);
      const passing = byRule.filter(
        (fund) =>
          (fund.aum === undefined || fund.aum > theme.filter.min_aum) &&
          (fund.avgVolume === undefined || fund.avgVolume > theme.filter.min_avg_volume) &&
          (fund.expenseRatio === undefined || fund.expenseRatio < theme.filter.max_expense_ratio),
      );
      const expected = [...new Set([...passing.map((fund) => fund.symbol), ...anchors])].sort();
      expect(theme.members, theme.theme).to.deep.equal(expected);
      const removed = theme.removed.aum + theme.removed.avg_volume + theme.removed.expense_ratio;
      expect(removed, theme.theme).to.equal(theme.candidates - theme.members.length);
    }
    const growth = selection.find((theme) => theme.theme === 'growth')!;
    expect(growth.members).to.include('VTI');
    // SCHG trades about 358 k shares a day in the file: an anchor below the 5 M floor.
    expect(growth.anchorsKept.SCHG).to.deep.equal(['avg_volume']);
    // DBA: 912 M AUM passes the commodities floor of 200 M; 1.04 M shares and 0.85 % do not.
    expect(selection.find((theme) => theme.theme === 'commodities')!.anchorsKept.DBA).to.deep.equal([
      'avg_volume',
      'expense_ratio',
    ]);
  });
});

describe('ETF theme docs', () => {
  it('should show the counts the default filters give on the reference file', () => {
    const docs = readFileSync(fileURLToPath(new URL('../../../docs/universes.md', import.meta.url)), 'utf8');
    const funds = etfFundsOn(DATE);
    for (const theme of selectEtfThemes(funds)) {
      const row = new RegExp(`^\\| ${theme.theme} \\| (\\d+ \\| .*) \\|$`, 'm').exec(docs);
      expect(row, theme.theme).to.not.equal(null);
      const kept = Object.keys(theme.anchorsKept).sort();
      expect(row![1].split(' | '), theme.theme).to.deep.equal([
        String(funds.filter((fund) => fund.theme === theme.theme).length),
        String(theme.candidates),
        String(theme.removed.aum),
        String(theme.removed.avg_volume),
        String(theme.removed.expense_ratio),
        String(theme.members.length),
        kept.length > 0 ? kept.join(' ') : '—',
      ]);
    }
  });
});

describe('etf_universe_maintenance on the US ETF reference file', function () {
  let system: TestSystem;
  let filters: EtfFilterReport[];

  before(async function () {
    this.timeout(120_000);
    system = await TestSystem.create({ etfFilters: OVERRIDES });
    await system.startWorker();
    const imported = await system.run('import-symbols', { file: dataFile(US_ETFS) });
    expect(imported.result.rowsRead).to.equal(readEtfs().length);
    const { result } = await system.run('eod-sync', { date: DATE }, 120_000);
    filters = result.task_details.etf_universe_maintenance.filters as EtfFilterReport[];
  });

  after(async () => {
    await system.close();
  });

  const universes = () => new UniversesRepository(system.db, system.config.dbSchema);
  const membersOf = async (key: string) =>
    (await universes().members(key)).map((member) => ({ symbol: member.symbol, flags: member.flags }));

  it('should hold in each theme exactly the funds the rule, the filters (with the override) and the anchors give', async () => {
    const selection = selectEtfThemes(etfFundsOn(DATE), OVERRIDES);
    for (const theme of selection) {
      const members = await membersOf(etfUniverseKey(theme.theme));
      expect(
        members.map((member) => member.symbol),
        theme.theme,
      ).to.deep.equal(theme.members);
    }
    const universe = await universes().get('etf_bonds');
    expect(universe?.liquidity_filter).to.deep.equal(effectiveEtfFilters(OVERRIDES).bonds);
  });

  it("should report how many funds each filter removed, per theme, as the file's figures give", () => {
    const selection = selectEtfThemes(etfFundsOn(DATE), OVERRIDES);
    expect(filters.map((report) => report.universe).sort()).to.deep.equal(
      selection.map((theme) => etfUniverseKey(theme.theme)).sort(),
    );
    for (const theme of selection) {
      const report = filters.find((row) => row.universe === etfUniverseKey(theme.theme))!;
      expect(report, theme.theme).to.deep.include({
        candidates: theme.candidates,
        ...theme.removed,
        members: theme.members.length,
        anchors_kept: Object.keys(theme.anchorsKept).sort(),
      });
    }
    const total = filters.reduce((sum, report) => sum + report.aum + report.avg_volume + report.expense_ratio, 0);
    expect(total).to.be.above(0);
  });

  it('should keep a named anchor that fails a filter, flagged with why, and an anchor without data flagged as missing it', async () => {
    const commodities = await membersOf('etf_commodities');
    const dba = commodities.find((member) => member.symbol === 'DBA');
    expect(dba?.flags).to.deep.equal({
      anchor_kept: ['average volume 1037009 not above 5000000', 'expense ratio 0.850% not below 0.750%'],
    });
    const vti = (await membersOf('etf_growth')).find((member) => member.symbol === 'VTI');
    expect(vti?.flags).to.deep.equal({
      missing_metadata: ['aum', 'avg_volume', 'expense_ratio'],
      unverified: `in no reference import and without daily bars up to ${DATE}`,
    });
    const changes = await universes().changes('etf_commodities', { symbol: 'DBA', limit: 10 });
    expect(changes[0].reason).to.match(/^named anchor kept although it fails the filter: average volume/);
  });

  it('should refresh average volumes from stored daily bars, verify a symbol its bars confirm, and log each refresh', async () => {
    // Three sessions of VTI at 6 M shares and of DBA at 9 M: VTI is confirmed by its bars, and
    // DBA's volume passes, leaving only its expense ratio against it.
    const sessions = ['2021-09-01', '2021-09-02', '2021-09-03'];
    const lines = ['date,open,high,low,close,volume,Name'];
    for (const date of sessions) lines.push(`${date},230,232,229,231,6000000,VTI`, `${date},19,19.2,18.9,19.1,9000000,DBA`);
    await system.run('import-bars', { csv: lines.join('\n'), timeframe: '1d' });
    const { result } = await system.run('eod-sync', { date: NEXT }, 120_000);
    const vti = (await membersOf('etf_growth')).find((member) => member.symbol === 'VTI');
    expect(vti?.flags).to.deep.equal({ missing_metadata: ['aum', 'expense_ratio'] });
    const dba = (await membersOf('etf_commodities')).find((member) => member.symbol === 'DBA');
    expect(dba?.flags).to.deep.equal({ anchor_kept: ['expense ratio 0.850% not below 0.750%'] });
    const stored = await system.db('symbols').whereIn('symbol', ['VTI', 'DBA']).orderBy('symbol').pluck('avg_volume');
    expect(stored).to.deep.equal([9_000_000, 6_000_000]);
    const logged = await system
      .db('sync_changes_log')
      .where({ run_id: result.run_id, task: 'etf_universe_maintenance' })
      .whereNull('universe')
      .orderBy('symbol');
    expect(logged.map((row: { symbol: string; reason: string }) => [row.symbol, row.reason])).to.deep.equal([
      ['DBA', `average volume = mean volume of 3 daily bars up to ${NEXT}`],
      ['VTI', `average volume = mean volume of 3 daily bars up to ${NEXT}`],
    ]);
    expect(logged[0].before).to.deep.equal({ avg_volume: 1_037_009 });
    const unverified = result.task_details.etf_universe_maintenance.unverified as Array<{ symbol: string }>;
    expect(unverified.map((row) => row.symbol)).to.not.include('VTI');
  });
});
