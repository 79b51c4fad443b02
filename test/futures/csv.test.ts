import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { CsvFormatError } from '../../src/shared/csv.js';
import { NYSE } from '../../src/shared/calendar.js';
import { parseFuturesCsv } from '../../src/futures/csv.js';
import { ES_FUTURES, dataFile } from '../helpers/data.js';

const HEADER = 'contract,contract_month,date,open,high,low,close,volume,open_interest';
const parseRows = (rows: string[], nonSessionRows: 'merge' | 'reject' = 'merge') =>
  parseFuturesCsv([HEADER, ...rows].join('\n'), { calendar: NYSE, nonSessionRows });

describe('parseFuturesCsv', () => {
  it('should fold the real file’s Thanksgiving row into the Friday bar', () => {
    const parsed = parseFuturesCsv(readFileSync(dataFile(ES_FUTURES), 'utf8'), { calendar: NYSE, nonSessionRows: 'merge' });
    const esz13 = parsed.contracts.find((c) => c.contract === 'ESZ13')!;
    const friday = esz13.bars.ts.indexOf(Date.parse('2013-11-29T05:00:00Z'));
    // 2013-11-28: o 1809 h 1809.5 l 1808.25 c 1808.5 v 9555; 2013-11-29: o 1808.25 h 1812.5 l 1802.75 c 1804.25 v 585543
    expect([
      esz13.bars.open[friday],
      esz13.bars.high[friday],
      esz13.bars.low[friday],
      esz13.bars.close[friday],
      esz13.bars.volume[friday],
    ]).to.deep.equal([1809, 1812.5, 1802.75, 1804.25, 9555 + 585543]);
    expect(esz13.bars.ts.indexOf(Date.parse('2013-11-28T05:00:00Z'))).to.equal(-1);
    expect(parsed.contracts.map((c) => c.contract).slice(0, 5)).to.deep.equal(['ESZ13', 'ESH14', 'ESM14', 'ESU14', 'ESZ14']);
  });

  it('should keep open interest of a row without prices, and the latest figure of a trade date', () => {
    const parsed = parseRows([
      'ESU14,201409,2013-12-01,,,,,,685',
      'ESH14,201403,2013-12-01,1799.5,1801.25,1799.25,1800.5,26,105989',
      'ESH14,201403,2013-12-02,1799.5,1802.5,1791,1793.5,2827,106500',
    ]);
    expect(parsed.openInterestOnly).to.equal(1);
    const [esh14, esu14] = parsed.contracts;
    expect(esu14.bars.ts.length).to.equal(0);
    expect(esu14.openInterest).to.deep.equal([{ date: '2013-12-02', openInterest: 685 }]);
    expect(esh14.openInterest).to.deep.equal([{ date: '2013-12-02', openInterest: 106500 }]);
    expect(parsed.mergedCount).to.equal(2);
  });

  it('should reject bad rows with their line and reason', () => {
    const parsed = parseRows([
      'ESZ13,201312,2013-12-02,1805.5,1809,1797,1800,1138161,',
      'ESZ13,201312,2013-12-03,,1798.5,1786.25,1791.5,1423127,',
      'ESZ13,201312,2013-12-04,,,,,,',
      'ESX13,201312,2013-12-04,1785.25,1799.5,1777.75,1792.75,1788530,',
      'ESZ13,201312,2013-12-02,1805.5,1809,1797,1801,1138161,',
      'ESZ13,201312,2013-12-05,1788.75,1792,1782,1783.75,1303227,-3',
      'ESZ13,201312,2013-12-23,1788.75,1792,1782,1783.75,1303227,',
      'ESZ13,201312,2013-12-06,1801.25,1806,1796.25,1805.25,1196403,',
      'ESZ13,201312,2013-12-06,1801.25,1806,1796.25,1805.25,1196403,',
    ]);
    expect(parsed.rejected).to.deep.equal([
      { line: 3, reason: 'open is empty while other prices are given' },
      { line: 4, reason: 'the row has neither prices nor open interest' },
      { line: 5, reason: 'contract_month 201312 does not match contract ESX13 (month X = 11, year …13)' },
      { line: 6, reason: 'contract ESZ13 has another row for 2013-12-02 with different values (line 2)' },
      { line: 7, reason: 'open_interest -3 is negative' },
      { line: 8, reason: "trade date 2013-12-23 is after ESZ13's last trade date 2013-12-20" },
    ]);
    expect(parsed.duplicates).to.equal(1);
    expect(parsed.contracts[0].bars.close).to.deep.equal(Float64Array.from([1800, 1805.25]));
  });

  it('should reject the rows of a contract whose expiry lies outside the calendar', () => {
    const parsed = parseRows(['ESZ89,198912,1990-01-02,10,11,9,10,5,']);
    expect(parsed.contracts).to.deep.equal([]);
    expect(parsed.rejected).to.deep.equal([
      {
        line: 2,
        reason: "cannot place ESZ89's last trade date: 1989-12-15 is outside the XNYS calendar (1990-01-01 … 2199-12-31)",
      },
    ]);
  });

  it('should throw CsvFormatError when the header lacks a needed column', () => {
    expect(() =>
      parseFuturesCsv('contract,date,open,high,low,close\nESZ13,2013-12-02,1,1,1,1', { calendar: NYSE, nonSessionRows: 'merge' }),
    ).to.throw(CsvFormatError, /missing volume/);
  });
});
