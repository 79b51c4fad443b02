import { expect } from 'chai';
import { Sketch } from '../../src/metrics/sketch.js';
import {
  mergeStored,
  SlotRecorder,
  Tally,
  windowMs,
  windowSlots,
  type Mergeable,
  type SlotEntry,
  type WindowName,
} from '../../src/metrics/windows.js';

const NOW = Date.UTC(2025, 2, 3, 14, 7, 42, 500);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** What a reader of the window ending at NOW merges: the stored entries whose slot lies in it. */
function readWindow<T extends Mergeable>(entries: SlotEntry<Mergeable>[], window: WindowName, create: () => T) {
  const slots = new Set(windowSlots(window, NOW));
  const stored = entries
    .filter((entry) => entry.window === window && slots.has(entry.slot))
    .map((entry) => ({ series: entry.series, text: entry.value.serialize() }));
  return mergeStored(stored, create);
}

describe('windows', () => {
  it('should cover each window with slots that end in the open one', () => {
    for (const window of ['5m', '1h', '24h'] as const) {
      const slots = windowSlots(window, NOW);
      const last = slots[slots.length - 1];
      expect(last).to.be.at.most(NOW);
      expect(NOW - last).to.be.below(windowMs(window) / slots.length);
      expect(last - slots[0] + windowMs(window) / slots.length).to.equal(windowMs(window));
    }
  });

  it('should count a sample in every window that reaches back to it and in none that does not', () => {
    const recorder = new SlotRecorder(Sketch.empty);
    recorder.add('api:GET /api/bars', NOW - 3 * 60 * MINUTE, (sketch) => sketch.record(500));
    recorder.add('api:GET /api/bars', NOW - 20 * MINUTE, (sketch) => sketch.record(50));
    recorder.add('api:GET /api/bars', NOW - 30 * SECOND, (sketch) => sketch.record(5));
    const entries = recorder.takeChanged();
    const count = (window: WindowName) => readWindow(entries, window, Sketch.empty).get('api:GET /api/bars')?.sampleCount;
    expect(count('5m')).to.equal(1);
    expect(count('1h')).to.equal(2);
    expect(count('24h')).to.equal(3);
    expect(readWindow(entries, '1h', Sketch.empty).get('api:GET /api/bars')?.stat()).to.deep.include({ min: 5, max: 50 });
  });

  it('should hand over only the slots changed since the last flush, each with all it holds', () => {
    const recorder = new SlotRecorder(() => new Tally());
    recorder.add('requests:web', NOW, (tally) => tally.add());
    recorder.add('requests:web', NOW + 1, (tally) => tally.add(2));
    const first = recorder.takeChanged();
    expect(first.map((entry) => [entry.window, entry.value.count])).to.deep.equal([
      ['5m', 3],
      ['1h', 3],
      ['24h', 3],
    ]);
    expect(recorder.takeChanged()).to.deep.equal([]);
    recorder.add('requests:web', NOW + 2, (tally) => tally.add());
    // The slot is rewritten whole: a writer that overwrites its stored value stays exact.
    expect(recorder.takeChanged().map((entry) => entry.value.count)).to.deep.equal([4, 4, 4]);
  });

  it('should add the slots of several processes together when a window is read', () => {
    const processes = [new SlotRecorder(Sketch.empty), new SlotRecorder(Sketch.empty)];
    processes[0].add('job.duration:import-bars', NOW - 90 * SECOND, (sketch) => sketch.record(100));
    processes[1].add('job.duration:import-bars', NOW - 10 * SECOND, (sketch) => sketch.record(300));
    processes[1].add('job.duration:warm-cache', NOW, (sketch) => sketch.record(7));
    const figures = readWindow(
      processes.flatMap((recorder) => recorder.takeChanged()),
      '5m',
      Sketch.empty,
    );
    expect(figures.get('job.duration:import-bars')?.stat()).to.deep.include({ min: 100, max: 300, mean: 200, sampleCount: 2 });
    expect(figures.get('job.duration:warm-cache')?.sampleCount).to.equal(1);
  });

  it('should refuse stored text that is not a tally', () => {
    expect(() => new Tally().mergeSerialized('-2')).to.throw(TypeError, /not a stored tally/);
    expect(new Tally().mergeSerialized('12').mergeSerialized('3').count).to.equal(15);
  });
});
