import { expect } from 'chai';
import { CsvFormatError } from '../../src/shared/csv.js';
import { detectLayout, parseSymbolsCsv, parseSymbolsJson } from '../../src/universes/symbol-rows.js';

describe('symbol rows', () => {
  it('should recognise the published layouts from their headers and fall back to tickforge', () => {
    expect(detectLayout(['Symbol', 'Name', 'Sector', 'Price', 'Market Cap'])).to.equal('sp500-constituents');
    expect(detectLayout(['fund_symbol', 'quote_type', 'total_net_assets'])).to.equal('us-etfs');
    expect(detectLayout(['symbol', 'market_cap'])).to.equal('tickforge');
  });

  it('should derive shares outstanding as market cap / price in the S&P 500 layout', () => {
    const parsed = parseSymbolsCsv('Symbol,Name,Sector,Price,Market Cap,EBITDA\nMMM,3M Company,Industrials,200,1000,5\n');
    expect(parsed.layout).to.equal('sp500-constituents');
    expect(parsed.records).to.deep.equal([
      { symbol: 'MMM', name: '3M Company', kind: 'stock', sector: 'Industrials', market_cap: 1000, shares_outstanding: 5 },
    ]);
    expect(parsed.ignoredColumns).to.deep.equal(['EBITDA']);
  });

  it('should read E-notation AUM, M/D/YYYY inception, blanks as unknown and the theme by rule in the US ETF layout', () => {
    const csv = [
      'fund_symbol,quote_type,exchange_code,fund_category,avg_vol_3month,total_net_assets,fund_annual_report_net_expense_ratio,inception_date,region',
      'VXUS,ETF,NGM,Foreign Large Blend,3014609,4.04729E+11,0.0008,1/26/2011,US',
      'NOAUM,ETF,PCX,,1000,,,12/1/2020,US',
      'BADDATE,ETF,PCX,,1000,,,2020-12-01,US',
    ].join('\n');
    const withHoldings = parseSymbolsCsv(
      'fund_symbol,quote_type,total_net_assets,fund_category,investment_type,asset_bonds\nBNDX,ETF,,,,0.98\nSPYG,ETF,,Large Blend,Growth,0\n',
    );
    expect(withHoldings.records.map((record) => record.theme)).to.deep.equal(['bonds', 'growth']);
    expect(withHoldings.records[0].metadata).to.deep.equal({ asset_bonds: 0.98 });
    const parsed = parseSymbolsCsv(csv);
    expect(parsed.records[0]).to.deep.equal({
      symbol: 'VXUS',
      kind: 'etf',
      exchange: 'NGM',
      avg_volume: 3014609,
      aum: 404_729_000_000,
      expense_ratio: 0.0008,
      ipo_date: '2011-01-26',
      theme: 'international',
      metadata: { fund_category: 'Foreign Large Blend' },
    });
    expect(parsed.records[1]).to.deep.equal({
      symbol: 'NOAUM',
      kind: 'etf',
      exchange: 'PCX',
      avg_volume: 1000,
      ipo_date: '2020-12-01',
    });
    expect(parsed.rejected).to.deep.equal([{ line: 4, reason: 'inception_date "2020-12-01" is not an M/D/YYYY date' }]);
    expect(parsed.ignoredColumns).to.deep.equal(['region']);
  });

  it('should name the field and the line of every bad value', () => {
    const parsed = parseSymbolsCsv(
      [
        'symbol,kind,status,expense_ratio,theme,metadata',
        'A,stock,gone,,,',
        'B,etf,,1.5,Growth,',
        'C,etf,,,,not json',
        'D,etf,,',
      ].join('\n'),
    );
    expect(parsed.rejected).to.deep.equal([
      { line: 2, reason: 'status must be active, inactive or delisted' },
      {
        line: 3,
        reason:
          'theme must be a lower-case theme name such as growth; expense_ratio must be a fraction below 1 (0.0075 is 0.75 %)',
      },
      { line: 4, reason: 'metadata must be a JSON object' },
      { line: 5, reason: 'expected 6 fields as in the header, found 4' },
    ]);
  });

  it('should refuse a file without the layout key column or with a repeated column', () => {
    expect(() => parseSymbolsCsv('name,kind\nX,stock\n')).to.throw(CsvFormatError, /tickforge layout needs a symbol column/);
    expect(() => parseSymbolsCsv('symbol,Symbol\nX,Y\n')).to.throw(CsvFormatError, /repeats symbol/);
    expect(() => parseSymbolsJson({ rows: [] })).to.throw(CsvFormatError, /array of rows/);
  });

  it('should number JSON rows from 1 and refuse rows that are not objects', () => {
    const parsed = parseSymbolsJson([{ symbol: 'A', market_cap: 5 }, 7, { symbol: 'B', market_cap: 'lots' }]);
    expect(parsed.records).to.deep.equal([{ symbol: 'A', market_cap: 5 }]);
    expect(parsed.rejected).to.deep.equal([
      { line: 2, reason: 'row is not an object' },
      { line: 3, reason: 'market_cap must be a number' },
    ]);
  });
});
