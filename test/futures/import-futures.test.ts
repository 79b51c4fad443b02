import { expect } from 'chai';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { FuturesRepository } from '../../src/futures/futures.repository.js';
import { NYSE } from '../../src/shared/calendar.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { ES_FUTURES, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { waitForEvent } from '../helpers/wait.js';

interface ImportResult {
  contracts: Array<{ contract: string; lastTradeDate: string; expiryDerived: boolean; expiryRule: string | null; bars: number }>;
  rowsRead: number;
  rowsUsed: number;
  stored: { bars: { rows: number; written: number; unchanged: number }; openInterest: { rows: number; written: number } };
  nonSessionRows: {
    policy: string;
    count: number;
    rows: Array<{ line: number; contract: string; date: string; tradeDate: string }>;
  };
  openInterestOnly: number;
  rejectedCount: number;
  rejected: Array<{ line: number; reason: string }>;
  notes: string[];
}

describe('import-futures job', function () {
  let system: TestSystem;
  let bars: BarsRepository;
  let futures: FuturesRepository;
  let subscriber: RedisClient;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    bars = new BarsRepository(system.db, system.config.dbSchema);
    futures = new FuturesRepository(system.db, system.config.dbSchema);
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.barsUpdated);
  });

  after(async () => {
    await closeRedis(subscriber);
    await system.close();
  });

  it('should import the real ES file, fold Sunday and holiday rows into the next session and say so', async () => {
    const notified = waitForEvent<[string, string]>(subscriber, 'message', (_channel, message) => {
      return (JSON.parse(message) as EventEnvelope<{ symbol: string }>).data.symbol === 'ESZ13';
    });
    const { id, result } = (await system.run('import-futures', { file: dataFile(ES_FUTURES) })) as {
      id: string;
      result: ImportResult;
    };

    expect(result.rowsRead).to.equal(218);
    expect(result.rowsUsed).to.equal(218);
    expect(result.rejectedCount).to.equal(0);
    // The file's Sunday rows (2013-10-06 …) and Thanksgiving 2013-11-28 are not NYSE sessions.
    expect(result.nonSessionRows.policy).to.equal('merge');
    expect(result.nonSessionRows.rows[0]).to.deep.equal({
      line: 2,
      contract: 'ESZ13',
      date: '2013-10-06',
      tradeDate: '2013-10-07',
    });
    expect(result.nonSessionRows.rows).to.deep.include({
      line: 43,
      contract: 'ESZ13',
      date: '2013-11-28',
      tradeDate: '2013-11-29',
    });
    expect(result.nonSessionRows.rows.every((row) => !NYSE.isSession(row.date) && NYSE.isSession(row.tradeDate))).to.equal(true);
    expect(result.notes.join(' ')).to.match(/rows are dated on days that are not XNYS sessions/);

    const esz13 = result.contracts.find((c) => c.contract === 'ESZ13')!;
    expect(esz13).to.deep.include({ lastTradeDate: '2013-12-20', expiryDerived: true });
    expect(esz13.expiryRule).to.match(/^ES: third Friday of the contract month/);
    expect(result.notes.join(' ')).to.match(
      /last trade date not in the file, derived for ESZ13, ESH14, ESM14, .*, ESH21 from the rule ES: third Friday/,
    );
    // ESZ13 traded every NYSE session from 2013-10-07 to its expiry.
    expect(esz13.bars).to.equal(NYSE.sessionsBetween('2013-10-07', '2013-12-20').length);
    expect(await bars.count({ symbol: 'ESZ13', timeframe: '1d' })).to.equal(esz13.bars);

    // The Sunday 2013-10-06 row (o 1676.75, v 21573) opens the 2013-10-07 bar (c 1668, v 1374818).
    const [first] = await bars.range({ symbol: 'ESZ13', timeframe: '1d', variant: '' });
    expect(first).to.deep.include({
      open: 1676.75,
      high: 1679.5,
      low: 1667,
      close: 1668,
      volume: 21573 + 1374818,
      source: 'provider',
    });
    expect(first.ts.toISOString()).to.equal('2013-10-07T04:00:00.000Z');

    const contracts = await futures.contractsOf('ES');
    expect(contracts.map((c) => c.contract)).to.deep.equal([
      'ESZ13',
      'ESH14',
      'ESM14',
      'ESU14',
      'ESZ14',
      'ESH20',
      'ESM20',
      'ESU20',
      'ESZ20',
      'ESH21',
    ]);
    expect(contracts[0]).to.deep.include({ root: 'ES', month_code: 'Z', contract_month: '2013-12-01', first_notice_date: null });
    // ESH21 appears only in an open-interest row: a contract without bars.
    expect(result.contracts.find((c) => c.contract === 'ESH21')!.bars).to.equal(0);
    expect(result.openInterestOnly).to.equal(15);
    const interest = await futures.openInterest(['ESZ13']);
    expect(interest.find((row) => row.date === '2013-12-02')?.open_interest).to.equal(2798054);

    const [, message] = await notified;
    expect((JSON.parse(message) as EventEnvelope).correlation_id).to.equal(id);
  });

  it('should write nothing new when the same file is imported again', async () => {
    const { result } = (await system.run('import-futures', { file: dataFile(ES_FUTURES) })) as { result: ImportResult };
    expect(result.stored.bars.written).to.equal(0);
    expect(result.stored.bars.unchanged).to.equal(result.stored.bars.rows);
    expect(result.stored.openInterest.written).to.equal(0);
  });

  it('should list off-session rows as rejected when nonSessionRows is reject', async () => {
    const csv = [
      'contract,contract_month,date,open,high,low,close,volume,open_interest',
      'NQH24,202403,2024-03-03,18300,18310,18290,18305,500,',
      'NQH24,202403,2024-03-04,18305,18400,18250,18390,250000,240000',
    ].join('\n');
    const { result } = (await system.run('import-futures', { csv, nonSessionRows: 'reject' })) as { result: ImportResult };
    expect(result.rejected).to.deep.equal([
      { line: 2, reason: 'date 2024-03-03 (Sunday) is not a XNYS session and nonSessionRows is reject' },
    ]);
    expect(result.nonSessionRows.count).to.equal(0);
    const stored = await bars.range({ symbol: 'NQH24', timeframe: '1d', variant: '' });
    expect(stored.map((bar) => [bar.open, bar.volume])).to.deep.equal([[18305, 250000]]);
  });

  it('should take last and first notice dates from the file and refuse a root without a rule when they are missing', async () => {
    const csv = [
      'contract,contract_month,date,open,high,low,close,volume,open_interest,last_trade_date,first_notice_date',
      'ZCN24,202407,2024-06-03,450,455,448,452,1000,5000,2024-07-12,2024-06-28',
      'ZCN24,202407,2024-06-04,452,456,449,455,1200,,,',
      'XXH24,202403,2024-01-02,10,11,9,10,5,,,',
    ].join('\n');
    const { result } = (await system.run('import-futures', { csv })) as { result: ImportResult };
    expect(result.contracts.map((c) => [c.contract, c.lastTradeDate, c.expiryDerived])).to.deep.equal([
      ['ZCN24', '2024-07-12', false],
    ]);
    expect(result.rejected).to.deep.equal([
      { line: 4, reason: 'no expiry rule is known for root XX: give a last_trade_date column for XXH24' },
    ]);
    const [zc] = await futures.contractsOf('ZC');
    expect(zc).to.deep.include({ last_trade_date: '2024-07-12', first_notice_date: '2024-06-28', expiry_derived: false });
  });

  it('should store nothing and name the line when onInvalid is fail and a row is bad', async () => {
    const csv = [
      'contract,contract_month,date,open,high,low,close,volume,open_interest',
      'YMH24,202403,2024-01-02,37000,37100,36900,37050,1000,',
      'YMH24,202403,2024-01-03,37000,36900,36950,37050,1000,',
    ].join('\n');
    const failure = await system.run('import-futures', { csv, onInvalid: 'fail' }).catch((error: Error) => error);
    expect((failure as Error).message).to.match(/1 of \d+ rows are invalid, nothing was written \(line 3: high 36900 is below/);
    expect(await bars.count({ symbol: 'YMH24' })).to.equal(0);
    expect(await futures.contractsOf('YM')).to.deep.equal([]);
  });
});
