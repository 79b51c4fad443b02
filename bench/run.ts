/**
 * `npm run bench [name …] [--json FILE] [--compare FILE] [--margin SHARE] [--from FILE]`:
 * runs the benchmarks (all, or those named) one after another and prints their figures with the
 * baselines measured in the same run. `--json` writes every figure to FILE; `--compare` checks
 * every ratio against a reference run written by `--json` and exits 1 when one fell by more
 * than the margin; `--from` takes the figures of a run saved with `--json` instead of running.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { compareRuns, DEFAULT_MARGIN, describeComparison, readRun, writeRun, type BenchRun } from './compare.js';
import { beginBench, recordedFigures } from './report.js';

interface Bench {
  run(): Promise<void>;
}

/** Every benchmark by name, in running order; loaded only when it runs. */
const BENCHES: Record<string, () => Promise<Bench>> = {
  foundation: () => import('./foundation.bench.js'),
  queue: () => import('./queue.bench.js'),
  bars: () => import('./bars.bench.js'),
  universes: () => import('./universes.bench.js'),
  scenario: () => import('./scenario.bench.js'),
  patterns: () => import('./patterns.bench.js'),
  analytics: () => import('./analytics.bench.js'),
  ws: () => import('./ws.bench.js'),
  scaling: () => import('./scaling.bench.js'),
  stream: () => import('./stream.bench.js'),
};

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run bench -- [name …] [--json FILE] [--compare FILE] [--margin SHARE] [--from FILE]\n`,
  );
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        compare: { type: 'string' },
        margin: { type: 'string', default: String(DEFAULT_MARGIN) },
        from: { type: 'string' },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
}

const args = parse();
const wanted = args.positionals;
const margin = Number(args.values.margin);
if (!(margin > 0 && margin < 1))
  usage(`--margin must be a share between 0 and 1 (0.2 = a fall of 20 %), got ${args.values.margin}`);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) usage(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
if (args.values.from && wanted.length > 0) usage('--from compares a saved run: name no benchmark with it');

const readOrExit = (file: string) =>
  readRun(file).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  });

let run: BenchRun;
if (args.values.from) {
  run = await readOrExit(args.values.from);
  process.stdout.write(`figures of ${args.values.from} (${run.startedAt}, ${run.machine})\n`);
} else {
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`;
  const startedAt = new Date().toISOString();
  process.stdout.write(`tickforge benchmarks — node ${process.version}, ${machine}, ${startedAt}\n`);
  for (const [name, load] of Object.entries(BENCHES)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    beginBench(name);
    await (await load()).run();
  }
  run = { node: process.version, machine, startedAt, figures: recordedFigures() };
  if (args.values.json) {
    await writeRun(args.values.json, run);
    process.stdout.write(`\n${run.figures.length} figures written to ${args.values.json}\n`);
  }
}
if (args.values.compare) {
  const reference = await readOrExit(args.values.compare);
  const comparison = compareRuns(reference.figures, run.figures, margin);
  process.stdout.write(describeComparison(comparison, margin));
  if (comparison.regressions.length > 0) process.exitCode = 1;
}
