import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { PayloadOf } from '../../src/queues/registry.js';
import { XMLValidator } from 'fast-xml-parser';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { ident } from '../../src/shared/db.js';
import { SandboxRepository } from '../../src/scenarios/sandbox.repository.js';
import { createLogger } from '../../src/shared/logger.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { startProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';
import { waitForEvent } from '../helpers/wait.js';

interface RunResult {
  runId: string;
  schema: string;
  symbols: number;
  series: Array<{ timeframe: string; variant: string; rows: number }>;
  written: number;
  unchanged: number;
  replaced: number;
  passed: boolean;
  failedChecks: string[];
  checks: Array<{ check: string; passed: boolean }>;
}

describe('generate-scenario job', function () {
  let system: TestSystem;
  let web: WebServer;
  let subscriber: RedisClient;
  let sandbox: string;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  before(async () => {
    system = await TestSystem.create();
    sandbox = system.config.sandboxSchema;
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.scenarioLoaded);
  });

  after(async () => {
    await closeRedis(subscriber);
    await web.close();
    await system.close();
  });

  const sandboxCount = async (where = 'true') => {
    const result = await system.db.raw<{ rows: Array<{ count: number }> }>(
      `SELECT count(*) AS count FROM ${ident(sandbox)}.bars WHERE ${where}`,
    );
    return Number(result.rows[0].count);
  };

  it('should load a run into the sandbox only, record it, and announce it after commit', async () => {
    const announced = waitForEvent<[string, string]>(
      subscriber,
      'message',
      (channel) => channel === system.channels.scenarioLoaded,
    );
    const { id, result } = await system.run('generate-scenario', { scenario: 'crash_2020', count: 3, seed: 11 });
    const run = result as RunResult;
    expect(run).to.include({ schema: sandbox, symbols: 3, written: 756, unchanged: 0, replaced: 0, passed: true });
    expect(run.series).to.deep.equal([{ timeframe: '1d', variant: '', rows: 756 }]);

    expect(await sandboxCount(`source = 'scenario' AND timeframe = '1d'`)).to.equal(756);
    expect(await new BarsRepository(system.db, system.config.dbSchema).count(), 'production bars').to.equal(0);

    const row = await system.db('scenario_runs').where({ id: run.runId }).first();
    expect(row).to.include({
      scenario: 'crash_2020',
      generator_version: '1.0.0',
      target_schema: sandbox,
      passed: true,
      job_id: id,
    });
    expect(Number(row.seed)).to.equal(11);
    expect(row.symbols).to.deep.equal(['SYN0001', 'SYN0002', 'SYN0003']);
    expect(row.params).to.deep.include({ drawdown: -0.35, crashVolatility: 0.65 });
    expect(row.report.symbols).to.have.length(3);

    const [, message] = await announced;
    const envelope = JSON.parse(message) as EventEnvelope<{ run_id: string; passed: boolean }>;
    expect(envelope).to.include({ event_type: 'scenario.loaded', correlation_id: id });
    expect(envelope.data).to.include({ run_id: run.runId, passed: true });
  });

  /** A symbol's stored daily bars, oldest first. */
  const storedDaily = async (symbol: string) => {
    const result = await system.db.raw<{ rows: Array<{ open: number; close: number }> }>(
      `SELECT open, close FROM ${ident(sandbox)}.bars WHERE symbol = ? AND timeframe = '1d' ORDER BY ts`,
      [symbol],
    );
    return result.rows.map((row) => ({ open: Number(row.open), close: Number(row.close) }));
  };

  it('should store bars whose own drawdown, return and volatility keep the scenario promises the report claims', async () => {
    const crash = (await system.run('generate-scenario', { scenario: 'crash_2020', symbols: ['DDA', 'DDB'], seed: 23 }))
      .result as RunResult;
    const growth = (await system.run('generate-scenario', { scenario: 'growth_2021', symbols: ['GRA', 'GRB'], seed: 23 }))
      .result as RunResult;
    const reported = async (runId: string, symbol: string) => {
      const row = await system.db('scenario_runs').where({ id: runId }).first();
      const symbols = row.report.symbols as Array<{ symbol: string; figures: { totalReturn: number; maxDrawdown: number } }>;
      return symbols.find((report) => report.symbol === symbol)!.figures;
    };
    for (const symbol of ['DDA', 'DDB']) {
      const bars = await storedDaily(symbol);
      expect(bars).to.have.length(252);
      let peak = -Infinity;
      let drawdown = 0;
      for (const { close } of bars) {
        peak = Math.max(peak, close);
        drawdown = Math.min(drawdown, close / peak - 1);
      }
      expect(drawdown, `${symbol} drawdown of the stored closes`).to.be.within(-0.4, -0.3);
      expect((await reported(crash.runId, symbol)).maxDrawdown).to.be.closeTo(drawdown, 1e-6);
    }
    for (const symbol of ['GRA', 'GRB']) {
      const bars = await storedDaily(symbol);
      const totalReturn = bars[bars.length - 1].close / bars[0].open - 1;
      const returns = bars.slice(1).map((bar, i) => Math.log(bar.close / bars[i].close));
      const mean = returns.reduce((sum, value) => sum + value, 0) / returns.length;
      const dailyVolatility = Math.sqrt(returns.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (returns.length - 1));
      expect(totalReturn, `${symbol} return of the stored bars`).to.be.within(0.24, 0.26);
      expect(dailyVolatility, `${symbol} daily volatility of the stored closes`).to.be.within(0.015, 0.025);
      expect((await reported(growth.runId, symbol)).totalReturn).to.be.closeTo(totalReturn, 1e-6);
    }
  });

  it('should write nothing new when the same run is loaded again', async () => {
    const payload: PayloadOf<'generate-scenario'> = { scenario: 'growth_2021', symbols: ['AAA', 'BBB'], seed: 5, sessions: 60 };
    const first = (await system.run('generate-scenario', payload)).result as RunResult;
    const again = (await system.run('generate-scenario', payload)).result as RunResult;
    expect(again.runId).to.equal(first.runId);
    expect(again).to.include({ written: 0, unchanged: 120, replaced: 0 });
    expect(await sandboxCount(`symbol IN ('AAA', 'BBB')`)).to.equal(120);
    expect(await system.db('scenario_runs').where({ id: first.runId }).count({ count: '*' })).to.deep.equal([{ count: 1 }]);
  });

  it('should replace a symbol whole when another run writes it, and refuse to chart the replaced run', async () => {
    const longer = (await system.run('generate-scenario', { scenario: 'growth_2021', symbols: ['CCC'], seed: 1, sessions: 80 }))
      .result as RunResult;
    const shorter = (
      await system.run('generate-scenario', {
        scenario: 'trend_changes',
        symbols: ['CCC'],
        seed: 2,
        sessions: 120,
        start: '2021-01-01',
      })
    ).result as RunResult;
    expect(shorter.replaced).to.equal(80);
    expect(await sandboxCount(`symbol = 'CCC'`)).to.equal(120);
    const stale = await fetch(`${web.url}/api/scenarios/${longer.runId}/chart?symbol=CCC`, { headers: auth });
    expect(stale.status).to.equal(409);
    expect(((await stale.json()) as { error: string }).error).to.include(`now holds run ${shorter.runId}`);
  });

  it('should store a failing report and list the failed checks in the job result', async () => {
    const { result } = await system.run('generate-scenario', {
      scenario: 'crash_2020',
      count: 2,
      seed: 3,
      params: { crashVolatility: 0.15 },
    });
    const run = result as RunResult;
    expect(run.passed).to.equal(false);
    expect(run.failedChecks.some((line) => line.startsWith('targets.crashVolatilityRatio: passed by 0 of 2 symbols'))).to.equal(
      true,
    );
    expect(run.checks).to.deep.include({ check: 'targets.maxDrawdown', passed: true, passedSymbols: 2, symbols: 2 });
    const row = await system.db('scenario_runs').where({ id: run.runId }).first();
    expect(row.passed).to.equal(false);
    expect(row.failed_checks).to.deep.equal(run.failedChecks);
    expect(run.written).to.equal(504);
  });

  it('should refuse the production schema, or any migrated one, without writing', async () => {
    const own = await system
      .run('generate-scenario', { scenario: 'crash_2020', count: 1, schema: system.config.dbSchema })
      .catch((e: Error) => e);
    expect((own as Error).message).to.match(/is the production schema/);
    await system.db.raw(`CREATE SCHEMA IF NOT EXISTS ${ident(`${sandbox}_x`)}`);
    await system.db.raw(`CREATE TABLE ${ident(`${sandbox}_x`)}.knex_migrations (id int)`);
    const migrated = await system
      .run('generate-scenario', { scenario: 'crash_2020', count: 1, schema: `${sandbox}_x` })
      .catch((e: Error) => e);
    expect((migrated as Error).message).to.match(/holds tickforge's migrated tables/);
    await system.db.raw(`DROP SCHEMA ${ident(`${sandbox}_x`)} CASCADE`);
    expect(await new BarsRepository(system.db, system.config.dbSchema).count()).to.equal(0);
  });

  it('should create a sandbox schema exactly once when several jobs race to create it', async () => {
    const schema = `${sandbox}_race`;
    const created = await Promise.all(
      Array.from({ length: 4 }, () =>
        system.db.transaction((trx) => new SandboxRepository(trx, schema).ensure(20, system.config.dbSchema)),
      ),
    );
    expect(created.filter(Boolean)).to.have.length(1);
    expect(await new BarsRepository(system.db, schema).count()).to.equal(0);
    await system.db.raw(`DROP SCHEMA ${ident(schema)} CASCADE`);
  });

  it('should reject bad payloads before they reach a queue, naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ scenario: 'moon_landing', count: 1 }, /scenario: must be one of crash_2020/],
      [{ scenario: 'crash_2020' }, /symbols: give exactly one of symbols or count/],
      [{ scenario: 'crash_2020', count: 1, params: { drawdown: 0.5 } }, /params\.drawdown/],
      [{ scenario: 'crash_2020', count: 1, params: { volatility: 0.2 } }, /params: Unrecognized key/],
      [{ scenario: 'crash_2020', count: 1, timeframe: '1d', targets: ['1h'] }, /targets\.0: cannot be aggregated from 1d/],
      [{ scenario: 'crash_2020', count: 20, timeframe: '1m' }, /sessions: a 1m run may cover at most 2520 symbol-sessions/],
      [{ scenario: 'crash_2020', count: 1, start: '2199-06-01' }, /start: 252 sessions from 2199-06-03 run past the end/],
    ];
    for (const [payload, message] of cases) {
      const failure = await system.producer.enqueueByName('generate-scenario', payload).catch((e: Error) => e);
      expect((failure as Error).message, JSON.stringify(payload)).to.match(message);
    }
    const response = await fetch(`${web.url}/api/jobs/generate-scenario`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'crash_2020', count: 0 }),
    });
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { issues: Array<{ path: string }> }).issues[0].path).to.equal('count');
  });

  it('should generate 1m bars aggregated to every timeframe and serve the run and its chart over HTTP', async () => {
    const posted = await fetch(`${web.url}/api/jobs/generate-scenario`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'volatility_periods', symbols: ['MIN1'], seed: 9, sessions: 60, timeframe: '1m' }),
    });
    expect(posted.status).to.equal(202);
    const { id, queue } = (await posted.json()) as { id: string; queue: 'scenario' };
    const job = await system.producer.queue(queue).getJob(id);
    const run = (await job!.waitUntilFinished(await system.events(queue), 60_000)) as RunResult;
    const rows = Object.fromEntries(run.series.map((s) => [`${s.timeframe}/${s.variant}`, s.rows]));
    expect(rows['1m/']).to.equal(60 * 390);
    expect(rows['1h/regular']).to.equal(60 * 7);
    expect(rows['1d/regular']).to.equal(60);
    expect(run.series.map((s) => s.timeframe)).to.deep.equal([
      '1m',
      '5m',
      '15m',
      '30m',
      '1h',
      '2h',
      '4h',
      '6h',
      '8h',
      '12h',
      '1d',
      '2d',
      '1w',
      '1M',
    ]);
    expect(await sandboxCount(`symbol = 'MIN1'`)).to.equal(run.written);

    const described = await fetch(`${web.url}/api/scenarios/${run.runId}?symbol=MIN1`, { headers: auth });
    expect(described.status).to.equal(200);
    const body = (await described.json()) as {
      id: string;
      timeframe: string;
      report: { symbols: Array<{ symbol: string; targets: Array<{ name: string; passed: boolean }> }> };
      chart: string;
    };
    expect(body).to.include({ id: run.runId, timeframe: '1m' });
    expect(body.report.symbols.map((s) => s.symbol)).to.deep.equal(['MIN1']);
    expect(body.report.symbols[0].targets.find((t) => t.name === 'tradingRange')!.passed).to.equal(true);

    const chart = await fetch(`${web.url}${body.chart}`, { headers: auth });
    expect(chart.status).to.equal(200);
    expect(chart.headers.get('content-type')).to.match(/^image\/svg\+xml/);
    const svg = await chart.text();
    expect(XMLValidator.validate(svg)).to.equal(true);
    expect(svg.match(/<rect [^>]*fill-opacity="0.55"/g)).to.have.length(60);

    const hourly = await fetch(`${web.url}/api/scenarios/${run.runId}/chart?symbol=MIN1&timeframe=1h`, { headers: auth });
    expect((await hourly.text()).match(/<rect [^>]*fill-opacity="0.55"/g)).to.have.length(420);

    // Minutes: from/to pick any stretch; without them the latest 1,500 bars, saying so.
    const chartOf = async (query: string) => {
      const answer = await fetch(`${web.url}/api/scenarios/${run.runId}/chart?symbol=MIN1&timeframe=1m${query}`, { headers: auth });
      return { status: answer.status, svg: await answer.text() };
    };
    const axisLabels = (svg: string) =>
      [...svg.slice(svg.indexOf('<g class="time-axis">')).split('</g>')[0].matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const days = await chartOf('&from=2020-01-06&to=2020-01-07');
    expect(days.status).to.equal(200);
    expect(days.svg.match(/<rect [^>]*fill-opacity="0.55"/g)).to.have.length(2 * 390);
    expect(days.svg).to.include('780 bars, 2020-01-06 09:30 to 2020-01-07 15:59 New York time');
    expect(axisLabels(days.svg)).to.deep.equal(['2020-01-06', '2020-01-07']);
    expect(days.svg).to.include('>times in America/New_York<');
    expect(days.svg).to.match(/<g class="phases">\n<rect data-meaning="(up|down|crash|flat)"/);
    const hour = await chartOf('&from=2020-01-06T15:00:00Z&to=2020-01-06T16:00:00Z');
    expect(hour.svg.match(/<rect [^>]*fill-opacity="0.55"/g)).to.have.length(60);
    expect(hour.svg).to.include('>2020-01-06 · times in America/New_York<');
    const latest = await chartOf('');
    expect(latest.svg.match(/<rect [^>]*fill-opacity="0.55"/g)).to.have.length(1_500);
    expect(latest.svg).to.match(/the last 1500 bars, .* to 2020-03-27 15:59 New York time \(from\/to pick others\)/);
    const wide = await chartOf('&from=2020-01-06&to=2020-01-31');
    expect(wide.status).to.equal(400);
    expect(wide.svg).to.match(/more than 1500 1m bars; narrow from\/to/);

    expect((await fetch(`${web.url}/api/scenarios/${run.runId}/chart?symbol=NOPE`, { headers: auth })).status).to.equal(404);
    expect((await fetch(`${web.url}/api/scenarios/crash_2020-0000000000000000`, { headers: auth })).status).to.equal(404);
    expect((await fetch(`${web.url}/api/scenarios/not-a-run-id`, { headers: auth })).status).to.equal(400);
    expect((await fetch(`${web.url}/api/scenarios/${run.runId}`)).status).to.equal(401);
  });

  it('should run from the CLI with a progress report and write the chart of the chosen symbol', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-scenario-'));
    try {
      const file = path.join(dir, 'chart.svg');
      const cli = startProcess('cli', system.config, [
        'scenario',
        'high_low_events',
        '--symbols',
        '2',
        '--seed',
        '3',
        '--wait',
        '--chart',
        file,
        '--chart-symbol',
        'SYN0002',
        '--chart-from',
        '2020-02-03',
        '--chart-to',
        '2020-02-28',
      ]);
      const { code } = await cli.exited;
      const stdout = cli.lines.map((line) => line.msg ?? '').join('\n');
      expect(code, cli.stderr.join('')).to.equal(0);
      expect(cli.stderr.join('')).to.match(/generate-scenario \S+ 100%/);
      expect(stdout).to.match(/"runId": "high_low_events-[0-9a-f]{16}"/);
      expect(stdout).to.include(`chart written to ${file}`);
      const svg = await readFile(file, 'utf8');
      expect(XMLValidator.validate(svg)).to.equal(true);
      expect(svg).to.include('high_low_events · SYN0002 · 1d');
      expect(svg).to.include('19 bars, 2020-02-03 to 2020-02-28');
      expect(svg.match(/<rect [^>]*fill-opacity="0.55"/g)).to.have.length(19);

      const typo = startProcess('cli', system.config, ['scenario', 'high_low_events', '--wait', '--chart', file, '--chart-from', '2020-02-31']);
      expect((await typo.exited).code).to.equal(2);
      expect(typo.stderr.join('')).to.match(/--chart-from: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
