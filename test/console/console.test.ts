import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { PatternDetectionsRepository } from '../../src/patterns/detections.repository.js';
import { createLogger } from '../../src/shared/logger.js';
import { contextWithToken, launchChromium } from '../helpers/browser.js';
import { TEST_READ_TOKEN } from '../helpers/config.js';
import { SPY_1MIN, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';

interface CandlePoint {
  time: number;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
}

/** One New York session of the SPY minute file, without the minutes `drop` names (HH:MM). */
function spySession(date: string, drop: string[]): string {
  const [header, ...lines] = readFileSync(dataFile(SPY_1MIN), 'utf8').trim().split(/\r?\n/);
  const kept = lines.filter((line) => line.startsWith(date) && !drop.some((time) => line.startsWith(`${date}T${time}`)));
  return [header, ...kept].join('\n');
}

describe('web console in Chromium', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let web: WebServer;
  let browser: Browser;

  async function openWith(token: string): Promise<Page> {
    const context = await contextWithToken(browser, token);
    return context.newPage();
  }

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    browser = await launchChromium();
    const csv = spySession('2013-10-07', ['10:00', '10:01', '10:02', '14:15']);
    await system.run('import-bars', { csv, symbol: 'SPY', timeframe: '1m' });
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await system?.close();
  });

  it('should draw the stored bars as candles and mark each gap when the page opens with the token', async () => {
    const page = await openWith(TEST_READ_TOKEN);
    const response = await page.goto(`${web.url}/console/?symbol=SPY&timeframe=1m&from=2013-10-07&to=2013-10-07`);
    expect(response?.status()).to.equal(200);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });

    const api = (await (
      await fetch(`${web.url}/api/bars?symbol=SPY&timeframe=1m&from=2013-10-07&to=2013-10-07`, {
        headers: { authorization: `Bearer ${TEST_READ_TOKEN}` },
      })
    ).json()) as { bars: Array<{ ts: string; open: number; high: number; low: number; close: number }> };
    const candles = await page.evaluate<CandlePoint[]>('window.tickforgeConsole.candles()');
    const drawn = candles.filter((point) => point.open !== undefined);
    expect(drawn).to.have.length(api.bars.length).and.to.have.length(386);
    expect(drawn.map((point) => point.time * 1000)).to.deep.equal(api.bars.map((bar) => Date.parse(bar.ts)));
    expect(drawn[0]).to.include({
      open: api.bars[0].open,
      high: api.bars[0].high,
      low: api.bars[0].low,
      close: api.bars[0].close,
    });
    // The missing minutes are left empty (not drawn as candles) and each run of them is marked once.
    const drawnTimes = drawn.map((point) => new Date(point.time * 1000).toISOString());
    for (const missing of ['14:00', '14:01', '14:02', '18:15'])
      expect(drawnTimes).not.to.include(`2013-10-07T${missing}:00.000Z`);
    const markers = await page.evaluate<Array<{ time: number; text: string }>>('window.tickforgeConsole.markers()');
    expect(markers.map((marker) => [new Date(marker.time * 1000).toISOString(), marker.text])).to.deep.equal([
      ['2013-10-07T14:00:00.000Z', 'gap ×3'],
      ['2013-10-07T18:15:00.000Z', 'gap ×1'],
    ]);
    expect(await page.textContent('#status')).to.match(/^386 1m bars of SPY .* 2 gaps, 4 missing bars left empty · \d+ pattern detections$/);
    // With "show filled bars" the gaps hold grey forward-filled candles at the previous close.
    await page.goto(`${web.url}/console/?symbol=SPY&timeframe=1m&from=2013-10-07&to=2013-10-07&fills=on`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
    const withFills = await page.evaluate<Array<CandlePoint & { color?: string }>>('window.tickforgeConsole.candles()');
    const grey = withFills.filter((point) => point.color !== undefined);
    expect(withFills).to.have.length(390);
    expect(grey.map((point) => new Date(point.time * 1000).toISOString().slice(11, 16))).to.deep.equal([
      '14:00',
      '14:01',
      '14:02',
      '18:15',
    ]);
    const before = withFills[withFills.indexOf(grey[0]) - 1];
    expect(grey[0]).to.include({ open: before.close, high: before.close, low: before.close, close: before.close });
    await page.context().close();
  });

  it('should mark every stored pattern detection on its candle, and only those', async () => {
    const { result } = await system.run('detect-patterns', { symbols: ['SPY'], timeframe: '1m' });
    const stored = await new PatternDetectionsRepository(system.db, system.config.dbSchema).list({ timeframe: '1m', symbols: ['SPY'] });
    expect(stored).to.have.length(result.totals.detections).and.to.have.length.above(0);

    const page = await openWith(TEST_READ_TOKEN);
    await page.goto(`${web.url}/console/?symbol=SPY&timeframe=1m&from=2013-10-07&to=2013-10-07`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
    const markers = await page.evaluate<Array<{ time: number; text: string; shape: string; position: string }>>(
      'window.tickforgeConsole.markers()',
    );
    const patterns = markers.filter((marker) => !marker.text.startsWith('gap '));
    expect(patterns.map((marker) => [new Date(marker.time * 1000).toISOString(), marker.text, marker.shape])).to.deep.equal(
      stored.map((row) => [row.ts.toISOString(), row.pattern, row.direction === 'bullish' ? 'arrowUp' : 'arrowDown']),
    );
    expect(await page.textContent('#status')).to.match(new RegExp(` · ${stored.length} pattern detections$`));

    // A narrower range shows only the detections inside it.
    await page.goto(`${web.url}/console/?symbol=SPY&timeframe=1m&from=2013-10-07T14:00:00Z&to=2013-10-07T14:03:00Z`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
    const inWindow = stored.filter((row) => row.ts >= new Date('2013-10-07T14:00:00Z') && row.ts < new Date('2013-10-07T14:03:00Z'));
    expect(inWindow.length).to.be.below(stored.length);
    const narrow = await page.evaluate<Array<{ text: string }>>('window.tickforgeConsole.markers()');
    expect(narrow.filter((marker) => !marker.text.startsWith('gap ')).map((marker) => marker.text)).to.deep.equal(
      inWindow.map((row) => row.pattern),
    );
    await page.context().close();
  });

  it('should render the interactive API reference at /api/docs from the OpenAPI document, served locally', async () => {
    const document = (await (await fetch(`${web.url}/api/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((sum, path) => sum + Object.keys(path).length, 0);
    const context = await browser.newContext();
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(web.url)) foreign.push(request.url());
    });
    await page.goto(`${web.url}/api/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    expect(await page.locator('.opblock').count()).to.equal(operations);
    expect(foreign).to.deep.equal([]);
    await context.close();
  });

  it("should answer with the browser's login prompt when the token is wrong", async () => {
    const page = await openWith('wrong-token-0123456789abcdef');
    const response = await page.goto(`${web.url}/console/`);
    expect(response?.status()).to.equal(401);
    expect(response?.headers()['www-authenticate']).to.match(/^Basic realm="tickforge"/);
    // The API's links (the demo prints them) challenge a browser the same way.
    const api = await page.goto(`${web.url}/api/system/health`);
    expect(api?.status()).to.equal(401);
    expect(api?.headers()['www-authenticate']).to.match(/^Basic realm="tickforge"/);
    await page.context().close();
  });
});
