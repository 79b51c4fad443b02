import { expect } from 'chai';
import { parseBarsCsv } from '../../src/bars/csv.js';
import { CsvFormatError } from '../../src/shared/csv.js';

const options = { timeframe: '1m' as const, timeZone: 'America/New_York', symbol: 'SPY' };
const header = 'ts,open,high,low,close,volume';

describe('parseBarsCsv', () => {
  it('should parse ISO-8601 instants, epoch milliseconds and optional vwap/trade_count', () => {
    const text = [
      'ts,open,high,low,close,volume,vwap,trade_count',
      '2013-10-04T09:30:00-04:00,10,11,9,10.5,100,10.2,7',
      `${Date.parse('2013-10-04T13:31:00Z')},10.5,10.6,10.4,10.5,50,,`,
    ].join('\n');
    const result = parseBarsCsv(text, options);
    expect(result.rejected).to.deep.equal([]);
    const bars = result.series[0].bars;
    expect([...bars.ts]).to.deep.equal([Date.parse('2013-10-04T13:30:00Z'), Date.parse('2013-10-04T13:31:00Z')]);
    expect(bars.vwap[0]).to.equal(10.2);
    expect(bars.tradeCount[0]).to.equal(7);
    expect(Number.isNaN(bars.vwap[1])).to.equal(true);
  });

  it('should reject zero and negative prices unless the symbol may trade there (futures spreads)', () => {
    const text = [
      'ts,open,high,low,close,volume,vwap,symbol',
      '2013-10-04T13:30:00Z,0,1,0,1,100,,SPY',
      '2013-10-04T13:30:00Z,-2,-1,-3,-1.5,100,,ESZ13-ESH14',
      '2013-10-04T13:31:00Z,1,2,1,2,100,-1,SPY',
      '2013-10-04T13:32:00Z,1,2,1,2,100,1.5,SPY',
    ].join('\n');
    const result = parseBarsCsv(text, { timeframe: '1m', timeZone: 'America/New_York', nonPositiveAllowed: ['ESZ13-ESH14'] });
    expect(result.rejected).to.deep.equal([
      { line: 2, reason: 'open 0 is not above 0; only futures may trade at zero or below' },
      { line: 4, reason: 'vwap -1 is not above 0; only futures may trade at zero or below' },
    ]);
    expect(result.series.map((series) => [series.symbol, series.bars.ts.length])).to.deep.equal([
      ['ESZ13-ESH14', 1],
      ['SPY', 1],
    ]);
  });

  it('should reject local times that do not exist at the spring daylight-saving change and keep the real 03:00', () => {
    const text = [header, '2024-03-10 01:59,10,11,9,10,5', '2024-03-10 02:30,10,11,9,10,5', '2024-03-10 03:00,10,11,9,10,5'].join('\n');
    const result = parseBarsCsv(text, options);
    expect(result.rejected).to.deep.equal([
      { line: 3, reason: 'ts "2024-03-10 02:30" does not exist in America/New_York: the clocks skip it at the daylight-saving change' },
    ]);
    expect([...result.series[0].bars.ts]).to.deep.equal([Date.parse('2024-03-10T06:59:00Z'), Date.parse('2024-03-10T07:00:00Z')]);
  });

  it('should read rows ended by CRLF, LF and CR mixed in one file as separate rows, with their own line numbers', () => {
    const rows = ['2020-01-02T14:30:00Z,10,11,9,10.5,100', '2020-01-02T14:31:00Z,10,11,9,10.5,100', 'bad,1,1,1,1,1', '2020-01-02T14:33:00Z,10,11,9,10.5,100'];
    const text = `ts,open,high,low,close,volume\r\n${rows[0]}\n${rows[1]}\r${rows[2]}\r\n${rows[3]}\n`;
    const result = parseBarsCsv(text, { timeframe: '1m', timeZone: 'UTC', symbol: 'SPY' });
    expect(result.accepted).to.equal(3);
    expect(result.rejected.map((row) => row.line)).to.deep.equal([4]);
    expect(Array.from(result.series[0].bars.ts)).to.deep.equal(
      ['2020-01-02T14:30:00Z', '2020-01-02T14:31:00Z', '2020-01-02T14:33:00Z'].map((ts) => Date.parse(ts)),
    );
  });

  it('should reject bad rows with their line number and reason', () => {
    const text = [
      header,
      '2013-10-04T13:30:00Z,10,9,8,10,100', // high below close
      '2013-10-04T13:31:00Z,10,11,10.5,10,100', // low above min(open, close)
      '2013-10-04T13:32:00Z,10,11,9,10,-5',
      '2013-10-04T13:33:00Z,abc,11,9,10,5',
      '2013-10-04T13:34:30Z,10,11,9,10,5',
      '2013-10-04T13:35:00Z,NaN,11,9,10,5',
      '2013-10-04T13:36:00Z,10,11,9,10',
      'yesterday,10,11,9,10,5',
      '2013-10-04T13:37:00Z,10,11,9,10,5',
    ].join('\n');
    const result = parseBarsCsv(text, options);
    expect(result.accepted).to.equal(1);
    expect(result.rejected.map((r) => r.line)).to.deep.equal([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.rejected[0].reason).to.match(/high 9 is below max\(open, close\) 10/);
    expect(result.rejected[1].reason).to.match(/low 10.5 is above/);
    expect(result.rejected[2].reason).to.match(/volume -5 is negative/);
    expect(result.rejected[3].reason).to.match(/open "abc" is not a number/);
    expect(result.rejected[4].reason).to.match(/not on the 1m grid/);
    expect(result.rejected[5].reason).to.match(/open "NaN" is not a number/);
    expect(result.rejected[6].reason).to.match(/expected 6 fields/);
    expect(result.rejected[7].reason).to.match(/ts "yesterday"/);
  });

  it('should keep exact duplicates once and reject conflicting ones and rows out of order', () => {
    const text = [
      header,
      '2013-10-04T13:30:00Z,10,11,9,10,100',
      '2013-10-04T13:30:00Z,10,11,9,10,100',
      '2013-10-04T13:30:00Z,10,11,9,10.5,100',
      '2013-10-04T13:29:00Z,10,11,9,10,100',
    ].join('\n');
    const result = parseBarsCsv(text, options);
    expect(result.accepted).to.equal(1);
    expect(result.duplicates).to.equal(1);
    expect(result.rejected[0]).to.deep.include({ line: 4 });
    expect(result.rejected[0].reason).to.match(/duplicate ts .* different from line 2/);
    expect(result.rejected[1]).to.deep.include({ line: 5 });
    expect(result.rejected[1].reason).to.match(/earlier than line 2/);
  });

  it('should read dates and local times in the given zone and check the daily grid', () => {
    const text = [
      'datetime_et,open,high,low,close,volume',
      '2008-03-07 00:00,1,1,1,1,1',
      '2008-03-10 00:00,1,1,1,1,1',
      '2008-03-11 09:30,1,1,1,1,1',
    ].join('\n');
    const result = parseBarsCsv(text, { ...options, timeframe: '1d' });
    expect([...result.series[0].bars.ts]).to.deep.equal([Date.parse('2008-03-07T05:00:00Z'), Date.parse('2008-03-10T04:00:00Z')]);
    expect(result.rejected[0].reason).to.match(/local midnight/);
  });

  it('should refuse a mix of local times and absolute instants', () => {
    const text = [header, '2013-10-04T13:30:00Z,1,1,1,1,1', '2013-10-04 09:31,1,1,1,1,1'].join('\n');
    const result = parseBarsCsv(text, options);
    expect(result.rejected[0].reason).to.match(/ambiguous/);
  });

  it('should group rows by the symbol column when no symbol is given', () => {
    const text = [
      'date,open,high,low,close,volume,Name',
      '2013-02-08,1,2,1,2,10,AAL',
      '2013-02-11,2,2,1,1,10,AAL',
      '2013-02-08,5,6,4,5,10,AAPL',
    ].join('\n');
    const result = parseBarsCsv(text, { timeframe: '1d', timeZone: 'America/New_York' });
    expect(result.series.map((s) => [s.symbol, s.bars.ts.length])).to.deep.equal([
      ['AAL', 2],
      ['AAPL', 1],
    ]);
  });

  it('should throw CsvFormatError for an empty file or a header without the needed columns', () => {
    expect(() => parseBarsCsv('', options)).to.throw(CsvFormatError, /empty/);
    expect(() => parseBarsCsv('a,b,c\n1,2,3', options)).to.throw(
      CsvFormatError,
      /line 1: the header must name .*missing ts, open/,
    );
    expect(() => parseBarsCsv('ts,open,high,low,close\n', options)).to.throw(CsvFormatError, /missing volume/);
  });

  it('should read the LEAN layout and check timestamp_et against timestamp_utc', () => {
    const text = [
      'timestamp_et,timestamp_utc,open,high,low,close,volume',
      '2013-10-04T09:30:00-04:00,2013-10-04T13:30:00Z,1,1,1,1,1',
      '2013-10-04T09:31:00-04:00,2013-10-04T13:32:00Z,1,1,1,1,1',
    ].join('\n');
    const result = parseBarsCsv(text, options);
    expect(result.tsColumn).to.equal('timestamp_utc');
    expect(result.accepted).to.equal(1);
    expect(result.rejected[0].reason).to.match(/different instants/);
  });

  it('should refuse a file whose rows mostly miss the timeframe grid, naming the timeframe they fit', () => {
    const minutes = Array.from(
      { length: 20 },
      (_, i) => `${new Date(Date.parse('2013-10-04T13:30:00Z') + i * 60_000).toISOString()},10,11,9,10,100`,
    );
    const text = [header, ...minutes].join('\n');
    expect(() => parseBarsCsv(text, { ...options, timeframe: '5m' }))
      .to.throw(CsvFormatError)
      .with.property(
        'message',
        '16 of 20 rows are off the 5m grid, so this is not a 5m file: every timestamp fits 1m; import it with timeframe 1m',
      );
    // A few stray rows are listed as rejected; the rest of the file is imported.
    const mostlyFiveMinutes = [header, ...minutes.filter((_, i) => i % 5 === 0), minutes[1]].join('\n');
    const result = parseBarsCsv(mostlyFiveMinutes, { ...options, timeframe: '5m' });
    expect(result.series[0].bars.ts.length).to.equal(4);
    expect(result.rejected.map((row) => row.reason)).to.deep.equal(['ts is not on the 5m grid (a multiple of 5 min)']);
  });
});
