/**
 * A web process whose memory a test or a benchmark measures from outside, so that what it counts
 * is the server's own: starts the web server from the environment, sends its URL, samples its RSS
 * and heap every 10 ms, and answers messages:
 * - `mark`: collects garbage and starts the peaks afresh from here; answers the memory now;
 * - `peak`: the highest RSS and heap seen since the mark;
 * - `{ json: { symbol, timeframe, rows } }`: builds the JSON document of the first `rows` bars of
 *   that stored series in memory, as the one-document answer does (the baseline of the streamed
 *   formats, without the answer's row limit); answers its length;
 * - `stop`: closes the server and exits.
 * With MEMORY_WEB_LIVE_EVERY_MS it also collects garbage that often and samples the heap after
 * each collection: the peak of what the process holds (`liveHeap`), which the collector's own
 * timing does not blur. Needs `--expose-gc`.
 */
import { startWebServer } from '../../src/api/server.js';
import { barObjects } from '../../src/bars/query.js';
import type { Timeframe } from '../../src/bars/timeframes.js';
import { loadConfig } from '../../src/shared/config.js';
import { createDb, dbSettings } from '../../src/shared/db.js';
import { createLogger } from '../../src/shared/logger.js';
import { Store } from '../../src/store/store.js';

/** Memory of the process in bytes. */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  /** The heap after a full collection (0 without MEMORY_WEB_LIVE_EVERY_MS). */
  liveHeap: number;
}

export type MemoryRequest = 'mark' | 'peak' | 'stop' | { json: { symbol: string; timeframe: Timeframe; rows: number } };

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('memory-web needs --expose-gc');

const config = loadConfig(process.env);
const web = await startWebServer(config, createLogger('memory-web', 'warn'), '127.0.0.1');
const db = createDb(dbSettings(config));
const store = new Store(db, config.dbSchema);

const NONE: MemoryFigures = { rss: 0, heapUsed: 0, liveHeap: 0 };
let peak = NONE;
function sample(): void {
  const { rss, heapUsed } = process.memoryUsage();
  peak = { ...peak, rss: Math.max(peak.rss, rss), heapUsed: Math.max(peak.heapUsed, heapUsed) };
}
function sampleLive(): void {
  collect!();
  peak = { ...peak, liveHeap: Math.max(peak.liveHeap, process.memoryUsage().heapUsed) };
}
setInterval(sample, 10).unref();
const liveEveryMs = Number(process.env.MEMORY_WEB_LIVE_EVERY_MS ?? 0);
if (liveEveryMs > 0) setInterval(sampleLive, liveEveryMs).unref();

async function buildJson(request: { symbol: string; timeframe: Timeframe; rows: number }): Promise<number> {
  const rows = await store.barsReader.rows(
    { symbol: request.symbol, timeframe: request.timeframe, variant: '' },
    { withFills: false, limit: request.rows },
  );
  const body = JSON.stringify({ symbol: request.symbol, timeframe: request.timeframe, bars: barObjects(rows, false) });
  sample();
  if (liveEveryMs > 0) sampleLive();
  return body.length;
}

process.on('message', (message: MemoryRequest) => {
  if (message === 'mark') {
    collect();
    peak = NONE;
    sample();
    if (liveEveryMs > 0) sampleLive();
    process.send!(peak);
  } else if (message === 'peak') {
    sample();
    process.send!(peak);
  } else if (message === 'stop') {
    void Promise.all([web.close(), db.destroy()]).then(() => process.exit(0));
  } else {
    void buildJson(message.json).then((length) => process.send!({ length }));
  }
});
process.send!({ url: web.url });
