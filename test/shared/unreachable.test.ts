import { expect } from 'chai';
import pg from 'pg';
import { freePort } from '../../src/cli/child-service.js';
import { describeUnreachable } from '../../src/shared/health.js';

async function connectionError(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  return client.connect().then(
    () => client.end(),
    (error: unknown) => error,
  );
}

describe('unreachable servers', () => {
  it('should name DATABASE_URL, without its password, when PostgreSQL refuses the connection', async () => {
    const port = await freePort();
    const databaseUrl = `postgres://ops:hunter2@127.0.0.1:${port}/tickforge`;
    const message = describeUnreachable(await connectionError(databaseUrl), { databaseUrl, redisUrl: 'redis://127.0.0.1:6379' });
    expect(message).to.equal(
      `cannot reach PostgreSQL at DATABASE_URL=postgres://ops:***@127.0.0.1:${port}/tickforge: ECONNREFUSED`,
    );
  });

  it('should name REDIS_URL when the refused port is the one Redis is configured on', async () => {
    const port = await freePort();
    const error = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', port });
    const message = describeUnreachable(error, {
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/x',
      redisUrl: `redis://127.0.0.1:${port}`,
    });
    expect(message).to.equal(`cannot reach Redis at REDIS_URL=redis://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('should leave other errors alone', () => {
    expect(describeUnreachable(new Error('syntax error'), { databaseUrl: 'postgres://h/x', redisUrl: 'redis://h' })).to.equal(
      undefined,
    );
  });
});
