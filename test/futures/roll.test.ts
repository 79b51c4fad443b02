import { expect } from 'chai';
import { findRolls, type ChainContract } from '../../src/futures/roll.js';

const NONE = NaN;

function contract(
  name: string,
  deadline: number,
  volume: number[],
  openInterest: number[] = volume.map(() => NONE),
): ChainContract {
  return { contract: name, deadline, volume: Float64Array.from(volume), openInterest: Float64Array.from(openInterest) };
}

const summary = (rolls: ReturnType<typeof findRolls>['rolls']) =>
  rolls.map((r) => [r.session, r.from, r.to, r.trigger, r.fallback]);

describe('roll finder', () => {
  it('should hold each contract until its deadline when the policy is calendar', () => {
    const chain = [
      contract('A', 3, [9, 9, 9, 9, 9, 9]),
      contract('B', 5, [1, 1, 1, 1, 1, 1]),
      contract('C', 99, [1, 1, 1, 1, 1, 1]),
    ];
    const schedule = findRolls(chain, 6, 'calendar');
    expect([...schedule.held]).to.deep.equal([0, 0, 0, 1, 1, 2]);
    expect(summary(schedule.rolls)).to.deep.equal([
      [3, 0, 1, 'calendar', false],
      [5, 1, 2, 'calendar', false],
    ]);
  });

  it('should roll on the session after the back contract out-trades the front, never on the same session', () => {
    // B first trades more on session 2; known at session 3's open, so the roll is session 3.
    const chain = [contract('A', 10, [100, 100, 100, 100, 100]), contract('B', 99, [10, 50, 150, 160, 170])];
    const schedule = findRolls(chain, 5, 'volume');
    expect(summary(schedule.rolls)).to.deep.equal([[3, 0, 1, 'volume', false]]);
  });

  it('should force the roll at the deadline when volume has not crossed by then', () => {
    const chain = [contract('A', 3, [100, 100, 100, 100, 100]), contract('B', 99, [1, 1, 1, 1, 1])];
    expect(summary(findRolls(chain, 5, 'volume').rolls)).to.deep.equal([[3, 0, 1, 'forced', false]]);
  });

  it('should not roll on a session whose previous session lacks either volume', () => {
    const chain = [contract('A', 99, [100, NONE, 100, 100]), contract('B', 99, [10, 500, NONE, 5])];
    expect(findRolls(chain, 4, 'volume').rolls).to.deep.equal([]);
  });

  it('should decide on open interest where both contracts report it, whatever the volume says', () => {
    const chain = [
      contract('A', 99, [100, 100, 100, 100], [500, 500, 500, 500]),
      contract('B', 99, [900, 900, 900, 900], [100, 400, 600, 700]),
    ];
    const schedule = findRolls(chain, 4, 'open_interest');
    expect(summary(schedule.rolls)).to.deep.equal([[3, 0, 1, 'open_interest', false]]);
    expect(schedule.fallbackSessions).to.deep.equal([]);
  });

  it('should fall back to volume, and list the sessions, when open interest is missing', () => {
    const chain = [
      contract('A', 99, [100, 100, 100, 100], [500, NONE, NONE, 500]),
      contract('B', 99, [10, 50, 150, 150], [100, NONE, NONE, 100]),
    ];
    const schedule = findRolls(chain, 4, 'open_interest');
    expect(summary(schedule.rolls)).to.deep.equal([[3, 0, 1, 'volume', true]]);
    expect(schedule.fallbackSessions).to.deep.equal([2, 3]);
  });

  it('should pass over contracts whose deadlines have all gone by in one roll', () => {
    const chain = [contract('A', 2, [1, 1, 1, 1]), contract('B', 2, [1, 1, 1, 1]), contract('C', 99, [1, 1, 1, 1])];
    expect(summary(findRolls(chain, 4, 'calendar').rolls)).to.deep.equal([[2, 0, 2, 'calendar', false]]);
  });

  it('should start on the first contract whose deadline lies inside the window', () => {
    const chain = [contract('A', -4, [1, 1, 1]), contract('B', 0, [1, 1, 1]), contract('C', 99, [1, 1, 1])];
    const schedule = findRolls(chain, 3, 'calendar');
    expect([...schedule.held]).to.deep.equal([2, 2, 2]);
    expect(schedule.rolls).to.deep.equal([]);
  });

  it('should never return to an earlier contract when its volume recovers', () => {
    const chain = [contract('A', 99, [100, 10, 500, 500]), contract('B', 99, [10, 100, 10, 10])];
    const schedule = findRolls(chain, 4, 'volume');
    expect([...schedule.held]).to.deep.equal([0, 0, 1, 1]);
  });
});
