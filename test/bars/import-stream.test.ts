import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { startProcess, type TestProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';

const START = Date.parse('2021-01-04T00:00:00Z');

/**
 * Writes `rows` valid 1-minute bars (ts of minute `first` on) to a CSV file; `price` may move a
 * row's prices, `bad` makes a row's high fall below its low.
 */
async function writeBars(
  file: string,
  first: number,
  rows: number,
  change: { price?: (i: number) => number; bad?: number } = {},
): Promise<void> {
  const out = createWriteStream(file);
  out.write('ts,open,high,low,close,volume\n');
  for (let from = first; from < first + rows; from += 10_000) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(from + 10_000, first + rows); i++) {
      const price = (change.price ?? (() => 100))(i) + (i % 500) / 100;
      const [high, low] = i === change.bad ? [price - 1, price + 1] : [price + 0.05, price - 0.05];
      lines.push(`${new Date(START + i * 60_000).toISOString()},${price},${high},${low},${price},${1000 + (i % 97)}\n`);
    }
    if (!out.write(lines.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The peak resident memory of a process so far (VmHWM), in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

describe('import-bars streaming', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let bars: BarsRepository;
  let dir: string;

  before(async () => {
    system = await TestSystem.create();
    bars = new BarsRepository(system.db, system.config.dbSchema);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-stream-'));
  });

  after(async () => {
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('in this process', () => {
    before(async () => {
      await system.startWorker();
    });

    it('should store nothing under onInvalid fail when the bad row comes after chunks already copied', async () => {
      const file = path.join(dir, 'late-bad-row.csv');
      // About 9 MB: the bad row is in the third chunk, after two were copied.
      await writeBars(file, 0, 150_000, { bad: 149_000 });
      const failure = await system
        .run('import-bars', { file, symbol: 'LATE', timeframe: '1m', onInvalid: 'fail' })
        .catch((error: Error) => error);
      expect((failure as Error).message).to.match(/1 of 150000 rows are invalid, nothing was written \(line 149002: high/);
      expect(await bars.count({ symbol: 'LATE' })).to.equal(0);
    });

    it('should copy new ranges straight in and merge overlapping ones, counting each row once', async () => {
      const first = path.join(dir, 'first.csv');
      await writeBars(first, 0, 60_000);
      const stored = await system.run('import-bars', { file: first, symbol: 'OVER', timeframe: '1m' });
      expect(stored.result).to.deep.include({ accepted: 60_000, written: 60_000, unchanged: 0 });

      // Rows 0–99,999: the first chunk overlaps what is stored (1,000 of its rows moved), the rest extends the series.
      const second = path.join(dir, 'second.csv');
      await writeBars(second, 0, 100_000, { price: (i) => (i >= 10_000 && i < 11_000 ? 101 : 100) });
      const merged = await system.run('import-bars', { file: second, symbol: 'OVER', timeframe: '1m' });
      expect(merged.result).to.deep.include({ accepted: 100_000, written: 41_000, unchanged: 59_000 });
      expect(await bars.count({ symbol: 'OVER' })).to.equal(100_000);
      const moved = await bars.range(
        { symbol: 'OVER', timeframe: '1m', variant: '' },
        new Date(START + 10_000 * 60_000),
        new Date(START + 10_001 * 60_000),
      );
      expect(moved.map((bar) => bar.open)).to.deep.equal([101]);

      const again = await system.run('import-bars', { file: second, symbol: 'OVER', timeframe: '1m' });
      expect(again.result).to.deep.include({ written: 0, unchanged: 100_000 });
      expect(await bars.count({ symbol: 'OVER' })).to.equal(100_000);
    });
  });

  describe('in a worker process', () => {
    let worker: TestProcess | undefined;

    after(async () => {
      await worker?.stop('SIGKILL');
    });

    it('should import 1.5 million 1m rows (about 95 MB) with the worker growing by less than 350 MB', async () => {
      const file = path.join(dir, 'large.csv');
      await writeBars(file, 0, 1_500_000);
      worker = startProcess('worker', system.config);
      await worker.waitForLine((line) => /serving/.test(line.msg ?? ''));
      const before = await peakRss(worker.child.pid!);
      const { result } = await system.run('import-bars', { file, symbol: 'LARGE', timeframe: '1m' }, 100_000);
      const growth = (await peakRss(worker.child.pid!)) - before;
      expect(result).to.deep.include({ accepted: 1_500_000, written: 1_500_000, rejectedCount: 0 });
      expect(await bars.count({ symbol: 'LARGE' })).to.equal(1_500_000);
      // Reading the whole file and its rows at once took well over 1 GB here.
      expect(growth, `peak RSS grew by ${Math.round(growth / 2 ** 20)} MB`).to.be.below(350 * 2 ** 20);
    });
  });
});
