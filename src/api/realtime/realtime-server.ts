import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RedisClient } from '../../shared/redis.js';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BarsCache } from '../../bars/cache.js';
import { BarsQueryService } from '../../bars/query.js';
import type { Producer } from '../../queues/producer.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import type { Store } from '../../store/store.js';
import { roleOfToken, tokenOfAuthorization, type Role, type Tokens } from '../auth.js';
import type { JobEventHub } from '../job-events.js';
import type { WebMetrics } from '../metrics.js';
import type { EnqueueRateLimit } from '../rate-limit.js';
import { CachePerformanceFeed, cachePerformance } from './cache-performance.js';
import { ChannelFanout, JobKinds, type RealtimeContext } from './context.js';
import { EventStreamReader } from './event-stream.js';
import { CLOSE, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from './protocol.js';
import { RealtimeSession } from './session.js';

/** The path the WebSocket upgrade is served on. */
export const REALTIME_PATH = '/api/ws';

/** The largest message a client may send. */
const MAX_CLIENT_MESSAGE_BYTES = 1024 * 1024;

export interface RealtimeDeps {
  config: Config;
  logger: Logger;
  tokens: Tokens;
  producer: Producer;
  redis: RedisClient;
  /** A connection of its own for the blocking reads of the event stream. */
  streamConnection: RedisClient;
  jobEvents: JobEventHub;
  store: Store;
  metrics: WebMetrics;
  /** The bars cache the HTTP routes use, so both answer from the same tiers. */
  barsCache: BarsCache;
  rateLimit: EnqueueRateLimit;
}

/** The token of a handshake: the Authorization header, else a `bearer.<token>` subprotocol entry. */
function handshakeToken(req: IncomingMessage): string | undefined {
  const header = tokenOfAuthorization(req.headers.authorization);
  if (header !== undefined) return header;
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((entry) => entry.trim());
  const entry = offered.find((protocol) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  return entry?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
}

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The web process's WebSocket at GET /api/ws (docs/realtime.md): authenticates the handshake,
 * runs one RealtimeSession per client, pings every client, follows the event stream for the
 * channel subscriptions and computes cache_performance for its subscribers.
 */
export class RealtimeServer {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<RealtimeSession>();
  private readonly reader: EventStreamReader;
  private readonly feed: CachePerformanceFeed;
  private readonly context: RealtimeContext;
  private heartbeat: NodeJS.Timeout | undefined;
  private droppedClients = 0;

  constructor(private readonly deps: RealtimeDeps) {
    const { config, logger, redis, metrics } = deps;
    const channels = new ChannelFanout();
    this.reader = new EventStreamReader(deps.streamConnection, config.eventStream, (event) => channels.publish(event));
    const { barsCache } = deps;
    this.feed = new CachePerformanceFeed(
      () =>
        cachePerformance(redis, [
          {
            name: 'bars',
            match: `${config.prefix}:bars-cache:answer:*`,
            counters: { hits: () => metrics.barsCache.count('hit'), misses: () => metrics.barsCache.count('miss') },
          },
          { name: 'analytics', match: `${config.prefix}:analytics-cache:*` },
        ]),
      config.wsCachePerformanceMs,
      (error) => logger.warn({ err: error }, 'cache_performance could not be computed'),
    );
    this.context = {
      config,
      logger,
      tokens: deps.tokens,
      producer: deps.producer,
      redis,
      jobEvents: deps.jobEvents,
      jobKinds: new JobKinds(deps.producer),
      channels,
      cachePerformance: this.feed,
      bars: new BarsQueryService(deps.store.barsReader, barsCache),
      rateLimit: deps.rateLimit,
      dropped: () => {
        this.droppedClients++;
        metrics.wsDropped.inc();
      },
    };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      // Answer with tickforge's subprotocol when offered, never with the entry that carries the token.
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
  }

  /** Clients connected to this process. */
  get connections(): number {
    return this.sessions.size;
  }

  /** Clients this process dropped for reading too slowly since it started. */
  get dropped(): number {
    return this.droppedClients;
  }

  /** Starts following the event stream and serving upgrades on `server`. */
  async attach(server: Server): Promise<void> {
    await this.reader.open();
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.heartbeat = setInterval(() => {
      for (const session of this.sessions) session.heartbeat();
    }, this.deps.config.wsHeartbeatMs);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== REALTIME_PATH) return refuse(socket, 404, 'Not Found', `no WebSocket at ${url.pathname}`);
    if (url.searchParams.has('token') || url.searchParams.has('access_token')) {
      // URLs end up in access logs and browser history: a token there is as good as published.
      return refuse(
        socket,
        400,
        'Bad Request',
        'a token is never accepted in the URL; send it in the Authorization header, a bearer.<token> subprotocol or the first message',
      );
    }
    const { tokens } = this.deps;
    const open = tokens.write === undefined && tokens.read === undefined;
    const token = handshakeToken(req);
    let role: Role | undefined = open ? 'write' : undefined;
    if (!open && token !== undefined) {
      role = roleOfToken(token, tokens);
      if (role === undefined) return refuse(socket, 401, 'Unauthorized', 'the token is not valid');
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const session = new RealtimeSession(ws, this.context, role, token, req.socket.remoteAddress ?? 'unknown');
      this.sessions.add(session);
      this.deps.metrics.wsConnections.set(this.sessions.size);
      ws.on('close', () => {
        this.sessions.delete(session);
        this.deps.metrics.wsConnections.set(this.sessions.size);
      });
      session.start();
    });
  }

  /** Closes every client with 1001 (they reconnect elsewhere and resume), then stops. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.feed.stop();
    for (const session of this.sessions) session.close(CLOSE.goingAway, 'the server is stopping; reconnect to resume');
    await this.reader.close();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
