/**
 * The web process the WebSocket benchmark measures, in a process of its own so that its memory
 * is its own: starts the web server from the environment, sends its URL to the parent, and
 * answers `memory` requests with its memory after a full garbage collection.
 */
import { startWebServer } from '../src/api/server.js';
import { loadConfig } from '../src/shared/config.js';
import { createLogger } from '../src/shared/logger.js';

const config = loadConfig(process.env);
const web = await startWebServer(config, createLogger('bench-web', 'warn'), '127.0.0.1');
const collect = (globalThis as { gc?: () => void }).gc;

process.on('message', (message: string) => {
  if (message === 'memory') {
    collect?.();
    const { rss, heapUsed, external } = process.memoryUsage();
    process.send!({ rss, heapUsed, external, connections: web.realtime.connections });
  } else if (message === 'stop') {
    void web.close().then(() => process.exit(0));
  }
});
process.send!({ url: web.url });
