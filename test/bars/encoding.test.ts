import { expect } from 'chai';
import fc from 'fast-check';
import { BarPageError, decodeBarPage, isEmptyBarPage } from '../../src/bars/pages.js';
import { BINARY_COPY_SIGNATURE, BinaryCopyWriter, POSTGRES_EPOCH_MS } from '../../src/bars/binary-copy.js';
import { allocateBars, isoInstant } from '../../src/bars/columns.js';

/** A binary COPY page as PostgreSQL writes it for BAR_PAGE_SELECT: rows of [tsMicros, 6 doubles|null, int|null]. */
function page(rows: Array<[bigint, Array<number | null>, number | null]>): Uint8Array {
  const bytes = new Uint8Array(19 + rows.length * 98 + 2);
  const view = new DataView(bytes.buffer);
  bytes.set(BINARY_COPY_SIGNATURE);
  let at = 19;
  for (const [ts, doubles, count] of rows) {
    view.setInt16(at, 8);
    view.setInt32(at + 2, 8);
    view.setBigInt64(at + 6, ts);
    at += 14;
    for (const value of doubles) {
      view.setInt32(at, value === null ? -1 : 8);
      if (value !== null) view.setFloat64(at + 4, value);
      at += value === null ? 4 : 12;
    }
    view.setInt32(at, count === null ? -1 : 4);
    if (count !== null) view.setInt32(at + 4, count);
    at += count === null ? 4 : 8;
  }
  view.setInt16(at, -1);
  return bytes.slice(0, at + 2);
}

describe('bar encodings', () => {
  it('should format instants exactly as Date#toISOString for any millisecond of years 0000–9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        expect(isoInstant(ms)).to.equal(new Date(ms).toISOString());
      }),
      { seed: 20_261_122, numRuns: 20_000 },
    );
  });

  it('should decode a binary page with nulls into exact columns and NaN', () => {
    const ts = BigInt(Date.parse('2013-10-04T13:30:00Z') - POSTGRES_EPOCH_MS) * 1000n;
    const bars = decodeBarPage(
      page([
        [ts, [167.65, 167.7, 167.6, 0.1 + 0.2, 20_000, null], 12],
        [ts + 60_000_000n, [1, 2, 0.5, 1.5, 0, 1.25], null],
      ]),
    );
    expect(Array.from(bars.ts)).to.deep.equal([Date.parse('2013-10-04T13:30:00Z'), Date.parse('2013-10-04T13:31:00Z')]);
    expect(bars.close[0]).to.equal(0.1 + 0.2);
    expect([bars.vwap[0], bars.tradeCount[0], bars.vwap[1], bars.tradeCount[1]]).to.deep.equal([NaN, 12, 1.25, NaN]);
  });

  it('should tell a page without rows from one with rows and refuse bytes that are not a binary COPY', () => {
    expect(isEmptyBarPage(page([]))).to.equal(true);
    expect(isEmptyBarPage(new Uint8Array(0))).to.equal(true);
    expect(isEmptyBarPage(page([[0n, [1, 1, 1, 1, 1, 1], 1]]))).to.equal(false);
    expect(() => decodeBarPage(new TextEncoder().encode('1380893400000\t1\t1\t1\t1\t1\t\\N\t\\N\n'))).to.throw(
      BarPageError,
      /no binary COPY signature/,
    );
  });

  it('should write one header and one trailer around every row added and nothing when none was', () => {
    const bars = allocateBars(2);
    bars.ts.set([Date.parse('2024-03-05T14:30:00Z'), Date.parse('2024-03-05T14:35:00Z')]);
    bars.vwap.set([NaN, 2]);
    bars.tradeCount.set([NaN, 3]);
    const writer = new BinaryCopyWriter();
    expect(writer.finish()).to.have.length(0);
    writer.add({ symbol: 'SPY', timeframe: '5m', variant: 'regular' }, 'aggregate', bars);
    writer.add({ symbol: 'SPY', timeframe: '5m', variant: 'regular' }, 'fill', bars, 1, 2);
    const bytes = writer.finish();
    const view = new DataView(bytes.buffer);
    expect(Array.from(bytes.subarray(0, BINARY_COPY_SIGNATURE.length))).to.deep.equal([...BINARY_COPY_SIGNATURE]);
    expect(writer.rows).to.equal(3);
    expect(view.getInt16(19)).to.equal(12);
    expect(view.getInt16(bytes.length - 2)).to.equal(-1);
  });
});
