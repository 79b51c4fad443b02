import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { ES_FUTURES, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';

/** The ES file's own header and its ESZ13 row of 2013-10-08 (close 1646.5), with another close. */
function esz13On20131008(close: number): string {
  return [
    'contract,contract_month,date,open,high,low,close,volume,open_interest',
    `ESZ13,201312,2013-10-08,1669,1671.25,1646.5,${close},2109007,2692235`,
  ].join('\n');
}

describe('futures bars through the bars cache', function () {
  let system: TestSystem;
  let web: WebServer;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await system.run('import-futures', { file: dataFile(ES_FUTURES) });
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  /** The close GET /api/bars gives for a symbol's daily bar of 2013-10-08. */
  async function closeOn20131008(symbol: string): Promise<number> {
    const query = new URLSearchParams({ symbol, timeframe: '1d', from: '2013-10-08', to: '2013-10-08' });
    const response = await fetch(`${web.url}/api/bars?${query}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(response.status, symbol).to.equal(200);
    const body = (await response.json()) as { bars: Array<{ close: number }> };
    expect(body.bars, symbol).to.have.length(1);
    return body.bars[0].close;
  }

  it('should serve a re-imported contract and a rebuilt continuous series, never the answer cached before', async () => {
    const { result: first } = await system.run('build-continuous', { root: 'ES', roll: 'calendar', adjust: 'none' });
    // Read twice, so the answers are cached before the data changes.
    for (let read = 0; read < 2; read++) {
      expect(await closeOn20131008('ESZ13')).to.equal(1646.5);
      expect(await closeOn20131008(first.series)).to.equal(1646.5);
    }

    await system.run('import-futures', { csv: esz13On20131008(1650.25) });
    expect(await closeOn20131008('ESZ13')).to.equal(1650.25);
    // The series holds what its last build stored until it is rebuilt.
    expect(await closeOn20131008(first.series)).to.equal(1646.5);

    const { result: rebuilt } = await system.run('build-continuous', { root: 'ES', roll: 'calendar', adjust: 'none' });
    expect(rebuilt.series).to.equal(first.series);
    expect(await closeOn20131008(first.series)).to.equal(1650.25);
  });
});
