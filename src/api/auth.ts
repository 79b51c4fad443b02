import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * The challenge on every 401: browsers then ask for the token (basic auth, the token as the
 * password) and send it with the API calls of the console and the links the demo prints.
 */
export const AUTH_CHALLENGE = 'Basic realm="tickforge", charset="UTF-8"';

/** What a token may do: `write` enqueues and retries; `read` only queries. */
export type Role = 'write' | 'read';

export interface Tokens {
  write?: string;
  read?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares in constant time (digests first, so lengths leak nothing either). */
function matches(candidate: string, expected: string | undefined): boolean {
  return expected !== undefined && timingSafeEqual(digest(candidate), digest(expected));
}

/** The token in `Authorization: Bearer …`, or the password of `Basic …` (what a browser sends). */
function presentedToken(req: Request): string | undefined {
  return tokenOfAuthorization(req.get('authorization'));
}

/** The token an `Authorization` header value carries (Bearer, or the Basic password). */
export function tokenOfAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

export function roleOf(req: Request, tokens: Tokens): Role | undefined {
  const token = presentedToken(req);
  return token === undefined ? undefined : roleOfToken(token, tokens);
}

/** The role a token grants, or undefined for a token that is neither. */
export function roleOfToken(token: string, tokens: Tokens): Role | undefined {
  if (matches(token, tokens.write)) return 'write';
  if (matches(token, tokens.read)) return 'read';
  return undefined;
}

/** A stable, non-secret name for the presented token (rate-limit keys, logs). */
export function tokenId(req: Request): string {
  const token = presentedToken(req);
  return token === undefined ? `ip:${req.ip}` : tokenIdOf(token);
}

/** tokenId of a token presented some other way (a WebSocket's subprotocol or first message). */
export function tokenIdOf(token: string): string {
  return `token:${digest(token).toString('hex').slice(0, 16)}`;
}

declare module 'express-serve-static-core' {
  interface Request {
    role?: Role;
  }
}

/**
 * Requires a token allowed to `need`. With no tokens configured (development mode, explicitly
 * enabled) every request is let through with the write role.
 */
export function requireRole(need: Role, tokens: Tokens) {
  const open = tokens.write === undefined && tokens.read === undefined;
  return (req: Request, res: Response, next: NextFunction) => {
    const role = open ? 'write' : roleOf(req, tokens);
    if (role === undefined) {
      res.set('WWW-Authenticate', AUTH_CHALLENGE);
      res.status(401).json({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
      return;
    }
    if (need === 'write' && role !== 'write') {
      res.status(403).json({ error: 'this token is read-only' });
      return;
    }
    req.role = role;
    next();
  };
}
