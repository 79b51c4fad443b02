/**
 * Pattern detection over the five-year S&P 500 daily file (~619 k bars, 505 series), one
 * thread: the TA-Lib candlestick set against TA-Lib's C code on the same bars (the limit to
 * approach), the candlesticks the `technicalindicators` package also has against its functions
 * (the peer a Node user would pick), and every pattern together. The kernels' output is checked
 * bar by bar against TA-Lib's before anything is timed. Times are CPU time, on both sides.
 */
import technicalindicators from 'technicalindicators';
import { candlesOf, type Candles } from '../src/patterns/candles.js';
import { CANDLESTICK_KEYS, CANDLESTICKS, type CandlestickKey } from '../src/patterns/candlesticks.js';
import { PATTERN_KEYS } from '../src/patterns/catalog.js';
import { detectPatterns } from '../src/patterns/detect.js';
import { readSp500Daily } from '../test/patterns/daily-files.js';
import { runTalib } from '../test/patterns/talib.js';
import { report, section } from './report.js';

export const name = 'patterns';

const ROUNDS = 5;

type PeerInput = { open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array };
type PeerFunction = (input: PeerInput) => boolean;
const peer = technicalindicators as unknown as Record<string, PeerFunction>;

/** The technicalindicators functions that look for the same pattern as a TA-Lib key. */
const PEER_FUNCTIONS: Partial<Record<CandlestickKey, string[]>> = {
  cdl3blackcrows: ['threeblackcrows'],
  cdl3whitesoldiers: ['threewhitesoldiers'],
  cdldarkcloudcover: ['darkcloudcover'],
  cdldoji: ['doji'],
  cdldragonflydoji: ['dragonflydoji'],
  cdlengulfing: ['bullishengulfingpattern', 'bearishengulfingpattern'],
  cdleveningstar: ['eveningstar'],
  cdlgravestonedoji: ['gravestonedoji'],
  cdlhammer: ['hammerpattern'],
  cdlhangingman: ['hangingman'],
  cdlharami: ['bullishharami', 'bearishharami'],
  cdlharamicross: ['bullishharamicross', 'bearishharamicross'],
  cdlinvertedhammer: ['bullishinvertedhammerstick', 'bearishinvertedhammerstick'],
  cdlmarubozu: ['bullishmarubozu', 'bearishmarubozu'],
  cdlmorningstar: ['morningstar'],
  cdlpiercing: ['piercingline'],
  cdlshootingstar: ['shootingstar'],
  cdlspinningtop: ['bullishspinningtop', 'bearishspinningtop'],
};

/** The peer needs up to 5 candles; earlier bars are skipped (it warns on them). */
const PEER_FIRST_BAR = 4;

/** CPU seconds of `work`: like TA-Lib's figures, unaffected by other processes on a busy machine. */
function cpuSeconds(work: () => void): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1e6;
}

function bestSeconds(rounds: number, work: () => void): number {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) best = Math.min(best, cpuSeconds(work));
  return best;
}

/** Fails the benchmark unless every kernel equals TA-Lib on every bar. */
function checkAgainstTalib(candles: Candles[], outputs: Int32Array[], values: Map<string, Int32Array>): void {
  for (const key of CANDLESTICK_KEYS) {
    const expected = values.get(key)!;
    let offset = 0;
    candles.forEach((series, s) => {
      CANDLESTICKS[key].run(series, outputs[s]);
      for (let i = 0; i < outputs[s].length; i++) {
        if (outputs[s][i] !== expected[offset + i]) {
          throw new Error(`${key} differs from TA-Lib on series ${s} bar ${i}: ${outputs[s][i]} ≠ ${expected[offset + i]}`);
        }
      }
      offset += outputs[s].length;
    });
  }
  process.stdout.write(`  checked: all ${CANDLESTICK_KEYS.length} candlestick kernels equal TA-Lib C on every bar\n`);
}

/** The peer's scan of one pattern over every series: one call per bar, on views of the bars so far. */
function peerScan(functions: string[], candles: Candles[]): number {
  let found = 0;
  for (const series of candles) {
    for (let i = PEER_FIRST_BAR; i < series.close.length; i++) {
      const input = {
        open: series.open.subarray(0, i + 1),
        high: series.high.subarray(0, i + 1),
        low: series.low.subarray(0, i + 1),
        close: series.close.subarray(0, i + 1),
      };
      for (const fn of functions) if (peer[fn](input)) found++;
    }
  }
  return found;
}

export async function run(): Promise<void> {
  section('patterns: detection over the S&P 500 five-year daily file, one thread');
  const daily = readSp500Daily();
  const bars = daily.reduce((sum, series) => sum + series.bars.close.length, 0);
  process.stdout.write(`  ${daily.length} series, ${bars.toLocaleString('en-US')} bars\n`);
  const candles = daily.map((series) => candlesOf(series.bars));
  const outputs = daily.map((series) => new Int32Array(series.bars.close.length));

  const talib = await runTalib(candles, CANDLESTICK_KEYS, ROUNDS);
  checkAgainstTalib(candles, outputs, talib.values);

  const measures = bestSeconds(ROUNDS, () => daily.forEach((series, s) => (candles[s] = candlesOf(series.bars))));
  const kernelSeconds = new Map<CandlestickKey, number>();
  for (const key of CANDLESTICK_KEYS) {
    kernelSeconds.set(
      key,
      bestSeconds(ROUNDS, () => candles.forEach((series, s) => CANDLESTICKS[key].run(series, outputs[s]))),
    );
  }
  const oursFor = (keys: CandlestickKey[]) => measures + keys.reduce((sum, key) => sum + kernelSeconds.get(key)!, 0);
  const talibSeconds = CANDLESTICK_KEYS.reduce((sum, key) => sum + talib.seconds.get(key)!, 0);
  report({
    what: `${CANDLESTICK_KEYS.length} TA-Lib candlesticks, tickforge kernels (best of ${ROUNDS}, measures included)`,
    value: bars / oursFor(CANDLESTICK_KEYS) / 1e6,
    unit: 'M bars/s',
    baseline: { what: 'TA-Lib C 0.6 -O2, same bars, summed best per function', value: bars / talibSeconds / 1e6 },
  });

  const matched = Object.keys(PEER_FUNCTIONS) as CandlestickKey[];
  let peerFound: number[] = [];
  const peerSeconds = cpuSeconds(() => (peerFound = matched.map((key) => peerScan(PEER_FUNCTIONS[key]!, candles))));
  report({
    what: `${matched.length} candlesticks technicalindicators also has, tickforge kernels`,
    value: bars / oursFor(matched) / 1e6,
    unit: 'M bars/s',
    baseline: { what: 'technicalindicators 3.1.0, one call per bar (one run)', value: bars / peerSeconds / 1e6 },
  });
  const oursFound = matched.map((key) =>
    candles.reduce((sum, series, s) => {
      CANDLESTICKS[key].run(series, outputs[s]);
      return sum + outputs[s].filter((value) => value !== 0).length;
    }, 0),
  );
  process.stdout.write(
    `  detections (tickforge/technicalindicators; their definitions differ from TA-Lib's): ${matched
      .map((key, k) => `${key} ${oursFound[k]}/${peerFound[k]}`)
      .join(', ')}\n`,
  );

  let detections = 0;
  const allSeconds = bestSeconds(ROUNDS, () => {
    detections = daily.reduce((sum, series) => sum + detectPatterns(series.bars, PATTERN_KEYS).bar.length, 0);
  });
  report({
    what: `all ${PATTERN_KEYS.length} patterns, detections listed (best of ${ROUNDS})`,
    value: bars / allSeconds / 1e6,
    unit: 'M bars/s',
  });
  process.stdout.write(`  ${detections.toLocaleString('en-US')} detections\n`);
}
