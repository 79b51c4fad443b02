import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import { pino } from 'pino';
import { accessLog } from '../../src/api/access-log.js';
import { requireRole } from '../../src/api/auth.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';

describe('access log', () => {
  const tokens = { write: TEST_TOKEN, read: TEST_READ_TOKEN };
  const lines: Array<Record<string, unknown>> = [];
  let server: Server;
  let base: string;

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = express();
    app.use(accessLog(pino(sink), tokens));
    app.post('/api/jobs/:name', requireRole('write', tokens), (_req, res) => {
      res.status(202).json({ ok: true });
    });
    app.get('/api/limited', requireRole('read', tokens), (_req, res) => {
      res.status(429).json({ error: 'slow down' });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Sends a request and returns the access-log line written for it. */
  async function logged(path: string, init: RequestInit = {}) {
    const response = await fetch(`${base}${path}`, init);
    await response.arrayBuffer();
    const id = response.headers.get('x-request-id');
    for (let i = 0; i < 100 && !lines.some((line) => line.reqId === id); i++)
      await new Promise((resolve) => setImmediate(resolve));
    return { response, line: lines.find((line) => line.reqId === id) };
  }

  it('should log method, route pattern, status, duration, request id and the token name of a request', async () => {
    const { response, line } = await logged('/api/jobs/import-bars', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(response.status).to.equal(202);
    expect(line).to.deep.include({ method: 'POST', route: '/api/jobs/:name', status: 202, token: 'write' });
    expect(line?.durationMs).to.be.a('number');
    expect(line?.reqId).to.match(/^[0-9a-f-]{36}$/);
  });

  it('should log refused requests (401, 403, 429) with the name of the token they presented', async () => {
    expect((await logged('/api/jobs/noop', { method: 'POST' })).line).to.deep.include({ status: 401, token: 'none' });
    const wrong = await logged('/api/jobs/noop', { method: 'POST', headers: { authorization: 'Bearer not-a-token-at-all' } });
    expect(wrong.line).to.deep.include({ status: 401, token: 'invalid' });
    const readOnly = await logged('/api/jobs/noop', { method: 'POST', headers: { authorization: `Bearer ${TEST_READ_TOKEN}` } });
    expect(readOnly.line).to.deep.include({ status: 403, token: 'read' });
    const limited = await logged('/api/limited', { headers: { authorization: `Bearer ${TEST_READ_TOKEN}` } });
    expect(limited.line).to.deep.include({ status: 429, route: '/api/limited', token: 'read' });
  });

  it('should keep a sane request id from the caller and replace one that is not', async () => {
    const kept = await logged('/api/limited', { headers: { 'x-request-id': 'edge-42.a' } });
    expect(kept.response.headers.get('x-request-id')).to.equal('edge-42.a');
    expect(kept.line?.reqId).to.equal('edge-42.a');
    const replaced = await logged('/api/limited', { headers: { 'x-request-id': 'a b\tc' } });
    expect(replaced.response.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('should never write a token value', () => {
    const text = JSON.stringify(lines);
    expect(lines.length).to.be.at.least(7);
    expect(text).to.not.include(TEST_TOKEN);
    expect(text).to.not.include(TEST_READ_TOKEN);
    expect(text).to.not.include('not-a-token-at-all');
  });
});
