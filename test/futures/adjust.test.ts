import { expect } from 'chai';
import { buildContinuous } from '../../src/futures/continuous.js';
import { MAX_REFERENCE_LOOKBACK, NonPositivePriceError } from '../../src/futures/adjust.js';
import type { Adjustment, RollPolicy } from '../../src/futures/contract-codes.js';
import { toyContract, toySessions, type ToyContract } from '../helpers/futures.js';

function build(toys: ToyContract[], adjust: Adjustment, roll: RollPolicy = 'calendar', first = '2024-01-02') {
  const { sessionDates, sessionTs } = toySessions(first, toys[0].closes.length);
  return buildContinuous({ sessionDates, sessionTs, contracts: toys.map((t) => toyContract(t, sessionTs)), roll, adjust });
}

/**
 * Research §2.2: A rolls to B on day 4 (spread measured on day 3: A 102, B 105) and B to C on
 * day 6 (day 5: B 104, C 110).
 */
const THREE_CONTRACTS: ToyContract[] = [
  { contract: 'TTH24', deadline: 3, closes: [100, 101, 102, 103, null, null] },
  { contract: 'TTM24', deadline: 5, closes: [null, null, 105, 106, 104, 105] },
  { contract: 'TTU24', deadline: 99, closes: [null, null, null, null, 110, 111] },
];

describe('continuous futures adjustment', () => {
  it('should splice raw closes and still record both rolls when adjust is none', () => {
    const built = build(THREE_CONTRACTS, 'none');
    expect([...built.bars.close]).to.deep.equal([100, 101, 102, 106, 104, 111]);
    expect(
      built.rolls.map((r) => [
        r.rollDate,
        r.referenceDate,
        r.fromContract,
        r.toContract,
        r.fromClose,
        r.toClose,
        r.cumulativeAdjustment,
      ]),
    ).to.deep.equal([
      ['2024-01-05', '2024-01-04', 'TTH24', 'TTM24', 102, 105, null],
      ['2024-01-09', '2024-01-08', 'TTM24', 'TTU24', 104, 110, null],
    ]);
  });

  it('should reproduce the hand-computed vector when adjust is difference', () => {
    const built = build(THREE_CONTRACTS, 'difference');
    expect([...built.bars.close]).to.deep.equal([109, 110, 111, 112, 110, 111]);
    expect([...built.bars.open]).to.deep.equal([108.5, 109.5, 110.5, 111.5, 109.5, 110.5]);
    expect([...built.bars.high]).to.deep.equal([110, 111, 112, 113, 111, 112]);
    expect([...built.bars.low]).to.deep.equal([108, 109, 110, 111, 109, 110]);
    expect(built.rolls.map((r) => [r.difference, r.cumulativeAdjustment])).to.deep.equal([
      [3, 9],
      [6, 6],
    ]);
  });

  it('should reproduce the hand-computed vector when adjust is ratio', () => {
    const built = build(THREE_CONTRACTS, 'ratio');
    const expected = [108.88009, 109.968891, 111.057692, 112.115385, 110, 111];
    [...built.bars.close].forEach((close, i) => expect(close).to.be.closeTo(expected[i], 1e-6));
    const factors = [(105 / 102) * (110 / 104), (105 / 102) * (110 / 104), (105 / 102) * (110 / 104), 110 / 104, 110 / 104, 1];
    [...built.bars.high].forEach((high, i) => expect(high).to.be.closeTo((THREE_HELD_CLOSES[i] + 1) * factors[i], 1e-9));
    expect(built.rolls[0].ratio).to.be.closeTo(105 / 102, 1e-12);
    expect(built.rolls[0].cumulativeAdjustment).to.be.closeTo(factors[0], 1e-12);
    expect(built.rolls[1].cumulativeAdjustment).to.be.closeTo(110 / 104, 1e-12);
  });

  it('should turn Zipline’s raw 115011.44 into 124992.348 (ratio) and 125011.44 (difference)', () => {
    const zipline: ToyContract[] = [
      { contract: 'FOF16', deadline: 2, closes: [115011.44, 115231.44, null] },
      { contract: 'FOG16', deadline: 99, closes: [null, 125231.44, 125300] },
    ];
    const ratio = build(zipline, 'ratio');
    expect(ratio.bars.close[0]).to.be.closeTo(124992.348, 5e-4);
    expect(ratio.bars.close[2]).to.equal(125300);
    const difference = build(zipline, 'difference');
    expect(difference.bars.close[0]).to.be.closeTo(125011.44, 1e-9);
    expect(difference.rolls[0]).to.include({ fromClose: 115231.44, toClose: 125231.44, referenceDate: '2024-01-03' });
  });

  it('should give each session the held contract’s own return, with no jump at a roll', () => {
    for (const adjust of ['difference', 'ratio'] as const) {
      const built = build(THREE_CONTRACTS, adjust);
      const close = built.bars.close;
      // Day 4 is the first held in TTM24: its move from day 3 is TTM24's own 105 → 106.
      if (adjust === 'ratio') expect(close[3] / close[2]).to.be.closeTo(106 / 105, 1e-12);
      else expect(close[3] - close[2]).to.be.closeTo(106 - 105, 1e-12);
      // The newest segment is raw.
      expect(close[5]).to.equal(111);
    }
  });

  it('should never adjust volume', () => {
    const toys = THREE_CONTRACTS.map((t, k) => ({ ...t, volumes: t.closes.map((_, s) => 100 * (k + 1) + s) }));
    const built = build(toys, 'ratio');
    expect([...built.bars.volume]).to.deep.equal([100, 101, 102, 203, 204, 305]);
  });

  it('should measure the spread on an earlier session and say so when a contract has no bar on the reference session', () => {
    const toys: ToyContract[] = [
      { contract: 'TTH24', deadline: 3, closes: [100, 101, null, null] },
      { contract: 'TTM24', deadline: 99, closes: [null, 104, 105, 106] },
    ];
    const built = build(toys, 'difference');
    expect(built.rolls[0]).to.include({ referenceDate: '2024-01-03', fromClose: 101, toClose: 104, difference: 3 });
    expect(built.rolls[0].issue).to.equal(
      `TTH24 has no bar on the reference session 2024-01-04; the spread is measured on 2024-01-03, the latest session within ${MAX_REFERENCE_LOOKBACK} before it on which both closed`,
    );
    expect(built.gaps).to.deep.equal([{ contract: 'TTH24', from: '2024-01-04', to: '2024-01-04', sessions: 1 }]);
  });

  it('should leave a roll unadjusted and report it when no session near the roll has both closes', () => {
    const toys: ToyContract[] = [
      { contract: 'TTH24', deadline: 8, closes: [100, 101, null, null, null, null, null, null, null] },
      { contract: 'TTM24', deadline: 99, closes: [null, null, null, null, null, null, null, null, 106] },
    ];
    const built = build(toys, 'ratio');
    expect(built.rolls[0]).to.include({
      referenceDate: null,
      fromClose: null,
      toClose: null,
      ratio: null,
      cumulativeAdjustment: 1,
    });
    expect(built.rolls[0].issue).to.match(
      /^TTH24 and TTM24 have no bar on the reference session 2024-01-11 and no session within 5 before it has closes of both; the roll is not adjusted$/,
    );
    expect([...built.bars.close]).to.deep.equal([100, 101, 106]);
  });

  it('should report a roll date on which the new contract has no bar', () => {
    const toys: ToyContract[] = [
      { contract: 'TTH24', deadline: 2, closes: [100, 101, null, null] },
      { contract: 'TTM24', deadline: 99, closes: [103, 104, null, 106] },
    ];
    const built = build(toys, 'difference');
    expect(built.rolls[0].issue).to.equal('TTM24 has no bar on the roll date 2024-01-04');
    expect(built.gaps).to.deep.equal([{ contract: 'TTM24', from: '2024-01-04', to: '2024-01-04', sessions: 1 }]);
  });

  it('should refuse ratio adjustment when a price is not positive, naming the contract and day', () => {
    const toys: ToyContract[] = [
      { contract: 'CLK20', deadline: 2, closes: [18.5, -37.63, null] },
      { contract: 'CLM20', deadline: 99, closes: [null, 20.43, 21] },
    ];
    expect(() => build(toys, 'ratio')).to.throw(NonPositivePriceError, /CLK20 has close -37.63 on 2024-01-03/);
    expect(build(toys, 'difference').rolls[0].difference).to.be.closeTo(20.43 + 37.63, 1e-9);
  });
});

/** The closes the three-contract series holds, before adjustment. */
const THREE_HELD_CLOSES = [100, 101, 102, 106, 104, 111];
