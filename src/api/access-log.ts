import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { roleOf, type Tokens } from './auth.js';

/** Which token a request presented, by name: never its value. */
export type TokenName = 'write' | 'read' | 'invalid' | 'none';

export function tokenName(req: IncomingMessage, tokens: Tokens): TokenName {
  if (!req.headers.authorization) return 'none';
  return roleOf(req, tokens) ?? 'invalid';
}

/** The matched route pattern (`/api/jobs/:queue/:id`), never the raw URL with its ids; `unmatched` for a 404. */
export function routeOf(req: Request): string {
  return req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
}

// A request id from a client or proxy is kept when it is short and plain; anything else is replaced.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: `X-Request-Id` when sane, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The access log's fields and message of a request that ended. */
export function accessLine(
  req: IncomingMessage,
  route: string,
  status: number,
  durationMs: number,
  tokens: Tokens,
): { fields: { method: string; route: string; status: number; durationMs: number; token: TokenName }; message: string } {
  const method = req.method ?? 'GET';
  return {
    fields: { method, route, status, durationMs, token: tokenName(req, tokens) },
    message: `${method} ${route} ${status} in ${durationMs} ms`,
  };
}

/**
 * The HTTP access log: one line per request when it ends (also for 401, 403, 429 and for
 * clients that hang up) with method, route, status, duration, the request id (taken from
 * `X-Request-Id` when sane, made otherwise, and echoed back) and the token's name.
 */
export function accessLog(logger: Logger, tokens: Tokens) {
  const line = (req: IncomingMessage, res: ServerResponse, responseTime: number) =>
    accessLine(req, routeOf(req as Request), res.statusCode, responseTime, tokens);
  return pinoHttp({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    genReqId(req, res) {
      const id = requestIdOf(req);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res, responseTime) => line(req, res, responseTime).message,
    customErrorMessage: (req, res) => `${req.method} ${routeOf(req as Request)} failed with ${res.statusCode}`,
    customSuccessObject: (req, res, value: { responseTime: number }) => line(req, res, value.responseTime).fields,
    customErrorObject: (req, res, error, value: { responseTime: number }) => ({
      ...line(req, res, value.responseTime).fields,
      err: error,
    }),
  });
}
