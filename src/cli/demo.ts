import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { WorkerRuntime } from '../../workers/runtime.js';
import { startWebServer, type WebServer } from '../api/server.js';
import type { Config } from '../config.js';
import { BarsRepository } from '../db/bars.repository.js';
import { createDb, dbSettings, migrateLatest } from '../db/knex.js';
import { createLogger } from '../logger.js';
import { demoFutures } from './demo-futures.js';
import { runUniversesTour } from './demo-universes.js';
import { demoScenario } from './demo-scenario.js';
import { progressView } from './wait.js';
import { demoBars } from './demo-bars.js';

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
    lines.push(`${new Date(open + minute * 60_000).toISOString()},${previous},${high.toFixed(2)},${low.toFixed(2)},${close},${volume}`);
    previous = close;
  }
  return lines.join('\n') + '\n';
}

/** Reads a text/event-stream response, yielding each event with its parsed data. */
async function* serverSentEvents(response: Response): AsyncGenerator<{ event: string; data: unknown }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let split: number;
    while ((split = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) yield { event, data: JSON.parse(data) };
    }
  }
}

async function startWeb(config: Config, logger: ReturnType<typeof createLogger>): Promise<WebServer> {
  try {
    return await startWebServer(config, logger, '127.0.0.1');
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return startWebServer({ ...config, port: 0 }, logger, '127.0.0.1');
  }
}

/**
 * The README's tour: migrate, start a worker and the API in this process, import real SPY
 * minute bars through the HTTP API, follow the job's live progress, and show where to look.
 */
export async function runDemo(config: Config, options: { serve: boolean }): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const token = config.apiToken ?? randomBytes(18).toString('base64url');
  const demoConfig: Config = { ...config, apiToken: token };
  const logger = createLogger('demo', process.env.LOG_LEVEL ?? 'warn');

  out(`tickforge demo — Postgres ${new URL(config.databaseUrl).host}${new URL(config.databaseUrl).pathname}, Redis ${new URL(config.redisUrl).host}`);
  out('1. migrate');
  const { created, applied } = await migrateLatest(dbSettings(config));
  out(`   ${created ? 'created the database; ' : ''}${applied.length ? `applied ${applied.length} migrations` : 'schema up to date'}`);

  out('2. start a worker (BullMQ workers + piscina pool) and the HTTP API in this process');
  const worker = await WorkerRuntime.start({ config: demoConfig, logger });
  const web = await startWeb(demoConfig, logger);
  const db = createDb(dbSettings(config));
  try {
    const file = config.dataDir ? path.join(config.dataDir, SPY_FILE) : undefined;
    const source = file && existsSync(file) ? { file } : { csv: sampleSessionCsv() };
    out(`3. POST /api/jobs/import-bars — SPY 1m from ${'file' in source ? source.file : 'a generated sample session'}`);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const posted = await fetch(`${web.url}/api/jobs/import-bars`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ symbol: 'SPY', timeframe: '1m', ...source }),
    });
    const job = (await posted.json()) as { id: string; queue: string; error?: string };
    if (posted.status !== 202) throw new Error(`the API refused the job: ${posted.status} ${job.error}`);
    out(`   202 accepted: job ${job.id} on queue ${job.queue}; following GET /api/jobs/${job.queue}/${job.id}/events`);

    const view = progressView('   import', process.stdout);
    const stream = await fetch(`${web.url}/api/jobs/${job.queue}/${job.id}/events`, { headers });
    let outcome: { event: string; data: unknown } | undefined;
    for await (const event of serverSentEvents(stream)) {
      if (event.event === 'progress') view.update(Number((event.data as { progress: number }).progress));
      if (event.event === 'completed' || event.event === 'failed') {
        outcome = event;
        break;
      }
    }
    view.stop();
    if (outcome?.event !== 'completed') throw new Error(`import failed: ${JSON.stringify(outcome?.data)}`);
    const result = (outcome.data as { result: Record<string, unknown> }).result;
    out(
      `   read ${result.rowsRead} rows: ${result.written} written, ${result.unchanged} already stored, ${result.rejectedCount} rejected`,
    );

    const bars = new BarsRepository(db, config.dbSchema);
    const stored = await bars.range({ symbol: 'SPY', timeframe: '1m', variant: '' });
    out(`4. PostgreSQL now holds ${stored.length} SPY 1m bars in ${config.dbSchema}.bars`);
    if (stored.length > 0) {
      const first = stored[0];
      const last = stored[stored.length - 1];
      out(`   first ${first.ts.toISOString()} o=${first.open} h=${first.high} l=${first.low} c=${first.close} v=${first.volume}`);
      out(`   last  ${last.ts.toISOString()} o=${last.open} h=${last.high} l=${last.low} c=${last.close} v=${last.volume}`);
    }
    const history = await db('job_history').where({ queue: job.queue, job_id: job.id }).first();
    out(`   job_history: ${history?.outcome} in ${history?.duration_ms} ms`);
    await runUniversesTour({ config: demoConfig, url: web.url, token, out, firstStep: 5 });

    out('5. continuous futures: import the ES contracts, build ES.c.volume.ratio, read it back');
    await demoFutures(demoConfig, web.url, token, out);

    const scenarioLinks = await demoScenario(web.url, headers, out, async (queue, id) => {
      const scenarioView = progressView('   scenario', process.stdout);
      const events = await fetch(`${web.url}/api/jobs/${queue}/${id}/events`, { headers });
      for await (const event of serverSentEvents(events)) {
        if (event.event === 'progress') scenarioView.update(Number((event.data as { progress: number }).progress));
        if (event.event === 'completed' || event.event === 'failed') {
          scenarioView.stop();
          if (event.event === 'failed') throw new Error(`scenario failed: ${JSON.stringify(event.data)}`);
          return (event.data as { result: unknown }).result;
        }
      }
      throw new Error('the event stream ended before the scenario did');
    });
    await demoBars(demoConfig, web.url, headers, out);

    out();
    out('Where to look:');
    out(`   Bull Board   ${web.url}/admin/queues  (user: anything, password: the token)`);
    out(`   job status   curl -H 'Authorization: Bearer ${token}' ${web.url}/api/jobs/${job.queue}/${job.id}`);
    out(`   universes    curl -H 'Authorization: Bearer ${token}' ${web.url}/api/universes/top_100?asOf=2018-02-07`);
    for (const line of scenarioLinks) out(line);
    out(`   metrics      ${web.url}/metrics`);
    out(`   readiness    ${web.url}/readyz`);
    if (!config.apiToken) out(`   token        ${token} (generated for this demo; set TICKFORGE_API_TOKEN to choose one)`);

    if (options.serve) {
      out();
      out('Serving until Ctrl-C …');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    await db.destroy();
    await web.close();
    await worker.stop();
  }
}
