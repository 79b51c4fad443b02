/**
 * TA-Lib C as a test-only reference: the C sources of the `talib` npm package 2.0.5, fetched
 * with `npm pack` (the ordinary registry client, its integrity pinned below) and compiled with
 * gcc together with `talib/reference.c` into a small program that the tests and the patterns
 * benchmark run over the same bars as the TypeScript kernels.
 *
 * Why not a devDependency: the package's install script builds a native addon with node-gyp
 * and fails on this platform (its prebuilt archives lack an index), which would break `npm ci`;
 * it is also slow. Compiling only the candlestick functions takes seconds, and the program is
 * cached in the system's temp directory under a hash of its inputs, so it is built once per
 * machine.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OhlcColumns } from '../../src/patterns/candles.js';

const run = promisify(execFile);

const PACKAGE = 'talib@2.0.5';
const INTEGRITY = 'sha512-ktcijX0YpO9+tNbsb4j7IMEHpIEzweEJppm6q8WEEKNr7OxTDjgUcN+PovFBOTGFi0aZSU792yHfRw/2+LUm3g==';
const LIB = 'package/src/lib';

/** The candlestick functions the reference program runs, by tickforge's pattern key. */
export const TALIB_CANDLESTICKS = [
  'cdl2crows',
  'cdl3blackcrows',
  'cdl3inside',
  'cdl3outside',
  'cdl3whitesoldiers',
  'cdldarkcloudcover',
  'cdldoji',
  'cdldojistar',
  'cdldragonflydoji',
  'cdlengulfing',
  'cdleveningstar',
  'cdlgravestonedoji',
  'cdlhammer',
  'cdlhangingman',
  'cdlharami',
  'cdlharamicross',
  'cdlinvertedhammer',
  'cdlmarubozu',
  'cdlmorningstar',
  'cdlpiercing',
  'cdlshootingstar',
  'cdlspinningtop',
] as const;

const DRIVER = fileURLToPath(new URL('../../../test/patterns/talib/reference.c', import.meta.url));
const CACHE = path.join(os.tmpdir(), 'tickforge-talib-2.0.5');

/** The package tarball, fetched once and checked against the registry's integrity. */
async function tarball(): Promise<string> {
  const file = path.join(CACHE, 'talib-2.0.5.tgz');
  if (!existsSync(file)) {
    await mkdir(CACHE, { recursive: true });
    const staging = await mkdtemp(path.join(CACHE, 'pack-'));
    await run('npm', ['pack', PACKAGE, '--silent', '--pack-destination', staging], { cwd: staging, timeout: 300_000 });
    await rename(path.join(staging, 'talib-2.0.5.tgz'), file);
    await rm(staging, { recursive: true, force: true });
  }
  const digest = `sha512-${createHash('sha512')
    .update(await readFile(file))
    .digest('base64')}`;
  if (digest !== INTEGRITY) throw new Error(`${file} is not ${PACKAGE} (integrity ${digest})`);
  return file;
}

const sourceFiles = (): string[] => [
  ...TALIB_CANDLESTICKS.map((name) => `${LIB}/src/ta_func/ta_${name.toUpperCase()}.c`),
  `${LIB}/src/ta_func/ta_utility.c`,
  `${LIB}/src/ta_common/ta_global.c`,
];

let built: Promise<string> | undefined;

/** The compiled reference program (built on first use, then cached on disk). */
export function talibReference(): Promise<string> {
  built ??= build();
  return built;
}

async function build(): Promise<string> {
  const driver = await readFile(DRIVER);
  const key = createHash('sha256').update(INTEGRITY).update(driver).digest('hex').slice(0, 16);
  const program = path.join(CACHE, `reference-${key}`);
  if (existsSync(program)) return program;
  const work = await mkdtemp(path.join(os.tmpdir(), 'tickforge-talib-build-'));
  try {
    await run('tar', ['xzf', await tarball(), '-C', work, `${LIB}/include`, `${LIB}/src/ta_common`, `${LIB}/src/ta_func`]);
    const lib = path.join(work, LIB);
    const output = path.join(work, 'reference');
    // -ffp-contract=off: no fused multiply-add, so every comparison rounds as IEEE double
    // arithmetic does in JavaScript.
    await run(
      'gcc',
      [
        '-O2',
        '-ffp-contract=off',
        '-w',
        `-I${lib}/include`,
        `-I${lib}/src/ta_common`,
        `-I${lib}/src/ta_func`,
        ...sourceFiles().map((file) => path.join(work, file)),
        DRIVER,
        '-lm',
        '-o',
        output,
      ],
      { timeout: 300_000 },
    );
    await rename(output, program);
    return program;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** TA-Lib's output per function over several series, and its fastest timing per function. */
export interface ReferenceRun {
  /** Per function: one value per bar of the concatenated series, 0 on lookback bars. */
  values: Map<string, Int32Array>;
  /** Per function: the fastest of `repeats` passes over all series, in CPU seconds. */
  seconds: Map<string, number>;
}

/** Runs TA-Lib's functions over each series (separately, as one call per series). */
export async function runTalib(series: readonly OhlcColumns[], names: readonly string[], repeats = 0): Promise<ReferenceRun> {
  const program = await talibReference();
  const total = series.reduce((sum, one) => sum + one.close.length, 0);
  const header = new Int32Array([series.length, ...series.map((one) => one.close.length)]);
  const columns = new Float64Array(4 * total);
  let offset = 0;
  for (const one of series) {
    columns.set(one.open, offset);
    columns.set(one.high, total + offset);
    columns.set(one.low, 2 * total + offset);
    columns.set(one.close, 3 * total + offset);
    offset += one.close.length;
  }
  const input = Buffer.concat([new Uint8Array(header.buffer), new Uint8Array(columns.buffer)]);
  const work = await mkdtemp(path.join(os.tmpdir(), 'tickforge-talib-run-'));
  try {
    await writeFile(path.join(work, 'in'), input);
    const { stdout } = await run(program, [path.join(work, 'in'), path.join(work, 'out'), String(repeats), ...names], {
      timeout: 600_000,
    });
    const output = await readFile(path.join(work, 'out'));
    const values = new Map<string, Int32Array>();
    names.forEach((name, k) => {
      values.set(
        name,
        new Int32Array(output.buffer.slice(output.byteOffset + 4 * total * k, output.byteOffset + 4 * total * (k + 1))),
      );
    });
    const seconds = new Map<string, number>();
    for (const line of stdout.trim().split('\n')) {
      const [name, value] = line.split(' ');
      seconds.set(name, Number(value));
    }
    return { values, seconds };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
