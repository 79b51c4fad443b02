import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { AggregateSymbolResult as SymbolResult } from '../../src/bars/aggregate-bars.contract.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { BinaryCopyWriter } from '../../src/bars/binary-copy.js';
import { aggregateBars, variantOf } from '../../src/bars/aggregate.js';
import { stretchBounds } from '../../src/bars/aggregate-split.js';
import { periodBounds } from '../../src/bars/sessions.js';
import type { BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { coarserThan, type Timeframe } from '../../src/bars/timeframes.js';
import { localMidnight } from '../../src/shared/zone.js';
import { type BarsUpdated, type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { NEW_YORK, loadBars, nyTime } from '../helpers/bars.js';
import { GOOG_1MIN, SHY_1MIN, SPY_1MIN, SPY_DAILY, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { startProcess } from '../helpers/process.js';
import { eventually, waitForEvent } from '../helpers/wait.js';

interface RunResult {
  symbols: SymbolResult[];
  totals: { symbols: number; sourceBars: number; written: number; unchanged: number; missing: number };
}

/** The lines of a LEAN 1m file whose New York date passes the filter, as CSV text. */
function csvOf(relative: string, keep: (line: string) => boolean): string {
  const [header, ...lines] = readFileSync(dataFile(relative), 'utf8').trim().split(/\r?\n/);
  return [header, ...lines.filter(keep)].join('\n');
}

describe('aggregate-bars job', function () {
  let system: TestSystem;
  let bars: BarsRepository;
  let subscriber: RedisClient;
  const spy = loadBars(SPY_1MIN, '1m');

  /** Stored bars of a series as columns, for comparing with the kernel. */
  async function stored(symbol: string, timeframe: Timeframe, variant: string, source = 'aggregate') {
    const rows = (await bars.range({ symbol, timeframe, variant })).filter((row) => row.source === source);
    return {
      ts: rows.map((row) => row.ts.getTime()),
      open: rows.map((row) => row.open),
      high: rows.map((row) => row.high),
      low: rows.map((row) => row.low),
      close: rows.map((row) => row.close),
      volume: rows.map((row) => row.volume),
      vwap: rows.map((row) => row.vwap!),
    };
  }

  function expectStoredEqual(actual: Awaited<ReturnType<typeof stored>>, expected: BarColumns, what: string) {
    expect(actual.ts, `${what} ts`).to.deep.equal(Array.from(expected.ts));
    for (const field of ['open', 'high', 'low', 'close', 'volume'] as const) {
      expect(actual[field], `${what} ${field}`).to.deep.equal(Array.from(expected[field]));
    }
    actual.vwap.forEach((vwap, i) => expect(vwap).to.be.closeTo(expected.vwap[i], expected.vwap[i] * 1e-12));
  }

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    bars = new BarsRepository(system.db, system.config.dbSchema);
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.barsUpdated);
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    await system.run('import-bars', { file: dataFile(SHY_1MIN), symbol: 'SHY', timeframe: '1m' });
  });

  after(async () => {
    await closeRedis(subscriber);
    await system.close();
  });

  it('should store every timeframe exactly as the kernel builds it, then change nothing when run again', async () => {
    const announced = waitForEvent<[string, string]>(subscriber, 'message', (_channel, message) => {
      const { data } = JSON.parse(message) as EventEnvelope<BarsUpdated>;
      return data.symbol === 'SPY' && data.job === 'aggregate-bars';
    });
    const { id, result } = await system.run('aggregate-bars', { symbols: 'SPY' });
    const [spyResult] = (result as RunResult).symbols;
    const oracle = aggregateBars(spy, { source: '1m', targets: coarserThan('1m') }).bars;
    for (const timeframe of coarserThan('1m')) {
      expect(spyResult.timeframes[timeframe]?.bars, timeframe).to.equal(oracle[timeframe]!.ts.length);
      expectStoredEqual(await stored('SPY', timeframe, 'regular'), oracle[timeframe]!, timeframe);
    }
    expect(spyResult).to.deep.include({ sourceBars: 6 * 390, from: '2013-10-04T04:00:00.000Z', to: '2013-10-12T04:00:00.000Z' });
    expect(spyResult.gaps).to.deep.include({ sessions: 6, expected: 2340, missing: 0 });

    const [, message] = await announced;
    const envelope = JSON.parse(message) as EventEnvelope<BarsUpdated>;
    expect(envelope.correlation_id).to.equal(id);
    expect(envelope.data.series).to.deep.equal(
      coarserThan('1m').map((timeframe) => ({
        timeframe,
        variant: variantOf(timeframe, 'regular', 'session'),
        rows: spyResult.timeframes[timeframe]!.bars,
      })),
    );

    const again = (await system.run('aggregate-bars', { symbols: ['SPY'] })).result as RunResult;
    expect(again.totals.written).to.equal(0);
    expect(again.totals.unchanged).to.equal(spyResult.written);
  });

  it('should let a second writer of the same symbol wait for the first, then merge instead of copying again', async () => {
    const hours = aggregateBars(spy, { source: '1m', targets: ['1h'] }).bars['1h']!;
    const key = { symbol: 'LOCKED', timeframe: '1h' as const, variant: 'regular' };
    const ranges = [{ ...key, from: hours.ts[0], to: hours.ts[hours.ts.length - 1] }];
    const payload = () => {
      const writer = new BinaryCopyWriter();
      writer.add(key, 'aggregate', hours);
      return writer.finish();
    };
    let releaseFirst!: () => void;
    const firstWrote = new Promise<void>((resolve) => (releaseFirst = resolve));
    let holdFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (holdFirst = resolve));
    const first = system.db.transaction(async (trx) => {
      const writer = await new BarsRepository(trx, system.config.dbSchema).batchWriter(ranges);
      await writer.write(payload(), hours.ts.length);
      releaseFirst();
      await firstMayCommit;
      return writer.finish();
    });
    await firstWrote;
    const second = system.db.transaction(async (trx) => {
      const writer = await new BarsRepository(trx, system.config.dbSchema).batchWriter(ranges);
      await writer.write(payload(), hours.ts.length);
      return writer.finish();
    });
    await eventually(async () => {
      const { rows } = await system.db.raw<{ rows: Array<{ waiting: number }> }>(
        `SELECT count(*)::int AS waiting FROM pg_locks
         WHERE locktype = 'advisory' AND NOT granted AND objid::bigint = hashtext(?)::bigint & 4294967295`,
        [`${system.config.dbSchema}.bars.LOCKED`],
      );
      return rows[0].waiting > 0;
    }, 'the second writer to wait for the first');
    holdFirst();
    expect(await first).to.deep.equal({ written: hours.ts.length, unchanged: 0 });
    expect(await second).to.deep.equal({ written: 0, unchanged: hours.ts.length });
    expect(await bars.count(key)).to.equal(hours.ts.length);
  });

  it('should give the same bars when the base bars are streamed a thousand at a time', async () => {
    const paged = (await system.run('aggregate-bars', { symbols: 'SPY', session: 'extended', pageRows: 1_000 }))
      .result as RunResult;
    const whole = aggregateBars(spy, { source: '1m', targets: coarserThan('1m'), session: 'extended' }).bars;
    expect(paged.symbols[0].sourceBars).to.equal(spy.ts.length);
    for (const timeframe of ['5m', '1h', '4h', '1d', '2d', '1w'] as const) {
      expectStoredEqual(await stored('SPY', timeframe, 'extended'), whole[timeframe]!, `extended ${timeframe}`);
    }
    expect(paged.symbols[0].gaps.expected).to.equal(6 * 960);
  });

  it('should split a long range over the pool threads and store exactly what one pass over it builds', async () => {
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPLIT1M', timeframe: '1m' });
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPLIT1D', timeframe: '1d' });
    const daily = loadBars(SPY_DAILY, '1d');
    const cases = [
      { symbol: 'SPLIT1M', base: spy, source: '1m', targets: ['5m', '1h', '1d'] },
      { symbol: 'SPLIT1D', base: daily, source: '1d', targets: ['2d', '1w', '1M'] },
    ] as const;
    for (const { symbol, base, source, targets } of cases) {
      // The job's range is the whole days of the stored bars; with pages of 1,000 rows both
      // series hold more than a page per thread, so the job cuts them as stretchBounds does here.
      const from = periodBounds('1d', base.ts[0], 'regular', NYSE).start;
      const to = periodBounds('1d', base.ts[base.ts.length - 1], 'regular', NYSE).end;
      const cuts = stretchBounds(
        from,
        to,
        { source, targets: [...targets] },
        { parts: system.config.poolThreads, minRows: 1_000 },
      );
      expect(cuts.length - 1, `${symbol} stretches`).to.equal(Math.min(2, system.config.poolThreads));
      const result = (await system.run('aggregate-bars', { symbols: symbol, source, targets: [...targets], pageRows: 1_000 }))
        .result as RunResult;
      const oracle = aggregateBars(base, { source, targets: [...targets] });
      expect(result.symbols[0].sourceBars, symbol).to.equal(oracle.stats.included);
      for (const timeframe of targets) {
        expect(result.symbols[0].timeframes[timeframe]?.bars, `${symbol} ${timeframe}`).to.equal(
          oracle.bars[timeframe]!.ts.length,
        );
        expectStoredEqual(await stored(symbol, timeframe, 'regular'), oracle.bars[timeframe]!, `${symbol} ${timeframe}`);
      }
    }
    // Other tests count the symbols with bars on SPY's days.
    await system.db.raw('DELETE FROM ?? WHERE symbol = ANY(?)', [`${system.config.dbSchema}.bars`, cases.map((c) => c.symbol)]);
  });

  it('should store natural-aligned hours under regular/natural and shorter bars under regular', async () => {
    await system.run('aggregate-bars', { symbols: 'SHY', targets: ['30m', '1h', '1d'], alignment: 'natural' });
    const hours = await stored('SHY', '1h', 'regular/natural');
    expect(hours.ts.slice(0, 2).map(nyTime)).to.deep.equal(['2008-03-07 09:00', '2008-03-07 10:00']);
    expect(hours.ts.filter((ts) => nyTime(ts).startsWith('2008-03-10')).map((ts) => nyTime(ts).slice(11))[0]).to.equal('09:00');
    expect(await bars.count({ symbol: 'SHY', timeframe: '30m', variant: 'regular' })).to.equal(26);
    expect(await bars.count({ symbol: 'SHY', timeframe: '1h', variant: 'regular' })).to.equal(0);
  });

  it('should replace a partial weekly and monthly bar when later base bars arrive', async () => {
    const before = csvOf(GOOG_1MIN, (line) => !line.startsWith('2015-12-28'));
    await system.run('import-bars', { csv: before, symbol: 'GOOG', timeframe: '1m' });
    await system.run('aggregate-bars', { symbols: 'GOOG', targets: ['1d', '1w', '1M'] });
    const [partialMonth] = await bars.range({ symbol: 'GOOG', timeframe: '1M', variant: 'regular' });
    expect(await bars.count({ symbol: 'GOOG', timeframe: '1w', variant: 'regular' })).to.equal(1);

    await system.run('import-bars', { file: dataFile(GOOG_1MIN), symbol: 'GOOG', timeframe: '1m' });
    const rerun = (await system.run('aggregate-bars', { symbols: 'GOOG', targets: ['1d', '1w', '1M'], from: '2015-12-28' }))
      .result as RunResult;
    const [month] = await bars.range({ symbol: 'GOOG', timeframe: '1M', variant: 'regular' });
    const oracle = aggregateBars(loadBars(GOOG_1MIN, '1m'), { source: '1m', targets: ['1M'] }).bars['1M']!;
    expect(month.ts.getTime()).to.equal(partialMonth.ts.getTime());
    expect(month.volume).to.be.greaterThan(partialMonth.volume);
    expect([month.open, month.high, month.low, month.close, month.volume]).to.deep.equal([
      oracle.open[0],
      oracle.high[0],
      oracle.low[0],
      oracle.close[0],
      oracle.volume[0],
    ]);
    expect(await bars.count({ symbol: 'GOOG', timeframe: '1w', variant: 'regular' })).to.equal(2);
    expect(rerun.symbols[0].timeframes['1d']?.bars).to.equal(1);
  });

  it('should aggregate every symbol with base bars in the range when no symbols are given', async () => {
    const result = (
      await system.run('aggregate-bars', { source: '1m', from: '2013-10-08', to: '2013-10-08', targets: ['1h', '1d'] })
    ).result as RunResult;
    expect(result.symbols.map((s) => s.symbol)).to.deep.equal(['SPY']);
    expect(result.symbols[0].timeframes['1d']?.bars).to.equal(1);
    expect(result.symbols[0].gaps).to.deep.include({ sessions: 1, expected: 390 });
  });

  it('should store forward-fill bars only in missing slots, report the gaps, and let real bars replace fills', async () => {
    const removed = [
      '2013-10-07T10:00',
      '2013-10-07T10:01',
      '2013-10-07T10:02',
      '2013-10-07T10:03',
      '2013-10-07T10:04',
      '2013-10-07T10:05',
      '2013-10-07T09:30',
    ];
    const gappy = csvOf(SPY_1MIN, (line) => line.startsWith('2013-10-07') && !removed.some((time) => line.startsWith(time)));
    await system.run('import-bars', { csv: gappy, symbol: 'GAP', timeframe: '1m' });
    const result = (await system.run('aggregate-bars', { symbols: 'GAP', targets: ['5m', '1h'], fill: 'forward' }))
      .result as RunResult;
    const [gap] = result.symbols;
    expect(gap.gaps).to.deep.include({ sessions: 1, expected: 390, present: 383, missing: 7, longestMissingRun: 6, fillable: 6 });
    expect(gap.timeframes['1m']).to.deep.equal({ bars: 0, filled: 6 });
    expect(gap.timeframes['5m']).to.deep.include({ filled: 1 });

    const fills = (await bars.range({ symbol: 'GAP', timeframe: '1m', variant: '' })).filter((row) => row.source === 'fill');
    expect(fills.map((row) => nyTime(row.ts.getTime()).slice(11))).to.deep.equal([
      '10:00',
      '10:01',
      '10:02',
      '10:03',
      '10:04',
      '10:05',
    ]);
    const before = (await bars.range({ symbol: 'GAP', timeframe: '1m', variant: '' })).find((row) =>
      nyTime(row.ts.getTime()).endsWith('09:59'),
    )!;
    for (const fill of fills)
      expect([fill.open, fill.high, fill.low, fill.close, fill.volume]).to.deep.equal([
        before.close,
        before.close,
        before.close,
        before.close,
        0,
      ]);
    const fiveMinute = await bars.range({ symbol: 'GAP', timeframe: '5m', variant: 'regular' });
    expect(fiveMinute.filter((row) => row.source === 'fill').map((row) => nyTime(row.ts.getTime()).slice(11))).to.deep.equal([
      '10:00',
    ]);

    const again = (await system.run('aggregate-bars', { symbols: 'GAP', targets: ['5m'], fill: 'forward' })).result as RunResult;
    expect(again.symbols[0].sourceBars).to.equal(383);
    expect(again.totals.written).to.equal(0);

    await system.run('import-bars', {
      csv: csvOf(SPY_1MIN, (line) => line.startsWith('2013-10-07')),
      symbol: 'GAP',
      timeframe: '1m',
    });
    const real = await bars.range({ symbol: 'GAP', timeframe: '1m', variant: '' });
    expect(real.filter((row) => row.source === 'fill')).to.have.length(0);
    await system.run('aggregate-bars', { symbols: 'GAP', targets: ['5m'] });
    const rebuilt = await bars.range({ symbol: 'GAP', timeframe: '5m', variant: 'regular' });
    expect(rebuilt.filter((row) => row.source === 'fill')).to.have.length(0);
    expect(rebuilt).to.have.length(78);
  });

  it('should build weekly and monthly bars from five years of imported daily bars', async () => {
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPYD', timeframe: '1d' });
    const result = (await system.run('aggregate-bars', { symbols: 'SPYD', source: '1d', from: '2013-01-01', to: '2017-12-31' }))
      .result as RunResult;
    expect(result.symbols[0].timeframes['1M']?.bars).to.equal(60);
    const sessions = NYSE.sessionsBetween('2013-01-01', '2017-12-31');
    expect(result.symbols[0].gaps).to.deep.include({ sessions: sessions.length, expected: sessions.length });
    const weeks = new Set(
      sessions.map((session) => {
        const day = new Date(`${session.date}T12:00:00Z`);
        day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
        return localMidnight(day.toISOString().slice(0, 10), NEW_YORK);
      }),
    );
    const stored1w = await bars.range({ symbol: 'SPYD', timeframe: '1w', variant: 'regular' });
    expect(stored1w.map((row) => row.ts.getTime())).to.deep.equal([...weeks]);
  });

  it('should count 1998–1999 daily bars and report, not silently drop, bars from before the calendar', async () => {
    const nineties = csvOf(SPY_DAILY, (line) => line.startsWith('1998') || line.startsWith('1999'));
    const [header, ...rows] = nineties.split('\n');
    // Two weekdays of 1989, before the calendar's first year (1990).
    const early = ['1989-12-28 00:00,35.1,35.4,35.0,35.3,1000', '1989-12-29 00:00,35.3,35.6,35.2,35.5,1200'];
    await system.run('import-bars', { csv: [header, ...early, ...rows].join('\n'), symbol: 'SPY98', timeframe: '1d' });
    const result = (await system.run('aggregate-bars', { symbols: 'SPY98', source: '1d', targets: ['1w', '1M'] }))
      .result as RunResult;
    const [spy98] = result.symbols;
    expect(spy98.sourceBars).to.equal(rows.length);
    expect(rows.length).to.equal(NYSE.sessionsBetween('1998-01-01', '1999-12-31').length);
    expect(spy98.timeframes['1M']?.bars).to.equal(24);
    expect(spy98.outsideCalendar).to.deep.equal({
      bars: 2,
      first: new Date(localMidnight('1989-12-28', NEW_YORK)).toISOString(),
      last: new Date(localMidnight('1989-12-29', NEW_YORK)).toISOString(),
      calendar: 'XNYS 1990-01-01 … 2199-12-31',
    });
  });

  it('should refuse a target the source cannot build and a range that ends before it starts', async () => {
    const refused = await system.producer
      .enqueue('aggregate-bars', { symbols: 'SPY', source: '1h', targets: ['30m', '1d'] })
      .catch((error: Error) => error);
    expect((refused as Error).message).to.match(/targets\.0: 30m cannot be built from 1h/);
    const failed = await system
      .run('aggregate-bars', { symbols: 'SPY', from: '2013-10-09', to: '2013-10-08' })
      .catch((error: Error) => error);
    expect((failed as Error).message).to.match(/from \(2013-10-09\) must be before to \(2013-10-08\)/);
  });

  it('should fail at once naming the symbol and source timeframe when a named symbol has no base bars at all', async () => {
    const enqueued = await system.producer.enqueue('aggregate-bars', { symbols: 'spy', targets: ['1d'] });
    const job = await system.producer.queue('aggregate').getJob(enqueued.id);
    const failed = await job!.waitUntilFinished(await system.events('aggregate'), 60_000).catch((error: Error) => error);
    expect((failed as Error).message).to.equal(
      'no 1m bars of spy are stored; did you mean SPY?; import them first (import-bars) or check the symbol and source timeframe',
    );
    expect((await system.producer.queue('aggregate').getJob(enqueued.id))!.attemptsMade).to.equal(1);
    expect(await bars.count({ symbol: 'spy', timeframe: '1d', variant: 'regular' })).to.equal(0);

    const many = Array.from({ length: 12 }, (_, i) => `NONE${i + 1}`);
    const all = await system.run('aggregate-bars', { symbols: many, targets: ['1d'] }).catch((error: Error) => error);
    const sentences = (all as Error).message.split(
      '; import them first (import-bars) or check the symbol and source timeframe; ',
    );
    expect(sentences).to.have.length(11);
    expect(sentences.slice(0, 10)).to.deep.equal(many.slice(0, 10).map((symbol) => `no 1m bars of ${symbol} are stored`));
    expect(sentences[10]).to.equal('and 2 more named symbols have none');
  });

  it('should fail naming the range and the stored dates when no named symbol has base bars in the range', async () => {
    const failed = await system
      .run('aggregate-bars', { symbols: ['SPY', 'SHY'], from: '2020-01-02', to: '2020-01-03', targets: ['1d'] })
      .catch((error: Error) => error);
    expect((failed as Error).message).to.equal(
      'no 1m bars of SPY between 2020-01-02 and 2020-01-03; they run from 2013-10-04 to 2013-10-11; ' +
        'no 1m bars of SHY between 2020-01-02 and 2020-01-03; they run from 2008-03-07 to 2008-03-10',
    );
  });

  it('should aggregate the symbols that have base bars and note the ones that have none', async () => {
    const { result } = (await system.run('aggregate-bars', { symbols: ['SHY', 'NOPE'], targets: ['1d'] })) as {
      result: RunResult;
    };
    const [shy, nope] = result.symbols;
    expect(shy.symbol).to.equal('SHY');
    expect(shy.sourceBars).to.be.above(0);
    expect(shy.timeframes['1d']?.bars).to.equal(2);
    expect(shy).to.not.have.property('note');
    expect(nope).to.deep.include({
      symbol: 'NOPE',
      sourceBars: 0,
      written: 0,
      note: 'no 1m bars of NOPE are stored; import them first (import-bars) or check the symbol and source timeframe',
    });
  });

  it('should run from the CLI with --wait and exit 2 naming the field when a target is wrong', async () => {
    const cli = startProcess('cli', system.config, ['aggregate-bars', '--symbols', 'SHY', '--targets', '2h,1d', '--wait']);
    expect((await cli.exited).code).to.equal(0);
    expect(cli.lines.map((line) => line.msg).join('\n')).to.match(/"symbol": "SHY"/);
    expect(await bars.count({ symbol: 'SHY', timeframe: '1d', variant: 'regular' })).to.equal(2);
    const wrong = startProcess('cli', system.config, ['aggregate-bars', '--symbols', 'SHY', '--source', '1d', '--targets', '1h']);
    expect((await wrong.exited).code).to.equal(2);
    expect(wrong.stderr.join('')).to.match(/targets\.0: 1h cannot be built from 1d/);
  });
});
