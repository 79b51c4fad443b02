/**
 * The web process the WebSocket benchmark measures, in a process of its own so that its memory
 * is its own: starts the web server from the environment, sends its URL to the parent, and
 * answers `memory` requests with its memory after a full garbage collection. With
 * BENCH_WS_BARE=1 it is the baseline instead: a bare `ws` server that sends every client the
 * text the parent hands it.
 */
import { WebSocketServer } from 'ws';
import { startWebServer } from '../src/api/server.js';
import { loadConfig } from '../src/shared/config.js';
import { createLogger } from '../src/shared/logger.js';

const collect = (globalThis as { gc?: () => void }).gc;

if (process.env.BENCH_WS_BARE === '1') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => ws.send('{"type":"subscribed"}'));
  process.on('message', (message: { broadcast?: string } | string) => {
    if (message === 'stop') wss.close(() => process.exit(0));
    else if (typeof message === 'object' && message.broadcast !== undefined) {
      for (const client of wss.clients) client.send(message.broadcast);
    }
  });
  const { port } = wss.address() as { port: number };
  process.send!({ url: `http://127.0.0.1:${port}` });
} else {
  const config = loadConfig(process.env);
  const web = await startWebServer(config, createLogger('bench-web', 'warn'), '127.0.0.1');
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
}
