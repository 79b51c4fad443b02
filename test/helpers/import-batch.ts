import { expect } from 'chai';
import type { TestSystem } from './system.js';

/** How many one-minute bars each import of a batch holds. */
export const BATCH_ROWS = 30;

/** A CSV of BATCH_ROWS valid one-minute bars from 14:30 UTC on `date` (YYYY-MM-DD), prices from `base`. */
export function minuteBarsCsv(date: string, base: number): string {
  const start = Date.parse(`${date}T14:30:00Z`);
  return [
    'ts,open,high,low,close,volume',
    ...Array.from({ length: BATCH_ROWS }, (_, i) => {
      const price = base + i / 100;
      return `${new Date(start + i * 60_000).toISOString()},${price},${price + 0.05},${price - 0.05},${price + 0.01},${100 + i}`;
    }),
  ].join('\n');
}

// What the producer's fail-fast connection says while Redis moves: the caller tries again, as a client of the API's 503 would.
const MOVING = /cluster|connection|closed|ready|MOVED|TRYAGAIN|CLUSTERDOWN|READONLY|NOREPLICAS|writeable|timeout/i;

/**
 * Enqueues one import of BATCH_ROWS bars per symbol, running `midway` before the symbol at index
 * `at`, so that the rest of the batch arrives during and after whatever it does. Returns the job ids.
 */
export async function enqueueImportsAround(
  system: TestSystem,
  symbols: readonly string[],
  at: number,
  midway: (enqueued: readonly string[]) => Promise<void>,
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, symbol] of symbols.entries()) {
    if (i === at) await midway(ids);
    for (;;) {
      try {
        ids.push(
          (await system.producer.enqueue('import-bars', { csv: minuteBarsCsv('2018-02-07', 10 + i), symbol, timeframe: '1m' }))
            .id,
        );
        break;
      } catch (error) {
        if (!MOVING.test((error as Error).message)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
  return ids;
}

/** Every symbol has its BATCH_ROWS bars once, and every import (`ids`) one completed history row. */
export async function expectImportedOnce(system: TestSystem, symbols: readonly string[], ids: readonly string[]): Promise<void> {
  const stored = await system
    .db('bars')
    .whereIn('symbol', symbols)
    .select('symbol')
    .count<Array<{ symbol: string; count: string }>>({ count: '*' })
    .groupBy('symbol');
  expect(stored.map((row) => row.symbol).sort()).to.deep.equal([...symbols].sort());
  for (const row of stored) expect(Number(row.count), row.symbol).to.equal(BATCH_ROWS);
  const finished = await system
    .db('job_history')
    .where({ name: 'import-bars', outcome: 'completed' })
    .whereIn('job_id', ids)
    .select('job_id');
  expect(finished.map((row) => String(row.job_id)).sort()).to.deep.equal([...ids].sort());
}
