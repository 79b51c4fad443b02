import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { STALE_PARTIAL_MS } from '../../src/bars/export.js';
import { ValidationError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { SPY_1MIN, SPY_DAILY, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';

type Bar = Record<string, unknown>;

/** File rows back into the JSON answer's bar objects, grouped by symbol. */
function bySymbol(rows: Bar[]): Record<string, Bar[]> {
  const out: Record<string, Bar[]> = {};
  for (const { symbol, ts, ...bar } of rows) {
    const iso = ts instanceof Date ? ts.toISOString() : new Date(Number(ts)).toISOString();
    (out[symbol as string] ??= []).push({ ts: iso, ...bar });
  }
  return out;
}

const fromArrowFile = (file: string) =>
  bySymbol(
    tableFromIPC(readFileSync(file))
      .toArray()
      .map((row: { toJSON(): Bar }) => row.toJSON()),
  );

async function fromParquetFile(file: string): Promise<Record<string, Bar[]>> {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return bySymbol((await parquetReadObjects({ file: buffer })) as Bar[]);
}

describe('export-bars', function () {
  let system: TestSystem;
  let web: WebServer;
  let exportDir: string;

  async function jsonBars(query: Record<string, string>): Promise<Bar[]> {
    const response = await fetch(`${web.url}/api/bars?${new URLSearchParams(query)}`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(response.status).to.equal(200);
    return ((await response.json()) as { bars: Bar[] }).bars;
  }

  before(async () => {
    exportDir = mkdtempSync(path.join(os.tmpdir(), 'tickforge-exports-'));
    system = await TestSystem.create({ exportDir });
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    await system.run('aggregate-bars', { symbols: 'SPY', targets: ['5m'] });
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPYD', timeframe: '1d' });
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'QQQ', timeframe: '1m' });
  });

  after(async () => {
    await web.close();
    await system.close();
    rmSync(exportDir, { recursive: true, force: true });
  });

  it('should write an Arrow IPC file whose rows equal the JSON answer of each symbol', async () => {
    const query = { timeframe: '1m', session: 'extended', from: '2013-10-07', to: '2013-10-10' } as const;
    const { result } = await system.run('export-bars', { symbols: ['SPY', 'QQQ'], ...query });
    expect(path.dirname(result.path)).to.equal(exportDir);
    expect(result.path).to.match(/\.arrow$/);
    expect(result.bytes).to.equal(statSync(result.path).size);
    const file = fromArrowFile(result.path);
    const spy = await jsonBars({ symbol: 'SPY', ...query });
    const qqq = await jsonBars({ symbol: 'QQQ', ...query });
    expect(spy.length).to.be.greaterThan(1_000);
    expect(file.SPY).to.deep.equal(spy);
    expect(file.QQQ).to.deep.equal(qqq);
    expect(result.rows).to.equal(spy.length + qqq.length);
    expect(result.symbols.map((entry) => [entry.symbol, entry.rows, entry.origin])).to.deep.equal([
      ['SPY', spy.length, 'provider'],
      ['QQQ', qqq.length, 'provider'],
    ]);
  });

  it('should write a Parquet file whose rows equal the JSON answer, for stored, daily and forward-filled series', async () => {
    const cases: Array<Record<string, string>> = [
      { symbols: 'SPY', timeframe: '5m' },
      { symbols: 'SPYD', timeframe: '1d', from: '2010-01-01', to: '2012-12-31' },
      { symbols: 'SPY', timeframe: '15m', fill: 'forward', from: '2013-10-07', to: '2013-10-08' },
    ];
    for (const { symbols, ...query } of cases) {
      const { result } = await system.run('export-bars', { symbols, ...query, format: 'parquet' } as never);
      expect(result.path).to.match(/\.parquet$/);
      const json = await jsonBars({ symbol: symbols, ...query });
      expect(json.length).to.be.greaterThan(10);
      expect((await fromParquetFile(result.path))[symbols]).to.deep.equal(json);
      expect(result.rows).to.equal(json.length);
    }
  });

  it('should refuse a bad payload naming the field, and write nothing for a symbol with no bars', async () => {
    const refusal = await system.producer
      .enqueue('export-bars', { symbols: 'SPY', timeframe: '7m' as never, format: 'csv' as never })
      .catch((error: unknown) => error);
    expect(refusal).to.be.instanceOf(ValidationError);
    expect((refusal as ValidationError).issues.map((issue) => issue.path).sort()).to.deep.equal(['format', 'timeframe']);
    const backwards = await system.producer
      .enqueue('export-bars', { symbols: 'SPY', timeframe: '1m', from: '2013-10-09', to: '2013-10-08' })
      .catch((error: unknown) => error);
    expect((backwards as ValidationError).issues.map((issue) => issue.path)).to.deep.equal(['from']);

    const before = readdirSync(exportDir);
    const failure = await system
      .run('export-bars', { symbols: ['SPY', 'NOPE'], timeframe: '1m', session: '24h' })
      .catch((error: unknown) => error as Error);
    expect(failure).to.be.instanceOf(Error);
    expect((failure as Error).message).to.match(/^symbols\.1: no 1m bars of NOPE/);
    // SPY's rows were written before NOPE failed: neither they nor a partial file remain.
    expect(readdirSync(exportDir)).to.deep.equal(before);
  });

  it('should leave one complete file when a job runs again after an attempt died mid-write, sparing a live writer', async () => {
    const payload = { symbols: 'SPY', timeframe: '1m', session: '24h', format: 'parquet' } as const;
    const first = await system.run('export-bars', payload);
    const name = path.basename(first.result.path);
    const bytes = readFileSync(first.result.path);
    // What a worker killed mid-write leaves: a partial file beside the finished name, untouched
    // since; and one that a job exporting the same query is writing right now.
    const dead = path.join(exportDir, `${name}.0123456789ab.partial`);
    writeFileSync(dead, bytes.subarray(0, 100));
    const longAgo = new Date(Date.now() - STALE_PARTIAL_MS - 60_000);
    utimesSync(dead, longAgo, longAgo);
    const live = path.join(exportDir, `${name}.ba9876543210.partial`);
    writeFileSync(live, bytes.subarray(0, 100));
    const again = await system.run('export-bars', payload);
    expect(again.result.path).to.equal(first.result.path);
    expect(
      readdirSync(exportDir)
        .filter((file) => file.startsWith(name))
        .sort(),
    ).to.deep.equal([name, path.basename(live)]);
    expect(readFileSync(again.result.path).equals(bytes)).to.equal(true);
    rmSync(live);
  });
});
