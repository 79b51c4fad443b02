import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { SPY_DAILY, dataFile } from '../helpers/data.js';
import { startProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';

interface ErrorBody {
  error: string;
  issues?: Array<{ path: string; message: string }>;
}

describe('did you mean, over the API and the CLI', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let web: WebServer;

  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${web.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as ErrorBody };
  };

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPY', timeframe: '1d' });
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  it('should answer 404 suggesting SPY when GET /api/bars asks for spy', async () => {
    const { status, body } = await call('/api/bars?symbol=spy&timeframe=1d');
    expect(status).to.equal(404);
    expect(body.error).to.match(/no 1d bars of spy .* did you mean SPY\?$/);
    const other = await call('/api/bars?symbol=SPX&timeframe=1d');
    expect(other.status).to.equal(404);
    expect(other.body.error).to.not.match(/did you mean/);
  });

  it('should answer 400 suggesting 1h when GET /api/bars asks for 1H, 60m or 1hour', async () => {
    for (const timeframe of ['1H', '60m', '1hour']) {
      const { status, body } = await call(`/api/bars?symbol=SPY&timeframe=${timeframe}`);
      expect(status, timeframe).to.equal(400);
      expect(body.issues, timeframe).to.deep.include({ path: 'timeframe', message: body.issues![0].message });
      expect(body.issues![0].message, timeframe).to.match(/did you mean 1h\?$/);
    }
  });

  it('should answer 404 suggesting import-bars when a job named import-bar is posted', async () => {
    const { status, body } = await call('/api/jobs/import-bar', { method: 'POST', body: '{}' });
    expect(status).to.equal(404);
    expect(body.error).to.match(/^unknown job "import-bar"; did you mean import-bars\?; known jobs: /);
  });

  it('should suggest in the CLI: a job name, a command, a timeframe, and a symbol the job finds in another case', async () => {
    const enqueue = startProcess('cli', system.config, ['enqueue', 'import-bar', '--data', '{}']);
    expect((await enqueue.exited).code).to.equal(2);
    expect(enqueue.stderr.join('')).to.match(/did you mean import-bars\?/);

    const command = startProcess('cli', system.config, ['import-bar']);
    expect((await command.exited).code).to.equal(2);
    expect(command.stderr.join('')).to.match(/Did you mean import-bars\?/);

    const timeframe = startProcess('cli', system.config, ['import-bars', dataFile(SPY_DAILY), '--symbol', 'SPY', '--timeframe', '1D']);
    expect((await timeframe.exited).code).to.equal(2);
    expect(timeframe.stderr.join('')).to.match(/timeframe: must be one of .*; did you mean 1d\?/);

    const aggregate = startProcess('cli', system.config, ['aggregate-bars', '--symbols', 'spy', '--source', '1d', '--wait']);
    expect((await aggregate.exited).code).to.equal(1);
    expect(aggregate.stderr.join('')).to.match(/no 1d bars of spy are stored; did you mean SPY\?/);
  });
});
