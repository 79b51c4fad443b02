import type { Server } from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Config } from '../shared/config.js';
import { createDb, dbSettings } from '../shared/db.js';
import type { Logger } from '../shared/logger.js';
import { PerformanceRecorder } from '../metrics/performance.js';
import { observeQueries } from '../metrics/postgres.js';
import { Producer } from '../queues/producer.js';
import { activeQueues } from '../queues/registry.js';
import { closeRedis, createRedis } from '../shared/redis.js';
import { createApp } from './app.js';
import { JobEventHub } from './job-events.js';
import { WebMetrics } from './metrics.js';

export interface WebServer {
  server: Server;
  /** The URL the server listens on, such as http://127.0.0.1:3000 */
  url: string;
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
  const performance = new PerformanceRecorder(redis, config.prefix, `web:${os.hostname()}:${process.pid}`);
  performance.start();
  const stopTimingQueries = observeQueries((kind, durationMs) => performance.time('db.query', kind, durationMs));
  const metrics = new WebMetrics(producer, queues, performance);
  const app = createApp({ config, logger, db, redis, producer, events, metrics, queues });

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, host, () => resolve(listening));
    listening.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  logger.info(`web listening on ${url} (API /api, Bull Board /admin/queues)`);

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Event streams stay open until their job ends; end them so the server can stop.
        await events.close();
        await stopped;
        stopTimingQueries();
        await performance.stop();
        await producer.close();
        await db.destroy();
        await Promise.all([closeRedis(redis), closeRedis(subscriber)]);
        logger.info('web stopped');
      })();
      return closing;
    },
  };
}
