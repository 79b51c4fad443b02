import type { Config } from '../shared/config.js';
import { createDb, dbSettings } from '../shared/db.js';
import { createLogger } from '../shared/logger.js';
import { Store } from '../store/store.js';
import { demoBars } from './demo-bars.js';
import { demoFutures } from './demo-futures.js';
import { demoScenario } from './demo-scenario.js';
import { DemoTour } from './demo-tour.js';
import { demoUniverses } from './demo-universes.js';
import { startLocalStack, untilStopped, whereToLook } from './stack.js';

const SPY_FILE = 'equity_1min/spy_1min_trade_2013-10-04_2013-10-11.csv';

/**
 * One regular session of made-up 1-minute bars (a gentle sine around 168), for machines
 * without the sample market data.
 */
export function sampleSessionCsv(): string {
  const lines = ['ts,open,high,low,close,volume'];
  const open = Date.parse('2013-10-04T13:30:00Z');
  let previous = 168;
  for (let minute = 0; minute < 390; minute++) {
    const close = Math.round((168 + Math.sin(minute / 40) * 0.8 + Math.cos(minute / 7) * 0.1) * 100) / 100;
    const high = Math.max(previous, close) + 0.02;
    const low = Math.min(previous, close) - 0.02;
    const volume = 20_000 + Math.round(Math.abs(Math.cos(minute / 65)) * 80_000);
    lines.push(
      `${new Date(open + minute * 60_000).toISOString()},${previous},${high.toFixed(2)},${low.toFixed(2)},${close},${volume}`,
    );
    previous = close;
  }
  return lines.join('\n') + '\n';
}

/**
 * The README's tour: start PostgreSQL and Redis when they do not answer, migrate, start a
 * worker and the API in this process, import real SPY minute bars through the HTTP API, follow
 * the job's live progress, and show where to look.
 */
export async function runDemo(config: Config, options: { serve: boolean; embedded?: boolean }): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const logger = createLogger('demo', process.env.LOG_LEVEL ?? 'warn');
  out('tickforge demo');
  out('1. PostgreSQL and Redis, migrate, a worker (BullMQ workers + piscina pool) and the HTTP API in this process');
  const stack = await startLocalStack(config, { embedded: options.embedded, say: (line) => out(`   ${line}`), logger });
  const { created, applied } = stack.migrations;
  out(
    `   Postgres ${new URL(stack.config.databaseUrl).host}${new URL(stack.config.databaseUrl).pathname}, Redis ${new URL(stack.config.redisUrl).host}: ${created ? 'created the database; ' : ''}${applied.length ? `applied ${applied.length} migrations` : 'schema up to date'}`,
  );
  const { web, token } = stack;
  const db = createDb(dbSettings(stack.config));
  const tour = new DemoTour(web.url, token, config.dataDir, out, 2);
  try {
    const file = tour.dataFile(SPY_FILE);
    const source = file ? { file } : { csv: sampleSessionCsv() };
    tour.heading(`POST /api/jobs/import-bars — SPY 1m from ${file ?? 'a generated sample session'}, followed live over SSE`);
    const result = await tour.run('import-bars', { symbol: 'SPY', timeframe: '1m', ...source }, 'import');
    out(
      `   read ${result.rowsRead} rows: ${result.written} written, ${result.unchanged} already stored, ${result.rejectedCount} rejected`,
    );
    const stored = await new Store(db, config.dbSchema).bars.range({ symbol: 'SPY', timeframe: '1m', variant: '' });
    out(`   PostgreSQL holds ${stored.length} SPY 1m bars in ${config.dbSchema}.bars`);
    const [first, last] = [stored[0], stored[stored.length - 1]];
    out(`   first ${first.ts.toISOString()} o=${first.open} h=${first.high} l=${first.low} c=${first.close} v=${first.volume}`);
    out(`   last  ${last.ts.toISOString()} o=${last.open} h=${last.high} l=${last.low} c=${last.close} v=${last.volume}`);

    await demoBars(tour);
    await demoUniverses(tour);
    await demoFutures(tour);
    const scenarioLinks = await demoScenario(tour);

    out();
    out('Where to look:');
    for (const line of whereToLook(stack)) out(line);
    out(`   bars         curl -H 'Authorization: Bearer ${token}' '${web.url}/api/bars?symbol=SPY&timeframe=4h'`);
    out(`   universes    curl -H 'Authorization: Bearer ${token}' ${web.url}/api/universes/top_100?asOf=2018-02-07`);
    for (const line of scenarioLinks) out(line);

    if (options.serve) {
      out();
      out('Serving until Ctrl-C …');
      await untilStopped();
    }
  } finally {
    await db.destroy();
    await stack.stop();
  }
}
