import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
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
const csvFiles = JSON.parse(readFileSync(path.join(CORPUS, 'csv/manifest.json'), 'utf8')) as Record<string, string>;

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
      const named = body.issues?.some((issue) => issue.path === testCase.field || issue.path.startsWith(`${testCase.field}.`));
      if (response.status !== 400 || !named) {
        failures.push(`${testCase.job} with ${testCase.breaks}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
    }
    expect(failures).to.deep.equal([]);
    const counts = await Promise.all(
      ['ingest', 'sync', 'system', 'futures'].map((queue) =>
        system.producer.queue(queue as 'ingest').getJobCountByTypes('waiting', 'delayed', 'active', 'completed', 'failed'),
      ),
    );
    expect(counts.reduce((sum, count) => sum + count, 0)).to.equal(0);
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
  });

  it(`should answer 400 naming the parameter for each of ${queries.length} malformed query strings`, async () => {
    const failures: string[] = [];
    for (const testCase of queries) {
      const response = await fetch(`${web.url}${testCase.path}`, { headers: auth });
      statuses.push(response.status);
      const body = (await response.json()) as { error: string; issues?: Array<{ path: string }> };
      const named =
        testCase.param === '' ||
        body.issues?.some((issue) => issue.path === testCase.param) ||
        body.error.includes(testCase.param);
      if (response.status !== 400 || !named)
        failures.push(`${testCase.path}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
    expect(failures).to.deep.equal([]);
  });

  it(`should fail the import of each of ${Object.keys(csvFiles).length} malformed CSV files, naming the line or problem, writing no row`, async () => {
    const failures: string[] = [];
    for (const [file, mentions] of Object.entries(csvFiles)) {
      const source = path.join(CORPUS, 'csv', file);
      // Files with a symbol column name their own symbols; the others get one from the payload.
      const ownSymbols = readFileSync(source, 'latin1').split('\n')[0].includes('symbol');
      const symbol = ownSymbols ? {} : { symbol: `CSV${Object.keys(csvFiles).indexOf(file)}` };
      const outcome = await system.run('import-bars', { file: source, ...symbol, timeframe: '1m', onInvalid: 'fail' }).then(
        () => 'completed',
        (error: Error) => error.message,
      );
      if (!outcome.includes(mentions))
        failures.push(`${file}: expected a failure mentioning "${mentions}", got: ${outcome.slice(0, 200)}`);
    }
    expect(failures).to.deep.equal([]);
    expect(await new BarsRepository(system.db, system.config.dbSchema).count()).to.equal(0);
  });

  it('should fail the import of 100 MB of garbage without writing a row, and keep serving', async () => {
    const file = path.join(dir, 'garbage.csv');
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = 0x21 + ((i * 7919) % 90);
    await writeFile(file, Buffer.concat(Array.from({ length: 100 }, () => chunk)));
    const outcome = await system.run('import-bars', { file, symbol: 'GARBAGE', timeframe: '1m' }).then(
      () => 'completed',
      (error: Error) => error.message,
    );
    expect(outcome).to.match(/cannot import: line 1: (the file is not readable CSV|the header must name)/);
    expect(await new BarsRepository(system.db, system.config.dbSchema).count()).to.equal(0);
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
