import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { TEST_TOKEN } from '../helpers/config.js';
import { startProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';

describe('web process', function () {
  this.timeout(60_000);
  let system: TestSystem;

  before(async () => {
    system = await TestSystem.create();
  });

  after(async () => {
    await system.close();
  });

  it('should refuse to start without a token unless development mode is on', async () => {
    const web = startProcess('web', { ...system.config, apiToken: undefined, readToken: undefined });
    expect((await web.exited).code).to.equal(1);
    expect(web.lines.some((line) => /TICKFORGE_API_TOKEN is not set/.test(line.msg ?? ''))).to.equal(true);
  });

  it('should say the port is in use and exit 1 when another process listens on it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const web = startProcess('web', { ...system.config, port });
      expect((await web.exited).code).to.equal(1);
      const said = web.lines.map((line) => line.msg ?? '').join('\n');
      expect(said).to.include(`port ${port} is already in use`);
      expect(said).not.to.match(/TypeError/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('should keep tokens out of its logs and exit 0 on SIGTERM', async () => {
    const web = startProcess('web', system.config, [], { LOG_LEVEL: 'debug' });
    const listening = await web.waitForLine((line) => /web listening on/.test(line.msg ?? ''));
    const url = /(http:\/\/[\d.:]+)/.exec(String(listening.msg))![1];
    const wrong = 'wrong-token-that-must-not-be-logged';
    const requests = [
      fetch(`${url}/api/jobs/noop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      }),
      fetch(`${url}/api/jobs/noop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${wrong}`, 'content-type': 'application/json' },
        body: '{}',
      }),
      fetch(`${url}/api/jobs/noop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: '{"cpuMs":',
      }),
      fetch(`${url}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString('base64')}` } }),
    ];
    expect((await Promise.all(requests)).map((response) => response.status)).to.deep.equal([202, 401, 400, 200]);
    expect((await web.stop('SIGTERM')).code).to.equal(0);
    const output = JSON.stringify(web.lines) + web.stderr.join('');
    expect(output).not.to.include(TEST_TOKEN);
    expect(output).not.to.include(wrong);
    expect(web.lines.some((line) => line.msg === 'web stopped')).to.equal(true);
  });
});
