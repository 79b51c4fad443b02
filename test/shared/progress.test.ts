import { expect } from 'chai';
import { estimateCompletion, payloadSymbol, payloadSymbols, progressOf } from '../../src/queues/progress.js';
import { compareStreamIds, jobEventOfEntry, messageKind, withSubscription } from '../../src/api/realtime/job-messages.js';

describe('job progress', () => {
  it('should estimate completion from the rate so far', () => {
    const start = Date.parse('2024-01-02T00:00:00Z');
    expect(estimateCompletion(start, start + 10_000, 25)).to.equal('2024-01-02T00:00:40.000Z');
    expect(estimateCompletion(start, start + 10_000, 0)).to.equal(null);
    expect(estimateCompletion(start, start + 10_000, 100)).to.equal('2024-01-02T00:00:10.000Z');
  });

  it('should read a bare percentage, a full progress and anything else', () => {
    expect(progressOf(40)).to.deep.equal({ progressPercent: 40, currentStep: null, symbol: null, estimatedCompletion: null });
    const full = { progressPercent: 5, currentStep: 'read', symbol: 'SPY', estimatedCompletion: '2024-01-02T00:00:00.000Z' };
    expect(progressOf(full)).to.deep.equal(full);
    expect(progressOf({ progressPercent: 5, currentStep: 7 })).to.include({ currentStep: null });
    expect(progressOf('half')).to.include({ progressPercent: 0 });
  });

  it('should find the symbols a payload names', () => {
    expect(payloadSymbol({ symbol: 'SPY' })).to.equal('SPY');
    expect(payloadSymbol({ symbols: 'QQQ' })).to.equal('QQQ');
    expect(payloadSymbol({ symbols: ['IWM'] })).to.equal('IWM');
    expect(payloadSymbol({ symbols: ['A', 'B'] })).to.equal(null);
    expect(payloadSymbol(null)).to.equal(null);
    expect(payloadSymbols({ symbols: ['A', 3, 'B'] })).to.deep.equal(['A', 'B']);
    expect(payloadSymbols({ symbol: 'A' })).to.deep.equal(['A']);
    expect(payloadSymbols({})).to.deep.equal([]);
  });
});

describe('WebSocket job messages', () => {
  it('should name each job kind’s message family', () => {
    expect(messageKind('import-bars')).to.equal('historical_data');
    expect(messageKind('aggregate-bars')).to.equal('aggregation');
    expect(messageKind('retired-job')).to.equal('retired_job');
  });

  it('should read BullMQ’s event stream entries', () => {
    expect(jobEventOfEntry(['event', 'progress', 'jobId', '7', 'data', '{"progressPercent":3}'])).to.deep.equal({
      jobId: '7',
      event: { type: 'progress', data: { progressPercent: 3 } },
    });
    expect(jobEventOfEntry(['event', 'completed', 'jobId', '7', 'returnvalue', '{"ok":true}'])!.event).to.deep.equal({
      type: 'completed',
      returnvalue: { ok: true },
    });
    expect(jobEventOfEntry(['event', 'failed', 'jobId', '7', 'failedReason', 'boom'])!.event).to.deep.equal({
      type: 'failed',
      failedReason: 'boom',
    });
    expect(jobEventOfEntry(['event', 'waiting', 'jobId', '7'])).to.equal(null);
    expect(jobEventOfEntry(['event', 'drained'])).to.equal(null);
  });

  it('should order stream ids by time, then sequence', () => {
    expect(compareStreamIds('1700000000000-1', '1700000000000-0')).to.equal(1);
    expect(compareStreamIds('999-5', '1000-0')).to.equal(-1);
    expect(compareStreamIds('5-5', '5-5')).to.equal(0);
  });

  it('should put the subscription first in a shared message', () => {
    expect(JSON.parse(withSubscription('{"type":"x","id":"1-0"}', 'sub "a"'))).to.deep.equal({
      subscription: 'sub "a"',
      type: 'x',
      id: '1-0',
    });
  });
});
