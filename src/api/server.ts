import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../shared/config.js';
import { createDb, dbSettings } from '../shared/db.js';
import type { Logger } from '../shared/logger.js';
import { EventDeliveryListener } from '../metrics/event-delivery.js';
import { ProcessInstruments } from '../metrics/instruments.js';
import { Producer } from '../queues/producer.js';
import { activeQueues } from '../queues/registry.js';
import { closeRedis, createRedis } from '../shared/redis.js';
import { BarsCache, cacheOptions } from '../bars/cache.js';
import { createApp } from './app.js';
import { JobEventHub } from './job-events.js';
import { WebMetrics } from './metrics.js';
import { EnqueueRateLimit } from './rate-limit.js';
import { REALTIME_PATH, RealtimeServer } from './realtime/realtime-server.js';
import { Store } from '../store/store.js';

export interface WebServer {
  server: Server;
  /** The URL the server listens on, such as http://127.0.0.1:3000 */
  url: string;
  /** The WebSocket at /api/ws. */
  realtime: RealtimeServer;
  close(): Promise<void>;
}

/**
 * Refuses to serve without a token unless development mode is explicitly on: an open API
 * can enqueue anything and read every job.
 */
export function assertAuthConfigured(config: Config): void {
  if (!config.apiToken && !config.insecureDev) {
    throw new Error(
      'TICKFORGE_API_TOKEN is not set; set it (16+ characters) or set TICKFORGE_INSECURE_DEV=1 for an open development server',
    );
  }
}

/** Listens on the port, or rejects with a message that says why not (a port in use, say). */
function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use on ${host} (another process listens on ${where}); stop it or set PORT`)
          : error.code === 'EACCES'
            ? new Error(`not allowed to listen on ${where}; choose a PORT above 1023 or run with the right privileges`)
            : error,
      );
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve(server);
    });
  });
}

/** Starts the web process's HTTP server with its own connections. */
export async function startWebServer(config: Config, logger: Logger, host = '0.0.0.0'): Promise<WebServer> {
  assertAuthConfigured(config);
  if (!config.apiToken) logger.warn('TICKFORGE_INSECURE_DEV=1: the API and Bull Board accept requests without a token');
  const queues = activeQueues();
  const db = createDb(dbSettings(config, logger));
  const redis = createRedis(config, 'producer', 'tickforge-web');
  redis.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
  const subscriber = createRedis(config, 'subscriber', 'tickforge-web-events');
  subscriber.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
  const producer = new Producer(redis, config.prefix);
  const events = new JobEventHub(subscriber, config.prefix);
  await events.open(queues);
  const instruments = new ProcessInstruments(redis, config.prefix, 'web', db);
  instruments.start();
  const metrics = new WebMetrics({
    producer,
    queues,
    redis,
    prefix: config.prefix,
    db,
    instruments,
    sseConnections: () => events.connections,
  });
  const deliveries = createRedis(config, 'subscriber', 'tickforge-web-deliveries');
  deliveries.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
  const delivery = new EventDeliveryListener(deliveries, config.prefix, (channel, publishedAt) => metrics.eventDelivered(channel, publishedAt));
  await delivery.start();
  const barsCache = new BarsCache(redis, config.prefix, {
    ...cacheOptions(config),
    metrics: { lookup: (tier, hit) => metrics.barsCache.inc({ tier, result: hit ? 'hit' : 'miss' }) },
  });
  await barsCache.listen(createRedis(config, 'subscriber', 'tickforge-web-bars-cache'));
  metrics.watchBarsCache(barsCache);
  const app = createApp({ config, logger, db, redis, producer, events, metrics, queues, barsCache });
  const streamConnection = createRedis(config, 'subscriber', 'tickforge-web-stream');
  streamConnection.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
  const realtime = new RealtimeServer({
    config,
    logger,
    tokens: { write: config.apiToken, read: config.readToken },
    producer,
    redis,
    streamConnection,
    jobEvents: events,
    store: new Store(db, config.dbSchema),
    metrics,
    barsCache,
    rateLimit: new EnqueueRateLimit(redis, config.prefix, config.rateLimitPerMinute),
  });

  /** Everything started above, in the order it can be let go of. */
  const release = async () => {
    await delivery.stop();
    await instruments.stop();
    await barsCache.close();
    await producer.close();
    await db.destroy();
    await Promise.all([closeRedis(redis), closeRedis(subscriber), closeRedis(deliveries), closeRedis(streamConnection)]);
  };
  let server: Server;
  try {
    server = await listen(createServer(app), config.port, host);
  } catch (error) {
    await events.close();
    await release();
    throw error;
  }
  await realtime.attach(server);
  const address = server.address() as AddressInfo;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  logger.info(`web listening on ${url} (API /api, WebSocket ${REALTIME_PATH}, Bull Board /admin/queues)`);

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    realtime,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await realtime.close();
        // Event streams stay open until their job ends; end them so the server can stop.
        await events.close();
        await stopped;
        await release();
        logger.info('web stopped');
      })();
      return closing;
    },
  };
}
