import { expect } from 'chai';
import type { Knex } from 'knex';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { allocateBars, type BarColumns, type BarSource, type SeriesKey } from '../../src/bars/columns.js';
import { testConfig } from '../helpers/config.js';
import { dropSchemas, migratedDb } from '../helpers/db.js';

const KEY: SeriesKey = { symbol: 'MRG', timeframe: '1m', variant: '' };
const START = Date.UTC(2024, 2, 4, 14, 30);

/** `count` 1m bars from minute `first` on, every price `price`. */
function flat(first: number, count: number, price: number): BarColumns {
  const bars = allocateBars(count);
  for (let i = 0; i < count; i++) {
    bars.ts[i] = START + (first + i) * 60_000;
    bars.open[i] = bars.high[i] = bars.low[i] = bars.close[i] = price;
    bars.volume[i] = 100;
    bars.vwap[i] = NaN;
    bars.tradeCount[i] = NaN;
  }
  return bars;
}

/** Bars `a` then bars `b`, which must start after `a` ends. */
function joined(a: BarColumns, b: BarColumns): BarColumns {
  const bars = allocateBars(a.ts.length + b.ts.length);
  for (const column of ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'tradeCount'] as const) {
    bars[column].set(a[column]);
    bars[column].set(b[column], a.ts.length);
  }
  return bars;
}

describe('BarsRepository merge of staged bars', function () {
  const config = testConfig();
  let db: Knex;

  const upsert = (source: BarSource, bars: BarColumns) =>
    db.transaction((trx) => new BarsRepository(trx, config.dbSchema).upsertBars(KEY, source, bars));
  const stored = async () =>
    (await new BarsRepository(db, config.dbSchema).range(KEY)).map((row) => [row.ts.getTime(), row.close, row.source]);

  before(async () => {
    db = await migratedDb(config);
  });

  beforeEach(async () => {
    await new BarsRepository(db, config.dbSchema).deleteSymbols([KEY.symbol]);
  });

  after(async () => {
    await dropSchemas(db, config);
  });

  it('should count changed and new rows as written and equal ones as unchanged when stored rows overlap', async () => {
    await upsert('provider', flat(0, 100, 10));
    // Minutes 0–49 equal, 50–99 changed, 100–129 new.
    const incoming = joined(joined(flat(0, 50, 10), flat(50, 50, 11)), flat(100, 30, 12));

    expect(await upsert('provider', incoming)).to.deep.equal({ written: 80, unchanged: 50 });
    const rows = await stored();
    expect(rows).to.have.length(130);
    expect(rows.map(([, close]) => close)).to.deep.equal([
      ...Array<number>(50).fill(10),
      ...Array<number>(50).fill(11),
      ...Array<number>(30).fill(12),
    ]);
    expect(await upsert('provider', incoming)).to.deep.equal({ written: 0, unchanged: 130 });
  });

  it('should never let a fill replace a stored real bar when both share a key', async () => {
    await upsert('provider', flat(0, 10, 10));
    expect(await upsert('fill', flat(5, 10, 9))).to.deep.equal({ written: 5, unchanged: 5 });
    expect(await stored()).to.deep.equal([
      ...Array.from({ length: 10 }, (_, i) => [START + i * 60_000, 10, 'provider']),
      ...Array.from({ length: 5 }, (_, i) => [START + (10 + i) * 60_000, 9, 'fill']),
    ]);
    // A real bar replaces a fill.
    expect(await upsert('provider', flat(12, 1, 8))).to.deep.equal({ written: 1, unchanged: 0 });
    expect((await stored())[12]).to.deep.equal([START + 12 * 60_000, 8, 'provider']);
  });

  it('should leave the stored rows as they were when a staged row breaks a constraint', async () => {
    await upsert('provider', flat(0, 10, 10));
    const broken = joined(flat(0, 5, 11), flat(5, 10, 12));
    broken.low[7] = 20;

    let failure: unknown;
    await upsert('provider', broken).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.contain('bars_ohlc');
    expect(await stored()).to.deep.equal(Array.from({ length: 10 }, (_, i) => [START + i * 60_000, 10, 'provider']));
  });
});
