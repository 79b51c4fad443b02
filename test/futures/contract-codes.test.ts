import { expect } from 'chai';
import { NYSE } from '../../src/shared/calendar.js';
import { ROOT_SPECS, missingFromCycle, parseContractCode, seriesSymbol, thirdFriday } from '../../src/futures/contract-codes.js';

describe('futures contracts', () => {
  it('should read root, month code and year from a contract code', () => {
    expect(parseContractCode('ESZ13')).to.deep.equal({ contract: 'ESZ13', root: 'ES', monthCode: 'Z', year: 2013, month: 12 });
    expect(parseContractCode('ESH2014')).to.include({ root: 'ES', year: 2014, month: 3 });
    expect(parseContractCode('M2KU24')).to.include({ root: 'M2K', monthCode: 'U', year: 2024, month: 9 });
    expect(parseContractCode('ZNZ13')).to.include({ root: 'ZN', monthCode: 'Z' });
    expect(parseContractCode('ESZ3', '202312')).to.include({ year: 2023, month: 12 });
    expect(parseContractCode('ESZ13', '2013-12')).to.include({ year: 2013 });
  });

  it('should map every month code F … Z to January … December', () => {
    expect('FGHJKMNQUVXZ'.split('').map((code) => parseContractCode(`CL${code}24`).month)).to.deep.equal([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it('should refuse a code that is not one, an ambiguous year and a contract month that disagrees', () => {
    expect(() => parseContractCode('ES13')).to.throw(RangeError, /is not a contract code/);
    expect(() => parseContractCode('ESA13')).to.throw(RangeError, /is not a contract code/);
    expect(() => parseContractCode('ESZ3')).to.throw(RangeError, /1-digit year; give contract_month/);
    expect(() => parseContractCode('ESZ13', '201403')).to.throw(RangeError, /does not match contract ESZ13/);
    expect(() => parseContractCode('ESZ13', '202312')).to.throw(RangeError, /does not match/);
    expect(() => parseContractCode('ESZ13', '2013-13')).to.throw(RangeError, /is not YYYYMM/);
  });

  it('should put ES expiry on the third Friday, or the session before when that Friday is a holiday', () => {
    expect(thirdFriday(2013, 12)).to.equal('2013-12-20');
    expect(thirdFriday(2024, 3)).to.equal('2024-03-15');
    expect(thirdFriday(2014, 3)).to.equal('2014-03-21');
    const es = ROOT_SPECS.get('ES')!;
    expect(es.expiry.lastTradeDate(2013, 12, NYSE)).to.equal('2013-12-20');
    // 2008-03-21 was Good Friday: ESH08 stopped trading on Thursday 2008-03-20.
    expect(thirdFriday(2008, 3)).to.equal('2008-03-21');
    expect(es.expiry.lastTradeDate(2008, 3, NYSE)).to.equal('2008-03-20');
  });

  it('should list the contracts of the listing cycle that a chain lacks', () => {
    const cycle = ROOT_SPECS.get('ES')!.cycle;
    expect(missingFromCycle(parseContractCode('ESZ13'), parseContractCode('ESH14'), cycle)).to.deep.equal([]);
    expect(missingFromCycle(parseContractCode('ESZ13'), parseContractCode('ESU14'), cycle)).to.deep.equal(['ESH14', 'ESM14']);
  });

  it('should name a series by root, policy, offset when not the default, and adjustment', () => {
    expect(seriesSymbol('ES', 'volume', 5, 'ratio')).to.equal('ES.c.volume.ratio');
    expect(seriesSymbol('ES', 'calendar', 3, 'none')).to.equal('ES.c.calendar3.none');
    expect(seriesSymbol('MNQ', 'open_interest', 60, 'difference')).to.equal('MNQ.c.oi60.difference');
  });
});
