import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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

/** The digests of the configured tokens, computed once per Tokens object. */
const expectedDigests = new WeakMap<Tokens, { write?: Buffer; read?: Buffer }>();

function digestsOf(tokens: Tokens): { write?: Buffer; read?: Buffer } {
  let digests = expectedDigests.get(tokens);
  if (!digests) {
    digests = {
      write: tokens.write === undefined ? undefined : digest(tokens.write),
      read: tokens.read === undefined ? undefined : digest(tokens.read),
    };
    expectedDigests.set(tokens, digests);
  }
  return digests;
}

/** Compares in constant time (digests, so lengths leak nothing either). */
function matches(candidate: Buffer, expected: Buffer | undefined): boolean {
  return expected !== undefined && timingSafeEqual(candidate, expected);
}

/**
 * The digest of the token each request presented (null: none), computed once however many steps
 * ask (authentication, the access log, the audit trail, the rate limits), for as long as the
 * request lives.
 */
const presentedDigests = new WeakMap<IncomingMessage, Buffer | null>();

function presentedDigest(req: IncomingMessage): Buffer | undefined {
  let found = presentedDigests.get(req);
  if (found === undefined) {
    const token = tokenOfAuthorization(req.headers.authorization);
    found = token === undefined ? null : digest(token);
    presentedDigests.set(req, found);
  }
  return found ?? undefined;
}

/** The token in `Authorization: Bearer …`, or the password of `Basic …` (what a browser sends). */
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

/** The role the request's token grants, or undefined when it presented none or an unknown one. */
export function roleOf(req: IncomingMessage, tokens: Tokens): Role | undefined {
  const presented = presentedDigest(req);
  return presented === undefined ? undefined : roleOfDigest(presented, tokens);
}

function roleOfDigest(candidate: Buffer, tokens: Tokens): Role | undefined {
  const expected = digestsOf(tokens);
  if (matches(candidate, expected.write)) return 'write';
  if (matches(candidate, expected.read)) return 'read';
  return undefined;
}

/** The role a token grants, or undefined for a token that is neither. */
export function roleOfToken(token: string, tokens: Tokens): Role | undefined {
  return roleOfDigest(digest(token), tokens);
}

/** A stable, non-secret name for the presented token (rate-limit keys, logs). */
export function tokenId(req: Request): string {
  const presented = presentedDigest(req);
  return presented === undefined ? `ip:${req.ip}` : idOfDigest(presented);
}

/** tokenId of a token presented some other way (a WebSocket's subprotocol or first message). */
export function tokenIdOf(token: string): string {
  return idOfDigest(digest(token));
}

const idOfDigest = (tokenDigest: Buffer) => `token:${tokenDigest.toString('hex', 0, 8)}`;

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
