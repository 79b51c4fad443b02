import { expect } from 'chai';
import type { Knex } from 'knex';
import { testConfig } from '../helpers/config.js';
import { dropSchemas, migratedDb } from '../helpers/db.js';
import type { MemoryFigures } from '../helpers/memory-web.js';
import { MemoryWeb, readStreamedBars, seedMinuteBars } from '../helpers/memory.js';
import { clearRedis } from '../helpers/redis.js';

const ROWS = 200_000;
const MB = 1024 * 1024;

describe('GET /api/bars streamed: memory of the web process', function () {
  this.timeout(180_000);
  const config = testConfig({ cacheMissRateLimit: 10_000 });
  let db: Knex;
  let web: MemoryWeb;

  before(async () => {
    db = await migratedDb(config);
    await seedMinuteBars(db, config.dbSchema, 'BIG', ROWS, Date.UTC(2020, 0, 1));
    web = await MemoryWeb.start(config, { liveEveryMs: 100 });
  });

  after(async () => {
    await web?.stop();
    await clearRedis(config);
    await dropSchemas(db, config);
  });

  it(`should keep the live heap's growth far below the answer's size and the JSON document's for ${ROWS.toLocaleString('en-US')} rows in every streamed format`, async () => {
    const json = await web.growth(() => web.buildJson('BIG', '1m', ROWS));
    const results: Array<{ format: string; growth: MemoryFigures; bytes: number }> = [];
    for (const format of ['ndjson', 'csv', 'arrow'] as const) {
      const { growth, outcome } = await web.growth(() =>
        readStreamedBars(web.url, config.apiToken!, { symbol: 'BIG', timeframe: '1m', session: '24h', format }),
      );
      expect(outcome.status, format).to.equal(200);
      if (format === 'ndjson') expect(outcome.lines).to.equal(ROWS);
      if (format === 'csv') expect(outcome.lines).to.equal(ROWS + 1);
      if (format === 'arrow') expect(outcome.bytes).to.be.greaterThan(ROWS * 7 * 8);
      process.stdout.write(
        `      ${format}: ${(outcome.bytes / MB).toFixed(1)} MB streamed, heap +${(growth.heapUsed / MB).toFixed(1)} MB, live heap +${(growth.liveHeap / MB).toFixed(1)} MB, RSS +${(growth.rss / MB).toFixed(1)} MB (JSON document in memory: live heap +${(json.growth.liveHeap / MB).toFixed(1)} MB for ${(json.outcome.length / MB).toFixed(1)} MB)\n`,
      );
      results.push({ format, growth, bytes: outcome.bytes });
    }
    for (const { format, growth, bytes } of results) {
      // What stays is a chunk of 10,000 rows in its stages (cursor rows, columns, encoded text):
      // the same for any number of rows, while the document grows with them.
      expect(growth.liveHeap, `${format}: live heap growth against the answer's size`).to.be.below(bytes / 2);
      expect(growth.liveHeap, `${format}: live heap growth against the JSON document's`).to.be.below(json.growth.liveHeap / 5);
    }
  });
});
