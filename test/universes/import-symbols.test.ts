import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { defaultEtfFunds } from '../../src/universes/universes.js';
import { SP500_CONSTITUENTS, US_ETFS, dataFile } from '../helpers/data.js';
import { readConstituents, readEtfs } from '../helpers/sp500.js';
import { TestSystem } from '../helpers/system.js';

interface ImportResult {
  layout: string;
  rowsRead: number;
  inserted: number;
  updated: number;
  unchanged: number;
  ignoredColumns: string[];
}

describe('import-symbols job', function () {
  let system: TestSystem;
  let dir: string;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-symbols-'));
  });

  after(async () => {
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('should load the S&P 500 constituents with shares outstanding derived as market cap / price', async () => {
    const rows = readConstituents();
    const { result } = await system.run('import-symbols', { file: dataFile(SP500_CONSTITUENTS) });
    expect(result).to.deep.include({ layout: 'sp500-constituents', rowsRead: rows.length, inserted: rows.length, updated: 0 });
    expect((result as ImportResult).ignoredColumns).to.include.members(['Price/Earnings', 'EBITDA', 'SEC Filings']);
    expect((result as ImportResult).ignoredColumns).to.not.include.members(['Symbol', 'Price', 'Market Cap']);

    for (const row of [rows[0], rows.find((r) => r.Symbol === 'BRK.B')!]) {
      const stored = await system.db('symbols').where({ symbol: row.Symbol }).first();
      expect(stored).to.include({
        name: row.Name,
        sector: row.Sector,
        kind: 'stock',
        status: 'active',
        market_cap: Number(row['Market Cap']),
      });
      expect(stored.shares_outstanding).to.be.closeTo(Number(row['Market Cap']) / Number(row.Price), 1e-3);
    }
    const again = await system.run('import-symbols', { file: dataFile(SP500_CONSTITUENTS) });
    expect(again.result).to.deep.include({ inserted: 0, updated: 0, unchanged: rows.length });
  });

  it('should load the US ETF file: E-notation AUM, fractional expense ratios, blanks kept unknown, seeded funds filled in', async () => {
    const rows = readEtfs();
    const seeded = new Set(defaultEtfFunds().map((fund) => fund.symbol));
    const seededInFile = rows.filter((row) => seeded.has(row.fund_symbol)).length;
    const { result } = await system.run('import-symbols', { file: dataFile(US_ETFS) });
    expect(result).to.deep.include({
      layout: 'us-etfs',
      rowsRead: rows.length,
      inserted: rows.length - seededInFile,
      updated: seededInFile,
    });

    const vxus = rows.find((row) => row.fund_symbol === 'VXUS')!;
    expect(vxus.total_net_assets).to.match(/E\+/);
    const stored = await system.db('symbols').where({ symbol: 'VXUS' }).first();
    expect(stored).to.include({
      kind: 'etf',
      aum: Number(vxus.total_net_assets),
      expense_ratio: Number(vxus.fund_annual_report_net_expense_ratio),
      avg_volume: Number(vxus.avg_vol_3month),
      exchange: vxus.exchange_code,
      name: 'Vanguard Total International Stock ETF',
    });
    expect(stored.metadata).to.deep.equal({
      fund_category: vxus.fund_category,
      investment_type: vxus.investment_type,
      asset_bonds: Number(vxus.asset_bonds),
    });
    expect(stored.theme).to.equal('international');
    const [month, day, year] = vxus.inception_date.split('/');
    const ipo = await system.db.raw<{ rows: Array<{ ipo: string }> }>(
      `SELECT to_char(ipo_date, 'YYYY-MM-DD') AS ipo FROM symbols WHERE symbol = 'VXUS'`,
    );
    expect(ipo.rows[0].ipo).to.equal(`${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`);

    const blank = rows.find((row) => row.total_net_assets === '')!;
    expect((await system.db('symbols').where({ symbol: blank.fund_symbol }).first()).aum).to.equal(null);
  });

  it('should keep stored values a later row leaves blank and take the ones it gives', async () => {
    await system.run('import-symbols', { csv: 'symbol,kind,aum,expense_ratio,theme\nZZETF,etf,2500000000,0.002,growth\n' });
    const { result } = await system.run('import-symbols', { csv: 'symbol,aum,expense_ratio\nZZETF,,0.003\n' });
    expect(result).to.deep.include({ layout: 'tickforge', updated: 1 });
    expect(await system.db('symbols').where({ symbol: 'ZZETF' }).first()).to.include({
      kind: 'etf',
      aum: 2_500_000_000,
      expense_ratio: 0.003,
      theme: 'growth',
    });
  });

  it('should write nothing and list every bad row by line and reason when any row is invalid', async () => {
    const csv = [
      'symbol,kind,market_cap,ipo_date,expense_ratio,colour',
      'GOOD1,stock,1000,2020-01-02,,red',
      'GOOD2,bond,1000,,,blue',
      'GOOD3,stock,-5,2020-02-30,,green',
      'GOOD1,stock,1000,,0.75,red',
      'bad symbol!,stock,,,,',
    ].join('\n');
    const failure = await system.run('import-symbols', { csv }).catch((error: Error) => error);
    const message = (failure as Error).message;
    expect(message).to.match(/4 of 5 rows are invalid, nothing was written/);
    expect(message).to.include('line 3: kind must be stock, etf, future or index');
    expect(message).to.include('line 4: market_cap must be >= 0; ipo_date must be a calendar date');
    expect(message).to.include('line 5: symbol GOOD1 repeats line 2');
    expect(message).to.include('line 6: symbol must be 1-32 characters');
    expect(await system.db('symbols').whereIn('symbol', ['GOOD1', 'GOOD2', 'GOOD3'])).to.deep.equal([]);
  });

  it('should read a gzip JSON file and rows, listing the fields it does not know', async () => {
    const file = path.join(dir, 'symbols.json.gz');
    await writeFile(file, gzipSync(JSON.stringify({ symbols: [{ symbol: 'JSN1', kind: 'index', colour: 'red' }] })));
    const fromFile = await system.run('import-symbols', { file });
    expect(fromFile.result).to.deep.include({ inserted: 1, ignoredColumns: ['colour'] });
    const fromRows = await system.run('import-symbols', { rows: [{ symbol: 'JSN2', market_cap: '12.5e9', status: 'inactive' }] });
    expect(fromRows.result).to.deep.include({ inserted: 1, ignoredColumns: [] });
    expect(await system.db('symbols').where({ symbol: 'JSN2' }).first()).to.include({
      market_cap: 12.5e9,
      status: 'inactive',
      kind: 'stock',
    });
  });

  it('should refuse a payload with two sources before it reaches a queue', async () => {
    const failure = await system.producer
      .enqueue('import-symbols', { csv: 'symbol\nA', rows: [{ symbol: 'A' }] })
      .catch((error: Error) => error);
    expect((failure as Error).message).to.match(/file: give exactly one of file, csv or rows/);
  });
});
