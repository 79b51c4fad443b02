import { expect } from 'chai';
import { phaseMeaning } from '../../src/scenarios/phase-meaning.js';

describe('phase meaning', () => {
  it('should call a fall of 35 % over 25 sessions a crash', () => {
    expect(phaseMeaning({ start: 151, end: 176, logReturn: Math.log(0.65) })).to.equal('crash');
  });

  it('should call a slow fall of 30 % over 50 sessions down, not a crash', () => {
    expect(phaseMeaning({ start: 0, end: 50, logReturn: Math.log(0.7) })).to.equal('down');
  });

  it('should call a rise up and a move under 3 % flat', () => {
    expect(phaseMeaning({ start: 0, end: 50, logReturn: Math.log(1.35) })).to.equal('up');
    expect(phaseMeaning({ start: 0, end: 50, logReturn: Math.log(0.98) })).to.equal('flat');
  });

  it('should call a phase without a return target flat', () => {
    expect(phaseMeaning({ start: 0, end: 252 })).to.equal('flat');
  });
});
