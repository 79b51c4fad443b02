import { expect } from 'chai';
import pg from 'pg';
import { errorMessage, InputError, isRetryable } from '../../src/shared/errors.js';
import { TEST_DATABASE_URL } from '../helpers/config.js';

describe('errors', () => {
  let client: pg.Client;

  before(async () => {
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });

  after(async () => {
    await client.end();
  });

  const databaseError = (sql: string) => client.query(sql).then(
    () => {
      throw new Error(`${sql} succeeded`);
    },
    (error: Error) => error,
  );

  it('should keep the whole of a database message that has no SQL text before it', async () => {
    const error = await databaseError('SELECT 3000000000::integer');
    expect(errorMessage(error)).to.equal('database error 22003: integer out of range');
  });

  it('should keep only what PostgreSQL said when knex put the SQL before it', async () => {
    const error = await databaseError('SELECT 1/0');
    error.message = `SELECT 1/0 - ${error.message}`;
    expect(errorMessage(error)).to.equal('database error 22012: division by zero');
  });

  it('should not retry a value PostgreSQL cannot store or compute, nor a RangeError, and retry the rest', async () => {
    expect(isRetryable(await databaseError('SELECT 3000000000::integer'))).to.equal(false);
    expect(isRetryable(await databaseError("SELECT 'x'::timestamptz"))).to.equal(false);
    expect(isRetryable(new RangeError('Invalid time value'))).to.equal(false);
    expect(isRetryable(new InputError('no rows'))).to.equal(false);
    expect(isRetryable(await databaseError('SELECT * FROM no_such_table_here'))).to.equal(true);
    expect(isRetryable(new Error('connection reset'))).to.equal(true);
  });
});
