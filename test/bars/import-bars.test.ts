import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { createRedis, closeRedis, type RedisClient } from '../../src/shared/redis.js';
import { SPY_1MIN, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { waitForEvent } from '../helpers/wait.js';

describe('import-bars job', function () {
  let system: TestSystem;
  let bars: BarsRepository;
  let subscriber: RedisClient;
  let dir: string;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    bars = new BarsRepository(system.db, system.config.dbSchema);
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.barsUpdated);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-import-'));
  });

  after(async () => {
    await closeRedis(subscriber);
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('should import the real SPY file once and change nothing when it is imported again', async () => {
    const notified = waitForEvent<[string, string]>(subscriber, 'message', (channel, message) => {
      return channel === system.channels.barsUpdated && (JSON.parse(message) as EventEnvelope<{ symbol: string }>).data.symbol === 'SPY';
    });
    const first = await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    expect(first.result).to.deep.include({ rowsRead: 4839, accepted: 4839, written: 4839, unchanged: 0, rejectedCount: 0 });
    expect(await bars.count({ symbol: 'SPY', timeframe: '1m' })).to.equal(4839);

    const [, message] = await notified;
    const envelope = JSON.parse(message) as EventEnvelope<Record<string, unknown>>;
    expect(envelope).to.include({ service: 'tickforge-worker', event_type: 'bars.updated', correlation_id: first.id });
    expect(envelope.data).to.deep.include({
      symbol: 'SPY',
      series: [{ timeframe: '1m', variant: '', rows: 4839 }],
      from: '2013-10-04T08:06:00.000Z',
      job: 'import-bars',
    });
    const streamed = await system.redis.xrange(system.config.eventStream, '-', '+');
    expect(streamed.some(([, fields]) => fields.includes(system.channels.barsUpdated))).to.equal(true);

    const again = await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    expect(again.result).to.deep.include({ written: 0, unchanged: 4839 });
    expect(await bars.count({ symbol: 'SPY', timeframe: '1m' })).to.equal(4839);

    const history = await system.db('job_history').where({ queue: 'ingest', job_id: again.id }).first();
    expect(history).to.include({ name: 'import-bars', outcome: 'completed', attempts: 1 });
  });

  it('should store the valid rows of a file with bad rows and list the bad ones by line', async () => {
    const csv = [
      'ts,open,high,low,close,volume',
      '2020-01-02T14:30:00Z,10,11,9,10,100',
      '2020-01-02T14:31:00Z,10,9,9,10,100',
      '2020-01-02T14:32:00Z,10,11,9,10,100',
    ].join('\n');
    const { result } = await system.run('import-bars', { csv, symbol: 'BAD1', timeframe: '1m' });
    expect(result).to.deep.include({ accepted: 2, written: 2, rejectedCount: 1 });
    expect((result as { rejected: unknown[] }).rejected).to.deep.equal([
      { line: 3, reason: 'high 9 is below max(open, close) 10' },
    ]);
  });

  it('should reject, by line, the rows whose values the database could not store, and store the rest in one attempt', async () => {
    const csv = [
      'ts,open,high,low,close,volume,trade_count',
      '2020-01-02T14:30:00Z,10,11,9,10,100,3000000000',
      '999999999999999,10,11,9,10,100,5',
      '2020-01-02T14:32:00Z,10,11,9,10,100,2147483647',
    ].join('\n');
    const { id, result } = await system.run('import-bars', { csv, symbol: 'BIG1', timeframe: '1m' });
    expect(result).to.deep.include({ accepted: 1, written: 1, rejectedCount: 2 });
    expect((result as { rejected: unknown[] }).rejected).to.deep.equal([
      { line: 2, reason: 'trade_count 3000000000 is above 2147483647, the most a bar stores' },
      { line: 3, reason: 'ts "999999999999999" must be in the years 1900–2199' },
    ]);
    expect((await system.producer.queue('ingest').getJob(id))?.attemptsMade).to.equal(1);
  });

  it('should fail the job, writing nothing, when every row is invalid', async () => {
    const csv = ['ts,open,high,low,close,volume', '2020-01-02T14:30:00Z,10,9,9,10,100', '2020-01-02T14:31:00Z,x,9,9,10,100'].join(
      '\n',
    );
    let failure: Error | undefined;
    await system.run('import-bars', { csv, symbol: 'BAD2', timeframe: '1m' }).catch((error: Error) => (failure = error));
    expect(failure?.message).to.match(/all 2 rows are invalid \(line 2: high 9 is below .*; line 3: open "x" is not a number\)/);
    expect(await bars.count({ symbol: 'BAD2' })).to.equal(0);
  });

  it('should store nothing from a file with a bad row when onInvalid is fail', async () => {
    const csv = [
      'ts,open,high,low,close,volume',
      '2020-01-02T14:30:00Z,10,11,9,10,100',
      '2020-01-02T14:31:00Z,10,9,9,10,100',
    ].join('\n');
    const failure = await system
      .run('import-bars', { csv, symbol: 'BAD3', timeframe: '1m', onInvalid: 'fail' })
      .catch((error: Error) => error);
    expect((failure as Error).message).to.match(/1 of \d+ rows are invalid, nothing was written \(line 3/);
    expect(await bars.count({ symbol: 'BAD3' })).to.equal(0);
  });

  it('should import a gzip file with a symbol column', async () => {
    const file = path.join(dir, 'multi.csv.gz');
    const lines = [
      'date,open,high,low,close,volume,Name',
      '2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL',
      '2013-02-08,67.71,68.4,66.89,67.85,158168416,AAPL',
    ];
    await writeFile(file, gzipSync(lines.join('\n')));
    const { result } = await system.run('import-bars', { file, timeframe: '1d' });
    expect((result as { symbols: Array<{ symbol: string }> }).symbols.map((s) => s.symbol)).to.deep.equal(['AAL', 'AAPL']);
    const [aapl] = await bars.range({ symbol: 'AAPL', timeframe: '1d', variant: '' });
    expect(aapl.ts.toISOString()).to.equal('2013-02-08T05:00:00.000Z');
    expect(aapl.close).to.equal(67.85);
  });

  it('should give one answer, naming no directory, for a file outside the import directories and a missing one', async () => {
    const reasons: string[] = [];
    for (const file of ['/etc/hostname', path.join(dir, 'missing.csv'), '/etc/no-such-file']) {
      const failure = await system.run('import-bars', { file, symbol: 'X', timeframe: '1m' }).catch((error: Error) => error);
      reasons.push((failure as Error).message.replace(file, '<file>'));
    }
    expect(new Set(reasons).size).to.equal(1);
    expect(reasons[0]).to.match(/does not exist or is not under the import directories/);
    expect(reasons[0]).not.to.include(os.tmpdir());
  });

  it('should quote nothing of a file that is not the expected format', async () => {
    const secret = 'DATABASE_URL=postgres://app:hunter2-secret@db.internal:5432/prod';
    const files = {
      'secret.env': `${secret}\nREDIS_URL=redis://:hunter2-secret@cache\n`,
      'secret-quote.txt': `x,"${secret}"y\n`,
      'secret-open-quote.txt': `${secret} "quoted"\n`,
      'secret.json': `${secret}\n`,
    };
    const reasons: string[] = [];
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(dir, name);
      await writeFile(file, text);
      for (const [job, payload] of [
        ['import-bars', { file, symbol: 'X', timeframe: '1m' }],
        ['import-futures', { file }],
        ['import-symbols', { file, ...(name.endsWith('.json') ? {} : { layout: 'tickforge' }) }],
      ] as const) {
        const failure = await system.run(job, payload as never).catch((error: Error) => error);
        reasons.push((failure as Error).message);
      }
    }
    expect(reasons).to.have.length(12);
    for (const reason of reasons) {
      expect(reason).to.match(/cannot import/);
      expect(reason).not.to.match(/hunter2|DATABASE|postgres:|quoted/);
    }
  });

  it('should reject a payload that names no source before it reaches a queue', async () => {
    const failure = await system.producer
      .enqueue('import-bars', { symbol: 'SPY', timeframe: '1m' })
      .catch((error: Error) => error);
    expect((failure as Error).message).to.match(/file: give exactly one of file or csv/);
  });

  it('should import non-UTF-8 bytes as a failed job that says so', async () => {
    const file = path.join(dir, 'latin1.csv');
    await writeFile(file, Buffer.concat([Buffer.from('ts,open,high,low,close,volume\n'), Buffer.from([0xff, 0xfe, 0x41])]));
    const failure = await system.run('import-bars', { file, symbol: 'X', timeframe: '1m' }).catch((error: Error) => error);
    expect((failure as Error).message).to.match(/not valid UTF-8/);
    expect(readFileSync(file).length).to.be.greaterThan(0);
  });
});
