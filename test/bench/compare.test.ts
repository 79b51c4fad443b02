import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { compareRuns, writeRun, type BenchRun } from '../../bench/compare.js';
import type { RecordedFigure } from '../../bench/report.js';

const run = promisify(execFile);

const figure = (what: string, ratio?: number): RecordedFigure => ({
  bench: 'bars',
  section: 'bars: kernel',
  what,
  value: 100,
  unit: 'rows/s',
  ...(ratio === undefined ? {} : { baseline: { what: 'polars', value: 100 / ratio }, ratio }),
});

const benchRun = (figures: RecordedFigure[]): BenchRun => ({
  node: process.version,
  machine: 'test',
  startedAt: new Date().toISOString(),
  figures,
});

describe('benchmark comparison', () => {
  it('should find a regression when a ratio falls by more than the margin and none when it falls by less', () => {
    const reference = [figure('1m→5m', 2.0), figure('1m→1h', 3.0), figure('rows without baseline')];
    const current = [figure('1m→5m', 1.5), figure('1m→1h', 2.7), figure('rows without baseline')];
    const comparison = compareRuns(reference, current, 0.2);
    expect(comparison.compared.map((change) => [change.key, Number(change.change.toFixed(3))])).to.deep.equal([
      ['bars › bars: kernel › 1m→5m', -0.25],
      ['bars › bars: kernel › 1m→1h', -0.1],
    ]);
    expect(comparison.regressions.map((change) => change.key)).to.deep.equal(['bars › bars: kernel › 1m→5m']);
    expect(compareRuns(reference, current, 0.3).regressions).to.deep.equal([]);
  });

  it('should list figures the reference has and this run did not measure without failing on them', () => {
    const comparison = compareRuns([figure('1m→5m', 2.0), figure('1m→1d', 2.0)], [figure('1m→5m', 2.1)], 0.2);
    expect(comparison.notMeasured).to.deep.equal(['bars › bars: kernel › 1m→1d']);
    expect(comparison.regressions).to.deep.equal([]);
  });

  describe('npm run bench -- --compare', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-bench-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const bench = (...args: string[]) =>
      run(process.execPath, ['dist/bench/run.js', ...args]).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    it('should exit 1 naming the figure when a saved run regressed against the reference, and 0 when it did not', async () => {
      const reference = path.join(dir, 'reference.json');
      const slower = path.join(dir, 'slower.json');
      const steady = path.join(dir, 'steady.json');
      await writeRun(reference, benchRun([figure('1m→5m', 2.0)]));
      await writeRun(slower, benchRun([figure('1m→5m', 1.2)]));
      await writeRun(steady, benchRun([figure('1m→5m', 1.9)]));
      const failed = await bench('--from', slower, '--compare', reference);
      expect(failed.code).to.equal(1);
      expect(failed.stdout).to.match(/REGRESSION {2}bars › bars: kernel › 1m→5m: ratio 1\.20× \(reference 2\.00×, -40\.0 %\)/);
      const passed = await bench('--from', steady, '--compare', reference);
      expect(passed.code).to.equal(0);
      expect(passed.stdout).to.include('1 ratios compared, 0 regressions');
      expect((await bench('--from', slower, '--compare', reference, '--margin', '0.5')).code).to.equal(0);
    });

    it('should refuse a reference that is not a saved run and a margin that is not a share', async () => {
      const wrong = path.join(dir, 'wrong.json');
      await writeRun(wrong, { figures: 'none' } as unknown as BenchRun);
      const refused = await bench('--from', wrong, '--compare', wrong);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.match(/is not a benchmark run written by --json: node: /);
      const margin = await bench('--from', wrong, '--margin', '20');
      expect(margin.code).to.equal(2);
      expect(margin.stderr).to.include('--margin must be a share between 0 and 1');
    });
  });
});
