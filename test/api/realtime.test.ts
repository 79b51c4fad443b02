import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { serverSentEvents } from '../../src/cli/demo-tour.js';
import { Publisher } from '../../src/notify/publisher.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { GOOG_1MIN, SPY_1MIN, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';
import { TestSocket, type WsMessage } from '../helpers/ws-client.js';

const auth = { headers: { authorization: `Bearer ${TEST_TOKEN}` } };

describe('WebSocket /api/ws', function () {
  let system: TestSystem;
  let web: WebServer;
  let other: WebServer;
  let publisher: Publisher;
  const sockets: TestSocket[] = [];

  const connect = async (options: Parameters<typeof TestSocket.open>[1] = auth, server = web) => {
    const socket = await TestSocket.open(`${server.url}/api/ws`, options);
    sockets.push(socket);
    return socket;
  };
  const ofType =
    (type: string, extra: (m: WsMessage) => boolean = () => true) =>
    (m: WsMessage) =>
      m.type === type && extra(m);
  const barsUpdated = (symbol: string) =>
    publisher.publish('barsUpdated', { symbol, series: [], from: null, to: null, job: 'test' });

  before(async () => {
    system = await TestSystem.create();
    const logger = createLogger('test-web', system.config.logLevel);
    web = await startWebServer(system.config, logger, '127.0.0.1');
    // A second web process of the same deployment.
    other = await startWebServer(system.config, logger, '127.0.0.1');
    publisher = new Publisher(system.redis, { service: 'test', prefix: system.config.prefix, stream: system.config.eventStream, streamMaxLen: 1_000 });
    await system.startWorker();
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    await system.run('import-bars', { file: dataFile(GOOG_1MIN), symbol: 'GOOG', timeframe: '1m' });
  });

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
  });

  after(async () => {
    await web.close();
    await other.close();
    await system.close();
  });

  describe('authentication', () => {
    it('should refuse the handshake with 401 when the header token is wrong', async () => {
      const refused = await TestSocket.open(`${web.url}/api/ws`, {
        headers: { authorization: 'Bearer nope-nope-nope-nope' },
      }).catch((error: { status?: number }) => error);
      expect(refused).to.have.property('status', 401);
    });

    it('should refuse a token in the URL with 400', async () => {
      const refused = await TestSocket.open(`${web.url}/api/ws?token=${TEST_TOKEN}`).catch((error: { status?: number }) => error);
      expect(refused).to.have.property('status', 400);
    });

    it('should close with 4401 when the first message is not a valid token', async () => {
      const noToken = await connect({});
      noToken.send({ type: 'subscribe', channel: 'bars.updated' });
      expect((await noToken.whenClosed()).code).to.equal(4401);
      const wrong = await connect({});
      wrong.send({ type: 'auth', token: 'wrong-wrong-wrong-wrong' });
      expect(await wrong.whenClosed()).to.deep.equal({ code: 4401, reason: 'the token is not valid' });
    });

    it('should accept a first-message token and a bearer subprotocol, answering with tickforge.v1', async () => {
      const first = await connect({});
      first.send({ type: 'auth', token: TEST_TOKEN });
      expect(await first.next(ofType('welcome'))).to.include({ role: 'write' });
      const browser = await connect({ protocols: ['tickforge.v1', `bearer.${TEST_READ_TOKEN}`] });
      expect(browser.ws.protocol).to.equal('tickforge.v1');
      expect(await browser.next(ofType('welcome'))).to.include({ role: 'read' });
    });

    it('should let a read-only token subscribe but not submit', async () => {
      const reader = await connect({ headers: { authorization: `Bearer ${TEST_READ_TOKEN}` } });
      reader.send({ type: 'subscribe', subscription: 'bars', channel: 'bars.updated' });
      await reader.next(ofType('subscribed'));
      reader.send({ type: 'submit', requestId: 'r1', name: 'noop', payload: {} });
      expect(await reader.next(ofType('error'))).to.include({ requestId: 'r1', status: 403, error: 'this token is read-only' });
    });
  });

  describe('jobs', () => {
    it('should refuse a bad payload with the HTTP API’s issues', async () => {
      const client = await connect();
      client.send({
        type: 'submit',
        requestId: 'bad',
        name: 'import-bars',
        payload: { symbol: 'SPY', timeframe: '7m', csv: 'x' },
      });
      const error = await client.next(ofType('error'));
      expect(error).to.include({ requestId: 'bad', status: 400 });
      expect((error.issues as Array<{ path: string }>).map((issue) => issue.path)).to.include('timeframe');
      client.send({ type: 'submit', requestId: 'unknown', name: 'launch-rockets', payload: {} });
      expect(await client.next(ofType('error', (m) => m.requestId === 'unknown'))).to.include({ status: 404 });
    });

    it('should stream aggregation progress with its step, symbol and estimated completion, then completion', async () => {
      const client = await connect();
      client.send({
        type: 'submit',
        requestId: 'agg',
        name: 'aggregate-bars',
        payload: { symbols: ['SPY', 'GOOG'], targets: ['5m', '1h', '1d'] },
      });
      const submitted = await client.next(ofType('submitted'));
      const complete = await client.next(ofType('aggregation_complete'), 'aggregation_complete', 60_000);
      expect(complete).to.include({ subscription: 'agg', queue: 'aggregate', name: 'aggregate-bars' });
      expect(complete.jobId).to.equal((submitted.job as { id: string }).id);
      const progress = client.received.filter(ofType('aggregation_progress'));
      expect(progress.length).to.be.at.least(3);
      for (const message of progress) {
        expect(message.progressPercent).to.be.a('number');
        expect(message.currentStep).to.be.a('string').and.not.empty;
        expect(Date.parse(String(message.estimatedCompletion))).to.be.a('number').and.not.NaN;
        expect(message.id).to.match(/^\d+-\d+$/);
      }
      expect(progress.map((m) => m.symbol)).to.include.members(['SPY', 'GOOG']);
      expect(progress.find((m) => m.symbol === 'SPY')!.currentStep).to.match(/^SPY: \d+ base bars/);
      const percents = progress.map((m) => m.progressPercent as number);
      expect(percents).to.deep.equal([...percents].sort((a, b) => a - b));
      expect(percents.at(-1)).to.equal(100);
    });

    it('should follow every job of a kind and symbol, and cancel over the socket', async () => {
      const client = await connect();
      client.send({ type: 'subscribe', subscription: 'spy-imports', job: { name: 'import-bars', symbol: 'SPY' } });
      await client.next(ofType('subscribed'));
      client.send({
        type: 'submit',
        requestId: 'goog',
        name: 'import-bars',
        payload: { file: dataFile(GOOG_1MIN), symbol: 'GOOG', timeframe: '1m' },
      });
      client.send({
        type: 'submit',
        requestId: 'spy',
        name: 'import-bars',
        payload: { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' },
      });
      await client.next(
        ofType('historical_data_complete', (m) => m.subscription === 'goog'),
        'goog complete',
        60_000,
      );
      const spy = await client.next(
        ofType('historical_data_complete', (m) => m.subscription === 'spy-imports'),
        'spy complete',
        60_000,
      );
      const submittedSpy = await client.next(ofType('submitted', (m) => m.requestId === 'spy'));
      expect(spy.jobId).to.equal((submittedSpy.job as { id: string }).id);
      expect(client.received.filter(ofType('historical_data_complete', (m) => m.subscription === 'spy-imports'))).to.have.length(
        1,
      );
      const followed = client.received.filter((m) => m.subscription === 'spy-imports');
      expect(followed.every((m) => m.symbol === undefined || m.symbol === 'SPY')).to.equal(true);
      expect(followed.filter(ofType('historical_data_progress')).map((m) => m.currentStep)).to.satisfy((steps: string[]) =>
        steps.some((step) => /^read \d+ % of /.test(step)),
      );
      client.send({ type: 'cancel', requestId: 'c1', queue: 'ingest', id: 'no-such-job' });
      expect(await client.next(ofType('error', (m) => m.requestId === 'c1'))).to.include({ status: 404 });
    });

    it('should give SSE clients the same progress fields', async () => {
      const job = await system.producer.enqueue('aggregate-bars', { symbols: ['SPY'], targets: ['15m'] });
      const stream = await fetch(`${web.url}/api/jobs/${job.queue}/${job.id}/events`, auth);
      const progress: Array<Record<string, unknown>> = [];
      for await (const { event, data } of serverSentEvents(stream)) {
        if (event === 'progress') progress.push(data as Record<string, unknown>);
        if (event === 'completed' || event === 'failed') break;
      }
      expect(progress.at(-1)).to.include({ progress: 100, progressPercent: 100 });
      expect(
        progress.some(
          (p) => p.symbol === 'SPY' && typeof p.currentStep === 'string' && typeof p.estimatedCompletion === 'string',
        ),
      ).to.equal(true);
    });
  });

  describe('chunked bars', () => {
    it('should send a range in chunks of 100 bars (or as asked) equal to the JSON answer', async () => {
      const query = { symbol: 'SPY', timeframe: '1m', from: '2013-10-07', to: '2013-10-09' };
      const json = (await (await fetch(`${web.url}/api/bars?${new URLSearchParams(query)}`, auth)).json()) as { bars: unknown[] };
      expect(json.bars.length).to.be.greaterThan(300);
      const client = await connect();
      for (const [requestId, chunkSize] of [
        ['default', undefined],
        ['big', 500],
      ] as const) {
        client.send({ type: 'bars', requestId, query, ...(chunkSize ? { chunkSize } : {}) });
        const complete = await client.next(ofType('historical_data_complete', (m) => m.requestId === requestId));
        const chunks = client.received.filter(ofType('historical_data_chunk', (m) => m.requestId === requestId));
        const size = chunkSize ?? 100;
        expect(chunks.map((c) => c.index)).to.deep.equal([...Array(Math.ceil(json.bars.length / size)).keys()]);
        expect(chunks.slice(0, -1).every((c) => (c.bars as unknown[]).length === size)).to.equal(true);
        expect(chunks.flatMap((c) => c.bars as unknown[])).to.deep.equal(json.bars);
        expect(complete).to.include({ bars: json.bars.length, chunks: chunks.length, symbol: 'SPY' });
      }
      client.send({ type: 'bars', requestId: 'nothing', query: { symbol: 'NONE', timeframe: '1m' } });
      expect(await client.next(ofType('historical_data_error'))).to.include({ requestId: 'nothing', status: 404 });
    });
  });

  describe('event channels, fan-out and resume', () => {
    it('should deliver an event once to subscribers on every web process', async () => {
      const first = await connect();
      const second = await connect(auth, other);
      for (const client of [first, second]) {
        client.send({ type: 'subscribe', subscription: 'bars', channel: 'bars.updated' });
        await client.next(ofType('subscribed'));
      }
      await barsUpdated('FANOUT');
      await barsUpdated('MARKER');
      for (const client of [first, second]) {
        await client.next(ofType('event', (m) => (m.data as { symbol: string }).symbol === 'MARKER'));
        const fanout = client.received.filter(ofType('event', (m) => (m.data as { symbol: string }).symbol === 'FANOUT'));
        expect(fanout).to.have.length(1);
        expect(fanout[0]).to.include({ channel: 'bars.updated', event_type: 'bars.updated', subscription: 'bars' });
      }
    });

    it('should deliver a job submitted on one process to a subscriber on another', async () => {
      const watcher = await connect(auth, other);
      watcher.send({ type: 'subscribe', subscription: 'noops', job: { name: 'noop' } });
      await watcher.next(ofType('subscribed'));
      const submitter = await connect();
      submitter.send({ type: 'submit', requestId: 'n1', name: 'noop', payload: {} });
      const submitted = await submitter.next(ofType('submitted'));
      const id = (submitted.job as { id: string }).id;
      await submitter.next(ofType('noop_complete'));
      await watcher.next(ofType('noop_complete', (m) => m.jobId === id));
      expect(watcher.received.filter(ofType('noop_complete', (m) => m.jobId === id))).to.have.length(1);
    });

    it('should send what a reconnecting client missed after its last message id', async () => {
      const client = await connect();
      client.send({ type: 'subscribe', subscription: 'bars', channel: 'bars.updated' });
      await client.next(ofType('subscribed'));
      await barsUpdated('SEEN');
      const seen = await client.next(ofType('event', (m) => (m.data as { symbol: string }).symbol === 'SEEN'));
      await client.close();
      await barsUpdated('MISSED1');
      await publisher.publish('patternsDetected', {
        timeframe: '1d',
        from: null,
        to: null,
        symbols: 0,
        detections: 0,
        counts: {},
        versions: {},
        job: 'x',
      });
      await barsUpdated('MISSED2');
      const back = await connect(auth, other);
      back.send({ type: 'subscribe', subscription: 'bars', channel: 'bars.updated', since: seen.id });
      const resumed = await back.next(ofType('resumed'));
      expect(resumed).to.include({ replayed: 2, truncated: false });
      const symbols = back.received.filter(ofType('event')).map((m) => (m.data as { symbol: string }).symbol);
      expect(symbols).to.deep.equal(['MISSED1', 'MISSED2']);
    });

    it('should resume a job’s progress after a reconnect', async () => {
      const client = await connect();
      client.send({
        type: 'submit',
        requestId: 'r',
        name: 'aggregate-bars',
        payload: { symbols: ['SPY', 'GOOG'], targets: ['30m'] },
      });
      const first = await client.next(ofType('aggregation_progress'), 'first progress', 60_000);
      const job = first.jobId as string;
      await client.close();
      const back = await connect(auth, other);
      back.send({ type: 'subscribe', subscription: 'again', job: { queue: 'aggregate', id: job }, since: first.id });
      const complete = await back.next(ofType('aggregation_complete'), 'aggregation_complete', 60_000);
      expect(complete).to.include({ jobId: job, subscription: 'again' });
      const ids = back.received.filter((m) => m.subscription === 'again' && m.id).map((m) => m.id as string);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(ids).to.not.include(first.id);
      expect(back.received.filter(ofType('aggregation_progress')).at(-1)).to.include({ progressPercent: 100 });
    });

    it('should send cache_performance to its subscribers', async () => {
      const client = await connect();
      client.send({ type: 'subscribe', broadcast: 'cache_performance' });
      const message = await client.next(ofType('cache_performance'));
      const tiers = message.tiers as Array<{ name: string; entries: number; hitRate: number | null }>;
      expect(tiers.map((tier) => tier.name)).to.deep.equal(['bars', 'analytics']);
      expect(tiers[0].entries).to.be.greaterThan(0);
      expect(message.redis).to.have.keys(['usedMemoryBytes', 'maxMemoryBytes', 'evictedKeys', 'expiredKeys']);
    });
  });

  describe('slow and silent clients', () => {
    let strict: WebServer;
    let pinging: WebServer;

    before(async () => {
      const logger = createLogger('test-web', system.config.logLevel);
      strict = await startWebServer({ ...system.config, wsMaxBufferedBytes: 64 * 1024 }, logger, '127.0.0.1');
      pinging = await startWebServer({ ...system.config, wsHeartbeatMs: 300 }, logger, '127.0.0.1');
    });

    after(async () => {
      await strict.close();
      await pinging.close();
    });

    it('should drop a client that does not read, with 4008 and the reason', async () => {
      const slow = await connect(auth, strict);
      slow.send({ type: 'subscribe', channel: 'bars.updated' });
      await slow.next(ofType('subscribed'));
      slow.ws.pause();
      const padding = 'x'.repeat(16 * 1024);
      await eventually(
        async () => {
          await Promise.all(Array.from({ length: 50 }, () => barsUpdated(padding)));
          return strict.realtime.dropped > 0;
        },
        'the slow client to be dropped',
        60_000,
        0,
      );
      slow.ws.resume();
      const closed = await slow.whenClosed();
      expect(closed.code).to.equal(4008);
      expect(closed.reason).to.match(/^too slow: \d+ bytes unread \(limit 65536\)/);
      await eventually(async () => strict.realtime.connections === 0, 'the dropped session to end');
    });

    it('should close its clients with 1001 when the web process stops, and count them in /metrics', async () => {
      const stopping = await startWebServer(system.config, createLogger('test-web', system.config.logLevel), '127.0.0.1');
      const client = await connect(auth, stopping);
      await client.next(ofType('welcome'));
      expect(await (await fetch(`${stopping.url}/metrics`)).text()).to.match(/^tickforge_ws_connections\{[^}]*\} 1$/m);
      await stopping.close();
      expect(await client.whenClosed()).to.deep.equal({ code: 1001, reason: 'the server is stopping; reconnect to resume' });
    });

    it('should cut off a client that stops answering pings', async () => {
      const silent = await connect({ ...auth, autoPong: false }, pinging);
      await silent.next(ofType('welcome'));
      expect((await silent.whenClosed(5_000)).code).to.equal(1006);
    });
  });
});
