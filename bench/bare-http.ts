/**
 * The limit the cached bars API is measured against: a bare node:http server, in a process of
 * its own like the web process, answering the bytes of a file from memory. Given a Redis URL
 * and a key, it first makes one Redis round trip per request, the one a bars cache hit spends
 * on its freshness check. Prints its port on stdout; stops on SIGTERM.
 *
 *   node dist/bench/bare-http.js BODY_FILE [REDIS_URL KEY]
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

const [bodyFile, redisUrl, key] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const redis = redisUrl && key ? new Redis(redisUrl) : undefined;
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };

const server = http.createServer((_request, response) => {
  const answer = () => response.writeHead(200, headers).end(body);
  if (!redis) return answer();
  redis.get(key).then(answer, (error: unknown) => response.writeHead(503).end(String(error)));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  redis?.disconnect();
});
