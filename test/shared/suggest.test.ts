import { expect } from 'chai';
import { suggestTimeframe, timeframeSchema } from '../../src/bars/timeframes.js';
import { UnknownJobError } from '../../src/shared/errors.js';
import { closestMatch, sameButCase } from '../../src/shared/suggest.js';
import { JOB_NAMES } from '../../src/queues/registry.js';

describe('did you mean', () => {
  it('should suggest the stored symbol that differs only in case, and nothing for another symbol', () => {
    expect(sameButCase('spy', ['QQQ', 'SPY'])).to.equal('SPY');
    expect(sameButCase('SPX', ['QQQ', 'SPY'])).to.equal(undefined);
    expect(sameButCase('SPY', ['SPY'])).to.equal(undefined);
  });

  it('should suggest a near name and nothing for a far one', () => {
    expect(closestMatch('import-bar', JOB_NAMES)).to.equal('import-bars');
    expect(closestMatch('IMPORT-BARS', JOB_NAMES)).to.equal('import-bars');
    expect(closestMatch('launch-rockets', JOB_NAMES)).to.equal(undefined);
    expect(closestMatch('1x', ['1m', '1h'])).to.equal(undefined);
  });

  it('should read the usual spellings of a timeframe as the one tickforge writes', () => {
    const cases: Record<string, string | undefined> = {
      '1H': '1h',
      '60m': '1h',
      '1hour': '1h',
      '4 hours': '4h',
      '240min': '4h',
      '1D': '1d',
      '1day': '1d',
      '1W': '1w',
      '1mo': '1M',
      '1month': '1M',
      '1min': '1m',
      '15Min': '15m',
      '3h': undefined,
      daily: undefined,
    };
    for (const [written, meant] of Object.entries(cases)) expect(suggestTimeframe(written), written).to.equal(meant);
  });

  it('should name the suggestion in the timeframe schema and the unknown-job error', () => {
    const refused = timeframeSchema.safeParse('1hour');
    expect(refused.error?.issues[0].message).to.match(/^must be one of 1m, 5m, .*, 1M; did you mean 1h\?$/);
    expect(timeframeSchema.safeParse('3h').error?.issues[0].message).to.not.match(/did you mean/);
    expect(new UnknownJobError('import-bar', JOB_NAMES).message).to.match(
      /^unknown job "import-bar"; did you mean import-bars\?; known jobs: /,
    );
  });
});
