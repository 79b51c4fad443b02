import { expect } from 'chai';
import {
  createDb,
  dbSettings,
  ident,
  migrateLatest,
  migrateRollback,
  pendingMigrations,
  type Knex,
} from '../../src/shared/db.js';
import { testConfig } from '../helpers/config.js';

describe('migrations', () => {
  const config = testConfig();
  let db: Knex;

  before(() => {
    db = createDb(dbSettings(config));
  });

  after(async () => {
    await db.raw(`DROP SCHEMA IF EXISTS ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
  });

  const tables = async () =>
    (await db('information_schema.tables').where({ table_schema: config.dbSchema }).pluck<string>('table_name')).sort();

  it('should run forward and back on an empty and on a populated schema', async () => {
    const first = await migrateLatest(dbSettings(config));
    expect(first.applied.length).to.be.greaterThan(0);
    expect(await pendingMigrations(db, config.dbSchema)).to.deep.equal([]);
    expect(await tables()).to.include.members(['bars', 'bars_y2013', 'bars_default', 'symbols', 'job_history']);

    await db.withSchema(config.dbSchema).table('symbols').insert({ symbol: 'SPY', kind: 'etf' });
    await db
      .withSchema(config.dbSchema)
      .table('bars')
      .insert({
        symbol: 'SPY',
        timeframe: '1m',
        ts: new Date('2013-10-04T13:30:00Z'),
        open: 1,
        high: 2,
        low: 1,
        close: 2,
        volume: 10,
      });
    await db
      .withSchema(config.dbSchema)
      .table('bars')
      .insert({
        symbol: 'SPY',
        timeframe: '1d',
        ts: new Date('2055-01-01T05:00:00Z'),
        open: 1,
        high: 2,
        low: 1,
        close: 2,
        volume: 10,
      });
    const [{ count }] = await db.withSchema(config.dbSchema).table('bars_default').count({ count: '*' });
    expect(Number(count)).to.equal(1);

    const reverted = await migrateRollback(dbSettings(config), true);
    expect(reverted.length).to.equal(first.applied.length);
    expect(await tables()).to.deep.equal(['knex_migrations', 'knex_migrations_lock']);

    const again = await migrateLatest(dbSettings(config));
    expect(again.applied).to.deep.equal(first.applied);
  });

  it('should refuse a bar that breaks the OHLC invariants at the database too', async () => {
    const insert = db
      .withSchema(config.dbSchema)
      .table('bars')
      .insert({
        symbol: 'X',
        timeframe: '1m',
        ts: new Date('2013-10-04T13:30:00Z'),
        open: 5,
        high: 4,
        low: 1,
        close: 2,
        volume: 10,
      });
    let failure: Error | undefined;
    await insert.catch((error: Error) => (failure = error));
    expect(failure?.message).to.match(/bars_ohlc/);
  });
});
