import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { tableFromIPC } from 'apache-arrow';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsCache } from '../../src/bars/cache.js';
import { encodeBars } from '../../src/bars/formats.js';
import { BarsQueryService, barsQuerySchema } from '../../src/bars/query.js';
import { Store } from '../../src/store/store.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { SPY_1MIN, SPY_DAILY, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';

type Bar = Record<string, unknown>;

interface JsonAnswer {
  origin: string;
  variant: string;
  bars: Bar[];
}

/** CSV rows back into the JSON answer's bar objects. */
function fromCsv(text: string): Bar[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = header.split(',');
  return lines.map((line) => {
    const values = line.split(',');
    const bar: Bar = {};
    names.forEach((name, i) => {
      const value = values[i];
      if (name === 'ts') bar.ts = value;
      else if (name === 'filled') bar.filled = value === 'true';
      else bar[name] = value === '' ? null : Number(value);
    });
    return bar;
  });
}

/** Arrow IPC rows back into the JSON answer's bar objects. */
function fromArrow(bytes: Uint8Array): Bar[] {
  return tableFromIPC(bytes)
    .toArray()
    .map((row: { toJSON(): Bar }) => {
      const bar = row.toJSON();
      return { ...bar, ts: new Date(bar.ts as number).toISOString() };
    });
}

describe('GET /api/bars in streamed formats (ndjson, csv, arrow)', function () {
  let system: TestSystem;
  let web: WebServer;

  async function fetchBars(query: Record<string, string>, format?: string): Promise<Response> {
    const params = new URLSearchParams({ ...query, ...(format ? { format } : {}) });
    return fetch(`${web.url}/api/bars?${params}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  }

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    await system.run('aggregate-bars', { symbols: 'SPY', targets: ['5m'] });
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPYD', timeframe: '1d' });
    const [header, ...lines] = readFileSync(dataFile(SPY_1MIN), 'utf8').trim().split(/\r?\n/);
    const gappy = [header, ...lines.filter((line) => line.startsWith('2013-10-10') && !line.startsWith('2013-10-10T11:1'))];
    await system.run('import-bars', { csv: gappy.join('\n'), symbol: 'HOLE', timeframe: '1m' });
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  const cases: Array<[string, Record<string, string>]> = [
    ['a stored aggregate', { symbol: 'SPY', timeframe: '5m' }],
    ['provider 1m bars cut to the regular session', { symbol: 'SPY', timeframe: '1m', from: '2013-10-08', to: '2013-10-09' }],
    ['provider 1m bars, extended hours', { symbol: 'SPY', timeframe: '1m', session: 'extended' }],
    ['provider daily bars', { symbol: 'SPYD', timeframe: '1d', from: '2010-01-01', to: '2012-12-31' }],
    ['bars derived on the fly', { symbol: 'SPYD', timeframe: '1w', from: '2011-01-01' }],
    ['forward-filled bars', { symbol: 'HOLE', timeframe: '5m', fill: 'forward' }],
    ['an empty range', { symbol: 'SPYD', timeframe: '1d', from: '2030-01-01' }],
  ];
  for (const [what, query] of cases) {
    it(`should answer ${what} in every format with exactly the JSON answer's bars`, async () => {
      const json = (await (await fetchBars(query)).json()) as JsonAnswer;
      const ndjson = await fetchBars(query, 'ndjson');
      expect(ndjson.status).to.equal(200);
      expect(ndjson.headers.get('content-type')).to.match(/^application\/x-ndjson/);
      expect(ndjson.headers.get('x-bars-origin')).to.equal(json.origin);
      expect(ndjson.headers.get('x-bars-variant')).to.equal(json.variant);
      const lines = (await ndjson.text()).split('\n').filter(Boolean);
      expect(lines.map((line) => JSON.parse(line) as Bar)).to.deep.equal(json.bars);
      const csv = await fetchBars(query, 'csv');
      expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
      expect(fromCsv(await csv.text())).to.deep.equal(json.bars);
      const arrow = await fetchBars(query, 'arrow');
      expect(arrow.headers.get('content-type')).to.equal('application/vnd.apache.arrow.stream');
      expect(fromArrow(new Uint8Array(await arrow.arrayBuffer()))).to.deep.equal(json.bars);
    });
  }

  it('should stream a stored series in chunks of the cursor, equal to the one-document answer', async () => {
    const store = new Store(system.db, system.config.dbSchema);
    const service = new BarsQueryService(store.barsReader, new BarsCache(system.redis, system.config.prefix), { chunkRows: 97 });
    const query = barsQuerySchema.parse({ symbol: 'SPY', timeframe: '1m', session: '24h' });
    const streamed = await service.stream(query);
    if (!streamed.found) throw new Error(streamed.reason);
    let chunks = 0;
    async function* counted() {
      for await (const rows of streamed.found ? streamed.chunks : []) {
        chunks++;
        yield rows;
      }
    }
    const lines: Bar[] = [];
    for await (const text of encodeBars('ndjson', counted(), false))
      lines.push(
        ...String(text)
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Bar),
      );
    const json = (await (await fetchBars({ symbol: 'SPY', timeframe: '1m', session: '24h' })).json()) as JsonAnswer;
    expect(lines).to.deep.equal(json.bars);
    expect(chunks).to.equal(Math.ceil(json.bars.length / 97));
    // An Arrow stream of many chunks: one record batch each, every one of them delivered.
    const again = await service.stream(query);
    if (!again.found) throw new Error(again.reason);
    const bytes: Buffer[] = [];
    for await (const piece of encodeBars('arrow', again.chunks, false)) bytes.push(piece as Buffer);
    const table = tableFromIPC(Buffer.concat(bytes));
    expect(table.batches.length).to.equal(chunks);
    expect(fromArrow(Buffer.concat(bytes))).to.deep.equal(json.bars);
  });

  it('should answer 404 and 400 as the JSON answer does, and refuse an unknown format naming it', async () => {
    expect((await fetchBars({ symbol: 'NOPE', timeframe: '1h' }, 'csv')).status).to.equal(404);
    const bad = await fetchBars({ symbol: 'SPY', timeframe: '1h' }, 'xml');
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path)).to.deep.equal([
      'format',
    ]);
  });
});
