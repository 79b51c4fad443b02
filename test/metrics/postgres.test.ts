import { expect } from 'chai';
import knexFactory from 'knex';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { observeQueries, queryKind, type QueryKind } from '../../src/metrics/postgres.js';
import { TEST_DATABASE_URL } from '../helpers/config.js';

describe('PostgreSQL query timing', () => {
  let seen: Array<{ kind: QueryKind; durationMs: number; failed: boolean }>;
  let stop: () => void;

  beforeEach(() => {
    seen = [];
    stop = observeQueries((kind, durationMs, failed) => seen.push({ kind, durationMs, failed }));
  });

  afterEach(() => stop());

  it('should name a statement by its first keyword', () => {
    expect(queryKind('  SELECT 1')).to.equal('select');
    expect(queryKind('with t as (select 1) select * from t')).to.equal('select');
    expect(queryKind('(select 1) union (select 2)')).to.equal('select');
    expect(queryKind('INSERT INTO bars …')).to.equal('insert');
    expect(queryKind('COPY bars FROM STDIN')).to.equal('copy');
    expect(queryKind('BEGIN ISOLATION LEVEL REPEATABLE READ')).to.equal('transaction');
    expect(queryKind('set search_path to x')).to.equal('other');
  });

  it("should time knex's queries, raw clients' queries, COPY streams and failures without touching a call site", async () => {
    const db = knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      await db.raw('select pg_sleep(0.05)');
      await client.connect();
      await client.query('select 1');
      await client.query('delete from pg_catalog.pg_nonexistent').catch(() => undefined);
      const chunks: Buffer[] = [];
      for await (const chunk of client.query(
        copyTo('COPY (select generate_series(1, 100)) TO STDOUT'),
      ) as AsyncIterable<Buffer>) {
        chunks.push(chunk);
      }
      expect(Buffer.concat(chunks).toString().split('\n')).to.have.length(101);
    } finally {
      await client.end();
      await db.destroy();
    }
    const sleep = seen.find((query) => query.kind === 'select' && query.durationMs >= 45);
    expect(sleep, JSON.stringify(seen)).to.not.equal(undefined);
    expect(seen.find((query) => query.kind === 'delete')?.failed).to.equal(true);
    expect(seen.filter((query) => query.kind === 'copy' && !query.failed)).to.have.length(1);
  });

  it('should stop telling an observer once it stopped', async () => {
    stop();
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query('select 1');
    await client.end();
    expect(seen).to.deep.equal([]);
  });
});
