import http from 'node:http';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { pino } from 'pino';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { BarsCache } from '../../src/bars/cache.js';
import { allocateBars } from '../../src/bars/columns.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that differ from one answer to the next whatever answers them. */
const PER_ANSWER = ['date', 'x-request-id'];

describe('GET /api/bars cache hits answered before Express', function () {
  let system: TestSystem;
  let web: WebServer;
  const lines: Array<Record<string, unknown>> = [];
  // Six hourly bars, cached as they are; the twelve of wideQuery are past the compression threshold.
  const query = { symbol: 'HIT', timeframe: '1h', from: '2024-03-05', to: '2024-03-06' };
  const wideQuery = { ...query, from: '2024-03-04' };
  const requested = JSON.stringify({ ...query, session: 'regular', alignment: 'session', fill: 'none' });

  function get(path: string, headers: Record<string, string> = { authorization: `Bearer ${TEST_READ_TOKEN}` }): Promise<Answer> {
    return new Promise((resolve, reject) => {
      http
        .get(`${web.url}${path}`, { headers }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
          );
        })
        .on('error', reject);
    });
  }

  const withoutPerAnswer = (headers: http.IncomingHttpHeaders) =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_ANSWER.includes(name)));

  const requests = async () => Number(await system.redis.zscore(`${system.config.prefix}:bars-cache:requests`, requested));

  before(async () => {
    system = await TestSystem.create({ cacheCompressMinBytes: 1_024 });
    const hours = [14, 15, 16, 17, 18, 19].flatMap((hour) =>
      ['2024-03-04', '2024-03-05'].map((day) => Date.parse(`${day}T${hour}:30:00Z`)),
    );
    hours.sort((a, b) => a - b);
    const bars = allocateBars(hours.length);
    hours.forEach((ts, i) => {
      bars.ts[i] = ts;
      bars.open[i] = bars.close[i] = 100 + i;
      bars.high[i] = 101 + i;
      bars.low[i] = 99 + i;
      bars.volume[i] = 1_000 * (i + 1);
      bars.vwap[i] = 100.5 + i;
    });
    await system.db.transaction((trx) =>
      new BarsRepository(trx, system.config.dbSchema).upsertBars(
        { symbol: 'HIT', timeframe: '1h', variant: '' },
        'provider',
        bars,
      ),
    );
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    web = await startWebServer(system.config, pino(sink), '127.0.0.1');
  });

  after(async () => {
    await web?.close();
    await system?.close();
  });

  it('should answer a hit with the status, headers and bytes Express answers it with', async () => {
    const search = new URLSearchParams(query).toString();
    const computed = await get(`/api/bars?${search}`);
    expect(computed.status).to.equal(200);
    const hit = await get(`/api/bars?${search}`);
    // A trailing slash is the same route to Express, but not a path the hit path answers.
    const throughExpress = await get(`/api/bars/?${search}`);
    expect(throughExpress.status).to.equal(200);
    expect(hit.status).to.equal(200);
    expect(hit.body.equals(throughExpress.body)).to.equal(true);
    expect(withoutPerAnswer(hit.headers)).to.deep.equal(withoutPerAnswer(throughExpress.headers));
    expect(hit.headers).to.include({ 'content-type': 'application/json; charset=utf-8', vary: 'Accept-Encoding' });
    expect(hit.headers['x-content-type-options']).to.equal('nosniff');
    expect(hit.headers['content-security-policy']).to.match(/default-src 'self'/);
    expect(JSON.parse(hit.body.toString()).bars).to.have.length(6);
  });

  it('should send a gzipped hit as cached to a client that takes gzip, and its plain bytes to one that does not', async () => {
    const search = new URLSearchParams(wideQuery).toString();
    const read = (path: string, acceptEncoding?: string) =>
      get(path, { authorization: `Bearer ${TEST_READ_TOKEN}`, ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) });
    await read(`/api/bars?${search}`);
    for (const acceptEncoding of [undefined, 'gzip, br', 'br;q=1, gzip;q=0', '*', 'identity']) {
      const hit = await read(`/api/bars?${search}`, acceptEncoding);
      const throughExpress = await read(`/api/bars/?${search}`, acceptEncoding);
      expect(withoutPerAnswer(hit.headers), String(acceptEncoding)).to.deep.equal(withoutPerAnswer(throughExpress.headers));
      expect(hit.body.equals(throughExpress.body)).to.equal(true);
      const gzipped = hit.headers['content-encoding'] === 'gzip';
      expect(gzipped, String(acceptEncoding)).to.equal(acceptEncoding === 'gzip, br' || acceptEncoding === '*');
      const text = (gzipped ? gunzipSync(hit.body) : hit.body).toString();
      expect(JSON.parse(text).bars).to.have.length(12);
    }
  });

  it('should write the access-log line of a hit with its request id, route, status and token name', async () => {
    const answer = await get(`/api/bars?${new URLSearchParams(query)}`, {
      authorization: `Bearer ${TEST_READ_TOKEN}`,
      'x-request-id': 'hit-7.b',
    });
    expect(answer.headers['x-request-id']).to.equal('hit-7.b');
    const line = await eventually(
      async () => lines.find((entry) => entry.reqId === 'hit-7.b'),
      'the access-log line of the hit',
      5_000,
      10,
    );
    expect(line).to.deep.include({ method: 'GET', route: '/api/bars', status: 200, token: 'read' });
    expect(line.msg).to.match(/^GET \/api\/bars 200 in \d+ ms$/);
    expect(line.durationMs).to.be.a('number');
    const text = await (await fetch(`${web.url}/metrics`)).text();
    expect(text).to.match(
      /tickforge_http_request_duration_seconds_count\{[^}]*route="\/api\/bars"[^}]*status="200"[^}]*\} [1-9]/,
    );
    expect(JSON.stringify(lines)).to.not.include(TEST_READ_TOKEN);
  });

  it('should count each request once, whether the hit path answers it or leaves it to Express', async () => {
    const path = `/api/bars?${new URLSearchParams(query)}`;
    const before = await requests();
    const hit = await get(path);
    expect(await requests()).to.equal(before + 1);
    const unchanged = await get(path, { authorization: `Bearer ${TEST_READ_TOKEN}`, 'if-none-match': hit.headers.etag! });
    expect(unchanged.status).to.equal(304);
    expect(await requests()).to.equal(before + 2);
    const answers = await Promise.all(Array.from({ length: 40 }, () => get(path)));
    expect(answers.every((answer) => answer.status === 200 && answer.body.equals(hit.body))).to.equal(true);
    expect(await requests()).to.equal(before + 42);
  });

  it('should leave a request without a valid token to Express, which refuses it', async () => {
    const path = `/api/bars?${new URLSearchParams(query)}`;
    const none = await get(path, {});
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.match(/^Basic/);
    expect((await get(path, { authorization: 'Bearer not-a-token-at-all' })).status).to.equal(401);
    expect((await get(path, { authorization: `Bearer ${TEST_TOKEN}` })).status).to.equal(200);
  });

  it('should answer the new bars as soon as a write bumps them, while other lookups are in flight', async () => {
    const path = `/api/bars?${new URLSearchParams(query)}`;
    const old = await get(path);
    const bars = allocateBars(1);
    bars.ts[0] = Date.parse('2024-03-05T14:30:00Z');
    bars.open[0] = bars.high[0] = bars.low[0] = bars.close[0] = 100;
    bars.volume[0] = 123_456;
    bars.vwap[0] = 100;
    const inFlight = Array.from({ length: 20 }, () => get(path));
    await system.db.transaction((trx) =>
      new BarsRepository(trx, system.config.dbSchema).upsertBars(
        { symbol: 'HIT', timeframe: '1h', variant: '' },
        'provider',
        bars,
      ),
    );
    await new BarsCache(system.redis, system.config.prefix).bump('HIT', '1h');
    const after = await get(path);
    expect(JSON.parse(after.body.toString()).bars[0].volume).to.equal(123_456);
    expect(after.headers.etag).to.not.equal(old.headers.etag);
    for (const answer of await Promise.all(inFlight)) expect(answer.status).to.equal(200);
  });
});
