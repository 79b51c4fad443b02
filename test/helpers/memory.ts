import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { BinaryCopyWriter } from '../../src/bars/binary-copy.js';
import { allocateBars, BAR_COPY_COLUMNS } from '../../src/bars/columns.js';
import type { Timeframe } from '../../src/bars/timeframes.js';
import type { Config } from '../../src/shared/config.js';
import { copyInto } from '../../src/shared/copy.js';
import { ident } from '../../src/shared/db.js';
import { configEnv } from './config.js';
import type { MemoryFigures, MemoryRequest } from './memory-web.js';

/** Rows generated and copied per COPY chunk when seeding. */
const SEED_CHUNK_ROWS = 100_000;

/**
 * Seeds `count` provider 1m bars of `symbol` on every minute from `start` (24 hours a day) with
 * binary COPY straight into the bars table, the first and second half of the rows in two
 * transactions at once (PostgreSQL's insert work is what takes the time, and a machine has two
 * cores): the fastest way to a series of millions of rows.
 */
export async function seedMinuteBars(db: Knex, schema: string, symbol: string, count: number, start: number): Promise<void> {
  function* chunks(from: number, to: number): Generator<Uint8Array> {
    for (let first = from; first < to; first += SEED_CHUNK_ROWS) {
      const bars = allocateBars(Math.min(SEED_CHUNK_ROWS, to - first));
      for (let i = 0; i < bars.ts.length; i++) {
        const n = first + i;
        const price = 100 + 10 * Math.sin(n / 5_000) + (n % 7) * 0.01;
        bars.ts[i] = start + n * 60_000;
        bars.open[i] = price;
        bars.close[i] = price + ((n % 5) - 2) * 0.01;
        bars.high[i] = Math.max(bars.open[i], bars.close[i]) + 0.02;
        bars.low[i] = Math.min(bars.open[i], bars.close[i]) - 0.02;
        bars.volume[i] = 100 + (n % 1_000);
        bars.vwap[i] = n % 3 === 0 ? NaN : price;
        bars.tradeCount[i] = NaN;
      }
      const writer = new BinaryCopyWriter();
      writer.add({ symbol, timeframe: '1m', variant: '' }, 'provider', bars);
      yield writer.finish();
    }
  }
  const half = Math.ceil(count / 2);
  await Promise.all(
    [chunks(0, half), chunks(half, count)].map((payloads) =>
      db.transaction(async (trx) => {
        for (const payload of payloads) await copyInto(trx, `${ident(schema)}.bars`, BAR_COPY_COLUMNS, payload, 'binary');
      }),
    ),
  );
  await db.raw(`ANALYZE ${ident(schema)}.bars`);
}

/** The memory-web process (test/helpers/memory-web.ts): a web server whose memory is measured from outside. */
export class MemoryWeb {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts the process; with `liveEveryMs`, it samples its live heap that often (see memory-web.ts). */
  static async start(config: Config, options: { liveEveryMs?: number } = {}): Promise<MemoryWeb> {
    const child = fork(fileURLToPath(new URL('./memory-web.js', import.meta.url)), [], {
      env: { ...configEnv(config), ...(options.liveEveryMs ? { MEMORY_WEB_LIVE_EVERY_MS: String(options.liveEveryMs) } : {}) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const started = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('message', (message) => resolve(message as { url: string }));
      child.once('exit', (code) => reject(new Error(`memory-web exited with ${code} before it served`)));
    });
    return new MemoryWeb(child, started.url);
  }

  private ask<T>(request: MemoryRequest): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (answer) => resolve(answer as T));
      this.child.send(request);
    });
  }

  /** How far RSS and heap rose above their level after a full collection while `work` ran (peak minus start, bytes). */
  async growth<T>(work: () => Promise<T>): Promise<{ growth: MemoryFigures; outcome: T }> {
    const start = await this.ask<MemoryFigures>('mark');
    const outcome = await work();
    const peak = await this.ask<MemoryFigures>('peak');
    const growth = {
      rss: peak.rss - start.rss,
      heapUsed: peak.heapUsed - start.heapUsed,
      liveHeap: peak.liveHeap - start.liveHeap,
    };
    return { growth, outcome };
  }

  /** Builds the JSON document of the first `rows` bars of a stored series in the process (the in-memory baseline). */
  buildJson(symbol: string, timeframe: Timeframe, rows: number): Promise<{ length: number }> {
    return this.ask({ json: { symbol, timeframe, rows } });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send('stop');
    await exited;
  }
}

/**
 * Fetches GET /api/bars in a streamed format and reads the body as it arrives, keeping nothing:
 * the bytes, and the lines (ndjson and csv hold a bar per line).
 */
export async function readStreamedBars(
  url: string,
  token: string,
  query: Record<string, string>,
): Promise<{ status: number; bytes: number; lines: number }> {
  const response = await fetch(`${url}/api/bars?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  }
  return { status: response.status, bytes, lines };
}
