import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { QUEUES } from '../../src/queues/names.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';

/** The corpus lives in the source tree (test/corpus), beside this file's source. */
const CORPUS = fileURLToPath(new URL('../../../test/corpus/', import.meta.url));

const jsonLines = <T>(file: string): T[] =>
  readFileSync(path.join(CORPUS, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

interface PayloadCase {
  job: string;
  breaks: string;
  payload: unknown;
  field: string;
  mentions?: string;
}
interface BodyCase {
  breaks: string;
  job: string;
  contentType: string;
  body: string;
  status: number;
  mentions: string;
}
interface QueryCase {
  path: string;
  param: string;
}

const payloads = jsonLines<PayloadCase>('payloads.generated.jsonl');
const bodies = jsonLines<BodyCase>('bodies.jsonl');
const queries = jsonLines<QueryCase>('queries.jsonl');
/**
 * Per file: what the failure under `onInvalid: 'fail'` mentions, and the rows (ts, close) the
 * default `onInvalid: 'skip'` writes; with none, the import fails under skip too, for the same reason.
 */
interface CsvCase {
  mentions: string;
  skipWrites: Array<[string, number]>;
}
const csvFiles = JSON.parse(readFileSync(path.join(CORPUS, 'csv/manifest.json'), 'utf8')) as Record<string, CsvCase>;

describe('bad input corpus', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let web: WebServer;
  let dir: string;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const statuses: number[] = [];

  before(async () => {
    system = await TestSystem.create({ importRoots: [os.tmpdir(), CORPUS] });
    web = await startWebServer(system.config, createLogger('test-web', system.config.logLevel), '127.0.0.1');
    await system.startWorker();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-corpus-'));
  });

  after(async () => {
    await web.close();
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Jobs of every state in every queue: a refused input must leave them all empty. */
  async function expectNothingEnqueued(): Promise<void> {
    const counts = await Promise.all(
      QUEUES.map(async (queue) => {
        const count = await system.producer
          .queue(queue)
          .getJobCountByTypes('waiting', 'delayed', 'prioritized', 'waiting-children', 'active', 'completed', 'failed');
        return [queue, count] as const;
      }),
    );
    expect(counts.filter(([, count]) => count > 0)).to.deep.equal([]);
  }

  it(`should hold at least 200 malformed inputs`, () => {
    const total = payloads.length + bodies.length + queries.length + Object.keys(csvFiles).length + 1;
    expect(total).to.be.at.least(200);
  });

  it(`should answer 400 naming the field for each of ${payloads.length} malformed payloads, and enqueue none`, async () => {
    const failures: string[] = [];
    for (const testCase of payloads) {
      const response = await fetch(`${web.url}/api/jobs/${testCase.job}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(testCase.payload),
      });
      statuses.push(response.status);
      const body = (await response.json()) as { issues?: Array<{ path: string; message: string }> };
      const named = body.issues?.some((issue) =>
        testCase.field === ''
          ? issue.path === '' && issue.message.includes(testCase.mentions!)
          : issue.path === testCase.field || issue.path.startsWith(`${testCase.field}.`),
      );
      if (response.status !== 400 || !named) {
        failures.push(`${testCase.job} with ${testCase.breaks}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
    }
    expect(failures).to.deep.equal([]);
    await expectNothingEnqueued();
  });

  it(`should refuse each of ${bodies.length} malformed request bodies with a 4xx that says why`, async () => {
    const failures: string[] = [];
    for (const testCase of bodies) {
      const response = await fetch(`${web.url}/api/jobs/${testCase.job}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': testCase.contentType },
        body: Buffer.from(testCase.body, 'base64'),
      });
      statuses.push(response.status);
      const text = await response.text();
      if (response.status !== testCase.status || !text.includes(testCase.mentions)) {
        failures.push(
          `${testCase.breaks}: expected ${testCase.status} mentioning "${testCase.mentions}", got ${response.status} ${text.slice(0, 200)}`,
        );
      }
    }
    expect(failures).to.deep.equal([]);
    await expectNothingEnqueued();
  });

  it(`should answer 400 naming the parameter for each of ${queries.length} malformed query strings`, async () => {
    const failures: string[] = [];
    for (const testCase of queries) {
      const response = await fetch(`${web.url}${testCase.path}`, { headers: auth });
      statuses.push(response.status);
      const body = (await response.json()) as { error: string; issues?: Array<{ path: string }> };
      const named = body.issues?.some((issue) => issue.path === testCase.param) || body.error.includes(testCase.param);
      if (response.status !== 400 || !named)
        failures.push(`${testCase.path}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
    expect(failures).to.deep.equal([]);
    await expectNothingEnqueued();
  });

  for (const onInvalid of ['fail', 'skip'] as const) {
    it(`should import each of ${Object.keys(csvFiles).length} malformed CSV files under onInvalid ${onInvalid} with exactly the rows it allows, naming the line or problem`, async () => {
      const bars = new BarsRepository(system.db, system.config.dbSchema);
      const failures: string[] = [];
      for (const [index, [file, expected]] of Object.entries(csvFiles).entries()) {
        const source = path.join(CORPUS, 'csv', file);
        // Files with a symbol column name their own symbols; the others get one from the payload.
        const ownSymbols = readFileSync(source, 'latin1').split('\n')[0].includes('symbol');
        const symbol = `CSV${onInvalid.toUpperCase()}${index}`;
        const before = await bars.count();
        const outcome = await system
          .run('import-bars', { file: source, ...(ownSymbols ? {} : { symbol }), timeframe: '1m', onInvalid })
          .then(
            ({ result }) => result,
            (error: Error) => error.message,
          );
        const allowed = onInvalid === 'skip' ? expected.skipWrites : [];
        const written = (await bars.count()) - before;
        if (allowed.length === 0) {
          if (typeof outcome !== 'string' || !outcome.includes(expected.mentions))
            failures.push(
              `${file}: expected a failure mentioning "${expected.mentions}", got: ${JSON.stringify(outcome).slice(0, 200)}`,
            );
        } else if (typeof outcome === 'string') {
          failures.push(`${file}: expected ${allowed.length} rows written, got a failure: ${outcome.slice(0, 200)}`);
        } else {
          const stored = await system.db
            .withSchema(system.config.dbSchema)
            .table('bars')
            .where({ symbol, timeframe: '1m' })
            .orderBy('ts')
            .select('ts', 'close');
          const rows = stored.map((row: { ts: Date; close: number }) => [row.ts.toISOString(), Number(row.close)]);
          const reasons = outcome.rejected.map((rejection) => `line ${rejection.line}: ${rejection.reason}`).join('; ');
          if (
            JSON.stringify(rows) !== JSON.stringify(allowed) ||
            outcome.written !== allowed.length ||
            !reasons.includes(expected.mentions)
          )
            failures.push(
              `${file}: expected rows ${JSON.stringify(allowed)} and a rejection mentioning "${expected.mentions}", got rows ${JSON.stringify(rows)}, written ${outcome.written}, rejections "${reasons}"`,
            );
        }
        if (written !== allowed.length) failures.push(`${file}: ${written} rows written, expected ${allowed.length}`);
      }
      expect(failures).to.deep.equal([]);
    });
  }

  it('should fail the import of 100 MB of garbage without writing a row, and keep serving', async () => {
    const file = path.join(dir, 'garbage.csv');
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = 0x21 + ((i * 7919) % 90);
    await writeFile(file, Buffer.concat(Array.from({ length: 100 }, () => chunk)));
    const bars = new BarsRepository(system.db, system.config.dbSchema);
    const before = await bars.count();
    const outcome = await system.run('import-bars', { file, symbol: 'GARBAGE', timeframe: '1m' }).then(
      () => 'completed',
      (error: Error) => error.message,
    );
    expect(outcome).to.match(/cannot import: line 1: (the file is not readable CSV|the header must name)/);
    expect(await bars.count()).to.equal(before);
    expect((await fetch(`${web.url}/healthz`)).status).to.equal(200);
  });

  it('should never have answered 5xx, and still enqueue a valid job', async () => {
    expect(statuses.filter((status) => status >= 500)).to.deep.equal([]);
    const response = await fetch(`${web.url}/api/jobs/noop`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).to.equal(202);
  });
});
