import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import accepts from 'accepts';
import type { Logger } from 'pino';
import { accessLine, requestIdOf } from './access-log.js';
import { roleOf, type Role, type Tokens } from './auth.js';
import type { WebMetrics } from './metrics.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A 200 answer ready to send: its own headers (name, value, name, value …) and its body. */
export interface ReadyAnswer {
  headers: string[];
  body: Buffer;
}

/**
 * A GET route whose common answers are ready before any routing: a cached answer held in this
 * process's memory, say. `answer` gets the request and its raw query string and returns the
 * answer, or undefined (synchronously or not) to leave the request to Express; a rejection
 * leaves it to Express too, whose route then answers the failure.
 */
export interface CachedRoute {
  /** The path answered (exactly, with a query string); also the route pattern in logs and metrics. */
  path: string;
  role: Role;
  answer(req: IncomingMessage, rawQuery: string): Promise<ReadyAnswer | undefined> | undefined;
}

export interface CachedRouteDeps {
  tokens: Tokens;
  logger: Logger;
  metrics: WebMetrics;
  /** Whether the services the route reads are up; when not, Express answers (503). */
  ready: () => boolean;
}

/** Whether the request takes a gzip answer, decided as Express's `acceptsEncodings('gzip')` decides it. */
export function acceptsGzip(req: IncomingMessage): boolean {
  return accepts(req).encoding('gzip') === 'gzip';
}

/** SECURITY_HEADERS as one flat list, the form writeHead takes. */
const SECURITY_HEADER_LIST = SECURITY_HEADERS.flat();

/**
 * The HTTP request listener: the route's ready answers sent straight from the bytes they hold,
 * everything else (other routes, a request without a valid token, any answer the route does not
 * have ready) through Express. A ready answer keeps what Express would do for it: the token
 * checked (digested once), the security headers, the request id, the access-log line and the
 * request metrics.
 */
export function withCachedRoute(express: RequestListener, route: CachedRoute, deps: CachedRouteDeps): RequestListener {
  const { tokens, logger, metrics, ready } = deps;
  const open = tokens.write === undefined && tokens.read === undefined;
  const prefix = `${route.path}?`;
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith(prefix) || !ready()) return express(req, res);
    const role = open ? 'write' : roleOf(req, tokens);
    if (role === undefined || (route.role === 'write' && role !== 'write')) return express(req, res);
    const started = performance.now();
    const pending = route.answer(req, url.slice(prefix.length));
    if (pending === undefined) return express(req, res);
    pending.then(
      (answer) => {
        if (answer === undefined) return express(req, res);
        const id = requestIdOf(req);
        res.writeHead(200, [
          ...SECURITY_HEADER_LIST,
          'X-Request-Id',
          id,
          ...answer.headers,
          'Content-Length',
          String(answer.body.length),
        ]);
        res.end(answer.body);
        const ms = performance.now() - started;
        metrics.requestEnded('GET', route.path, 200, ms);
        const { fields, message } = accessLine(req, route.path, 200, Math.round(ms), tokens);
        logger.info({ reqId: id, ...fields }, message);
      },
      // The route's own handler answers the failure, as it answers any.
      () => express(req, res),
    );
  };
}
