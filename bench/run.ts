/**
 * `npm run bench [name …]`: runs the benchmarks (all, or those named) one after another and
 * prints their figures with the baselines measured in the same run.
 */
import os from 'node:os';
import * as foundation from './foundation.bench.js';
import * as universes from './universes.bench.js';
import * as scenario from './scenario.bench.js';
import * as bars from './bars.bench.js';
import * as patterns from './patterns.bench.js';

interface Bench {
  name: string;
  run(): Promise<void>;
}

const BENCHES: Bench[] = [foundation, bars, universes, scenario, patterns];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHES.some((bench) => bench.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(
  `tickforge benchmarks — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}\n`,
);
for (const bench of BENCHES) {
  if (wanted.length === 0 || wanted.includes(bench.name)) await bench.run();
}
