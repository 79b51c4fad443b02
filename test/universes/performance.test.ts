import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { equalWeightIndex, shiftDate, type PerformanceFigures } from '../../src/universes/performance.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';

const DATES = ['2020-09-02', '2020-12-31', '2021-06-03', '2021-08-03', '2021-08-27', '2021-09-02', '2021-09-03'];
const BND = [80, 90, 85, 96, 98, 99, 100];
const AGG = [50, 50, 55, 55, 44, 44, 55];
const VOLUMES = [1000, 2000, 3000, 4000, 5000, 6000, 7000];
const AS_OF = '2021-09-03';

/** Sample standard deviation of daily log returns × √252, written out. */
function annualisedVolatility(closes: number[]): number {
  const logReturns = closes.slice(1).map((close, i) => Math.log(close / closes[i]));
  const mean = logReturns.reduce((sum, value) => sum + value, 0) / logReturns.length;
  const variance = logReturns.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (logReturns.length - 1);
  return Math.sqrt(variance) * Math.sqrt(252);
}

interface Performance {
  key: string;
  asOf: string;
  members: Array<PerformanceFigures & { symbol: string }>;
  theme: PerformanceFigures & { membersWithBars: number };
}

describe('universe performance', () => {
  it('should shift dates by calendar days, months and years, clamping to a month end', () => {
    expect(shiftDate('2021-09-03', { days: -7 })).to.equal('2021-08-27');
    expect(shiftDate('2021-03-31', { months: -1 })).to.equal('2021-02-28');
    expect(shiftDate('2020-02-29', { years: -1 })).to.equal('2019-02-28');
    expect(shiftDate('2021-09-03', { years: -1, months: -1 })).to.equal('2020-08-03');
  });

  it('should build an equal-weighted index from the mean daily return of the members with a close that day', () => {
    const index = equalWeightIndex([
      { dates: ['2021-01-04', '2021-01-05', '2021-01-06'], closes: [10, 11, 11] },
      { dates: ['2021-01-05', '2021-01-06'], closes: [20, 10] },
    ]);
    expect(index.dates).to.deep.equal(['2021-01-04', '2021-01-05', '2021-01-06']);
    // 01-05: only the first has a return (+10 %); 01-06: mean of 0 % and −50 %.
    expect(index.closes[1]).to.be.closeTo(1.1, 1e-12);
    expect(index.closes[2]).to.be.closeTo(1.1 * 0.75, 1e-12);
  });
});

describe('GET /api/universes/:key/performance', function () {
  let system: TestSystem;
  let web: WebServer;

  const api = async <T>(route: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${web.url}${route}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    return { status: response.status, body: (await response.json()) as T };
  };

  before(async function () {
    this.timeout(120_000);
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    const lines = ['date,open,high,low,close,volume,Name'];
    DATES.forEach((date, i) => {
      lines.push(`${date},${BND[i]},${BND[i]},${BND[i]},${BND[i]},${VOLUMES[i]},BND`);
      lines.push(`${date},${AGG[i]},${AGG[i]},${AGG[i]},${AGG[i]},${VOLUMES[i] * 2},AGG`);
    });
    await system.run('import-bars', { csv: lines.join('\n'), timeframe: '1d' });
    // The bonds theme's anchors (seeded) become its members; BND and AGG have bars.
    await system.run('eod-sync', { date: AS_OF }, 120_000);
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  it('should give a member the returns, volatility, drawdown and volume a hand computation gives', async () => {
    const { status, body } = await api<Performance>(`/api/universes/etf_bonds/performance?asOf=${AS_OF}`);
    expect(status).to.equal(200);
    const bnd = body.members.find((member) => member.symbol === 'BND')!;
    expect(bnd).to.include({ lastDate: AS_OF, lastClose: 100 });
    expect(bnd.returns['1d']).to.be.closeTo(100 / 99 - 1, 1e-12);
    expect(bnd.returns['1w']).to.be.closeTo(100 / 98 - 1, 1e-12); // 2021-08-27
    expect(bnd.returns['1m']).to.be.closeTo(100 / 96 - 1, 1e-12); // 2021-08-03
    expect(bnd.returns['3m']).to.be.closeTo(100 / 85 - 1, 1e-12); // 2021-06-03
    expect(bnd.returns.ytd).to.be.closeTo(100 / 90 - 1, 1e-12); // 2020-12-31
    expect(bnd.returns['1y']).to.be.closeTo(100 / 80 - 1, 1e-12); // last close on or before 2020-09-03
    expect(bnd.volatility).to.be.closeTo(annualisedVolatility(BND), 1e-12);
    expect(bnd.maxDrawdown).to.be.closeTo(85 / 90 - 1, 1e-12);
    expect(bnd.avgVolume).to.equal(4000);
    const tip = body.members.find((member) => member.symbol === 'TIP')!;
    expect(tip).to.deep.include({ lastDate: null, volatility: null, avgVolume: null });
  });

  it('should give the theme the figures of the equal-weighted index of its members with bars', async () => {
    const { body } = await api<Performance>(`/api/universes/etf_bonds/performance?asOf=${AS_OF}`);
    const dailyReturns = DATES.slice(1).map((_, i) => (BND[i + 1] / BND[i] - 1 + (AGG[i + 1] / AGG[i] - 1)) / 2);
    const index = [1];
    for (const value of dailyReturns) index.push(index[index.length - 1] * (1 + value));
    const last = index[index.length - 1];
    expect(body.theme.membersWithBars).to.equal(2);
    expect(body.theme.returns['1d']).to.be.closeTo(dailyReturns[dailyReturns.length - 1], 1e-12);
    expect(body.theme.returns['3m']).to.be.closeTo(last / index[2] - 1, 1e-12);
    expect(body.theme.returns['1y']).to.be.closeTo(last - 1, 1e-12);
    expect(body.theme.volatility).to.be.closeTo(annualisedVolatility(index), 1e-12);
    // AGG's fall from 55 to 44 drags the index from its peak on 2021-08-03.
    expect(body.theme.maxDrawdown).to.be.closeTo(index[4] / Math.max(...index.slice(0, 5)) - 1, 1e-12);
    expect(body.theme.avgVolume).to.equal(4000 + 8000);
  });

  it('should take the last close on or before the as-of date', async () => {
    const { body } = await api<Performance>('/api/universes/etf_bonds/performance?asOf=2021-09-10');
    const bnd = body.members.find((member) => member.symbol === 'BND')!;
    expect(bnd).to.include({ lastDate: AS_OF, lastClose: 100 });
    expect(bnd.returns['1d']).to.be.closeTo(100 / 99 - 1, 1e-12);
  });

  it('should answer 400 naming a bad date and 404 for an unknown universe', async () => {
    const bad = await api<{ issues: Array<{ path: string }> }>('/api/universes/etf_bonds/performance?asOf=2021-02-30');
    expect(bad.status).to.equal(400);
    expect(bad.body.issues[0].path).to.equal('asOf');
    expect((await api('/api/universes/etf_nothing/performance')).status).to.equal(404);
  });
});
