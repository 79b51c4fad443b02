import { expect } from 'chai';
import { BarsCache, MAX_TRACKED_QUERIES } from '../../src/bars/cache.js';
import { closeRedis, createRedis, waitForRedis, type RedisClient } from '../../src/shared/redis.js';
import { testConfig, uniqueName } from '../helpers/config.js';
import { clearRedis } from '../helpers/redis.js';

describe('bars cache lookup: the versions and the request tally in one command', () => {
  const config = testConfig({ prefix: uniqueName('lookup') });
  const tally = `${config.prefix}:bars-cache:requests`;
  let redis: RedisClient;
  let cache: BarsCache;

  before(async () => {
    redis = createRedis(config, 'producer');
    cache = new BarsCache(redis, config.prefix);
    await waitForRedis(redis, 10_000);
  });

  after(async () => {
    await closeRedis(redis);
    await clearRedis(config);
  });

  it('should read the versions a query depends on and count the request', async () => {
    const query = JSON.stringify({ symbol: 'LKP', timeframe: '5m' });
    expect(await cache.versionTag('LKP', '5m', query)).to.equal('0.0');
    await cache.bump('LKP', '1m');
    expect(await cache.versionTag('LKP', '5m', query)).to.equal('1.0');
    await cache.bump('LKP', ['5m', '1h']);
    expect(await cache.versionTag('LKP', '5m', query)).to.equal('1.1');
    expect(await cache.versionTag('LKP', '5m')).to.equal('1.1');
    expect(await redis.zscore(tally, query)).to.equal('3');
    expect(await cache.topRequested(1)).to.deep.equal([{ query: JSON.parse(query), requests: 3 }]);
  });

  it('should keep only the most requested queries when a new one joins a full tally', async () => {
    await redis.del(tally);
    const members: Array<number | string> = [];
    for (let i = 0; i < MAX_TRACKED_QUERIES; i++) members.push(i === 0 ? 1 : 2, `q${i}`);
    await redis.zadd(tally, ...members);
    const newcomer = JSON.stringify({ symbol: 'LKP', timeframe: '1d' });
    await cache.versionTag('LKP', '1d', newcomer);
    expect(await redis.zcard(tally)).to.equal(MAX_TRACKED_QUERIES);
    // The least requested (q0, once, counted before the newcomer in rank order) made room.
    expect(await redis.zscore(tally, 'q0')).to.equal(null);
    expect(await redis.zscore(tally, newcomer)).to.equal('1');
    await cache.versionTag('LKP', '1d', newcomer);
    expect(await redis.zscore(tally, newcomer)).to.equal('2');
    expect(await redis.zcard(tally)).to.equal(MAX_TRACKED_QUERIES);
  });
});
