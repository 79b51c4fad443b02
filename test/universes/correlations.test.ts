import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { NYSE } from '../../src/shared/calendar.js';
import { createLogger } from '../../src/shared/logger.js';
import { channelName, type EtfCorrelationUpdate, type EventEnvelope } from '../../src/notify/channels.js';
import { CORRELATION_MOVE_THRESHOLD, correlationMoves, pearson } from '../../src/universes/correlation.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { uniformStream } from '../../src/scenarios/random.js';

const FIRST = '2021-01-04';
const DAY_ONE = '2021-04-30';
const DAY_TWO = '2021-05-03';
const SYMBOLS = ['AGG', 'BND', 'TIP', 'SPY'] as const;
/** On DAY_TWO BND and TIP jump 40 % and AGG falls 40 %: a move that drags their correlations apart. */
const SHOCK: Record<string, number> = { AGG: 0.6, BND: 1.4, TIP: 1.4, SPY: 1 };


/** Correlation written out: covariance over the product of the standard deviations. */
function directCorrelation(x: number[], y: number[]): number {
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const mx = mean(x);
  const my = mean(y);
  const covariance = mean(x.map((value, i) => (value - mx) * (y[i] - my)));
  const sx = Math.sqrt(mean(x.map((value) => (value - mx) ** 2)));
  const sy = Math.sqrt(mean(y.map((value) => (value - my) ** 2)));
  return covariance / (sx * sy);
}

interface Correlations {
  key: string;
  window: number;
  tradingDate: string;
  labels: string[];
  matrix: Array<Array<number | null>>;
  observations: number;
}

describe('ETF correlation kernel', () => {
  it('should give 1, -1 and null for identical, opposite and constant series', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).to.be.closeTo(1, 1e-12);
    expect(pearson([1, 2, 3], [3, 2, 1])).to.be.closeTo(-1, 1e-12);
    expect(pearson([1, 2, 3], [5, 5, 5])).to.equal(null);
  });

  it('should report the pairs present in both matrices that moved by more than the threshold', () => {
    const before = {
      labels: ['A', 'B', 'C'],
      matrix: [
        [1, 0.5, 0.1],
        [0.5, 1, 0],
        [0.1, 0, 1],
      ],
      observations: 60,
      from: null,
      to: null,
    };
    const after = {
      labels: ['A', 'C', 'D'],
      matrix: [
        [1, 0.1 + CORRELATION_MOVE_THRESHOLD + 0.01, 0.9],
        [0.31, 1, 0],
        [0.9, 0, 1],
      ],
      observations: 60,
      from: null,
      to: null,
    };
    expect(correlationMoves(before, after)).to.deep.equal([
      { a: 'A', b: 'C', before: 0.1, after: 0.1 + CORRELATION_MOVE_THRESHOLD + 0.01 },
    ]);
  });
});

describe('ETF correlations in the EOD sync', function () {
  let system: TestSystem;
  let web: WebServer;
  const closes = new Map<string, number[]>();
  const sessions = NYSE.sessionsBetween(FIRST, DAY_TWO).map((session) => session.date);
  let secondRun = '';

  const api = async <T>(route: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${web.url}${route}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    return { status: response.status, body: (await response.json()) as T };
  };

  before(async function () {
    this.timeout(180_000);
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    const random = uniformStream(16, 'etf correlations');
    const common = sessions.map(() => random() - 0.5);
    for (const symbol of SYMBOLS) {
      let close = 100;
      const series = sessions.map((date, i) => {
        // Each walk shares a common factor with the others, so the correlations are far from 0.
        close *= 1 + 0.01 * common[i] + 0.01 * (random() - 0.5);
        return date === DAY_TWO ? close * SHOCK[symbol] : close;
      });
      closes.set(symbol, series);
    }
    const lines = ['date,open,high,low,close,volume,Name'];
    sessions.forEach((date, i) => {
      for (const symbol of SYMBOLS) {
        const close = closes.get(symbol)![i];
        lines.push(`${date},${close},${close},${close},${close},1000000,${symbol}`);
      }
    });
    await system.run('import-bars', { csv: lines.join('\n'), timeframe: '1d' });
    await system.run('eod-sync', { date: DAY_ONE }, 120_000);
    secondRun = (await system.run('eod-sync', { date: DAY_TWO }, 120_000)).id;
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  it('should store and serve the 60-session matrix of the members, the theme index and SPY as a direct computation gives', async () => {
    const { status, body } = await api<Correlations>(`/api/universes/etf_bonds/correlations?window=60&asOf=${DAY_ONE}`);
    expect(status).to.equal(200);
    expect(body).to.include({ key: 'etf_bonds', window: 60, tradingDate: DAY_ONE, observations: 60 });
    expect(body.labels).to.deep.equal(['AGG', 'BND', 'TIP', 'etf_bonds', 'SPY']);
    const end = sessions.indexOf(DAY_ONE);
    const returns = (symbol: string) => {
      const series = closes.get(symbol)!;
      return Array.from({ length: 60 }, (_, k) => series[end - 59 + k] / series[end - 60 + k] - 1);
    };
    const members = ['AGG', 'BND', 'TIP'].map(returns);
    // The members share every session, so the equal-weighted index's return is their mean.
    const theme = members[0].map((_, k) => (members[0][k] + members[1][k] + members[2][k]) / 3);
    const direct = [...members, theme, returns('SPY')];
    for (let row = 0; row < 5; row++) {
      for (let column = 0; column < 5; column++) {
        expect(body.matrix[row][column], `${body.labels[row]}/${body.labels[column]}`).to.be.closeTo(
          directCorrelation(direct[row], direct[column]),
          1e-9,
        );
      }
    }
  });

  it('should serve the longer window over the history there is, and the latest date without asOf', async () => {
    const { body } = await api<Correlations>('/api/universes/etf_bonds/correlations?window=252');
    expect(body).to.include({ window: 252, tradingDate: DAY_TWO, observations: sessions.length - 1 });
  });

  it('should publish tickstock.etf.correlation_update with the pairs that moved past the threshold', async () => {
    const events = (await system.redis.xrange(system.config.eventStream, '-', '+'))
      .map(([, fields]) => ({
        channel: fields[fields.indexOf('channel') + 1],
        envelope: JSON.parse(fields[fields.indexOf('event') + 1]) as EventEnvelope<EtfCorrelationUpdate>,
      }))
      .filter((event) => event.channel === channelName('etfCorrelationUpdate', system.config.prefix));
    expect(events).to.have.length(1);
    const { envelope } = events[0];
    expect(envelope.correlation_id).to.equal(secondRun);
    expect(envelope.data).to.include({ trading_date: DAY_TWO, threshold: CORRELATION_MOVE_THRESHOLD });
    const pairs = envelope.data.moves.filter((move) => move.window === 60).map((move) => `${move.a}/${move.b}`);
    expect(pairs).to.include.members(['AGG/BND', 'AGG/TIP']);
    for (const move of envelope.data.moves) expect(Math.abs(move.after - move.before)).to.be.above(CORRELATION_MOVE_THRESHOLD);
  });

  it('should answer 400 naming the window and 404 when nothing is stored', async () => {
    const bad = await api<{ issues: Array<{ path: string }> }>('/api/universes/etf_bonds/correlations?window=30');
    expect(bad.status).to.equal(400);
    expect(bad.body.issues[0].path).to.equal('window');
    expect((await api('/api/universes/etf_bonds/correlations?asOf=2020-01-02')).status).to.equal(404);
  });
});
