import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { freePort } from '../../src/cli/child-service.js';
import { redisAnswers } from '../../src/cli/redis-child.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

describe('a Redis that stops answering', function () {
  this.timeout(60_000);
  let server: ChildProcess;
  let system: TestSystem;
  let web: WebServer;

  before(async () => {
    const port = await freePort();
    // A Redis of this test's own: it is paused with SIGSTOP, which the shared one must never be.
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const url = `redis://127.0.0.1:${port}`;
    await eventually(() => redisAnswers(url, 500), 'the private redis-server', 15_000, 100);
    system = await TestSystem.create({ redisUrl: url });
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
  });

  after(async () => {
    server.kill('SIGCONT');
    await web?.close();
    await system?.close();
    server.kill('SIGTERM');
    if (server.exitCode === null) await once(server, 'exit');
  });

  const timed = async (route: string, init: RequestInit = {}) => {
    const started = performance.now();
    const response = await fetch(`${web.url}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', ...init.headers },
    });
    await response.arrayBuffer();
    return { route, status: response.status, retryAfter: response.headers.get('retry-after'), ms: performance.now() - started };
  };

  it('should answer 503 with Retry-After within two seconds on every route while Redis is stopped, and recover when it resumes', async () => {
    expect((await timed('/api/jobs/noop', { method: 'POST', body: '{}' })).status).to.equal(202);
    server.kill('SIGSTOP');
    const answers = [];
    for (const route of ['/api/jobs/noop', '/api/bars?symbol=SPY&timeframe=1d', '/api/jobs/failed', '/api/system/health']) {
      answers.push(await timed(route, route === '/api/jobs/noop' ? { method: 'POST', body: '{}' } : {}));
    }
    for (const route of ['/metrics', '/readyz', '/admin/queues/api/queues']) answers.push(await timed(route));
    for (const answer of answers) {
      expect(answer.ms, `${answer.route} took ${Math.round(answer.ms)} ms`).to.be.below(2_000);
      expect(answer.status, answer.route).to.equal(503);
    }
    for (const answer of answers.filter((a) => a.route !== '/readyz')) expect(answer.retryAfter, answer.route).to.equal('5');

    server.kill('SIGCONT');
    const recovered = await eventually(
      async () => {
        const answer = await timed('/api/jobs/noop', { method: 'POST', body: '{}' });
        return answer.status === 202 && answer;
      },
      'an enqueue after Redis resumed',
      10_000,
      200,
    );
    expect(recovered.status).to.equal(202);
  });
});
