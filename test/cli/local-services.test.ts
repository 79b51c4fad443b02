import { expect } from 'chai';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/cli/child-service.js';
import { postgresAnswers } from '../../src/cli/embedded-postgres.js';
import { localServices } from '../../src/cli/local-services.js';
import { redisAnswers } from '../../src/cli/redis-child.js';
import { dbSettings, migrateLatest } from '../../src/shared/db.js';
import { testConfig } from '../helpers/config.js';

describe('local services for the demo', function () {
  this.timeout(180_000);

  it('should keep the configured PostgreSQL and Redis when they answer', async () => {
    const config = testConfig();
    const services = await localServices(config);
    expect(services.started).to.deep.equal([]);
    expect(services.config.databaseUrl).to.equal(config.databaseUrl);
    expect(services.config.redisUrl).to.equal(config.redisUrl);
  });

  it('should name REDIS_URL and say how to install Redis when Redis does not answer and redis-server is not on the PATH', async () => {
    const config = testConfig({ redisUrl: `redis://127.0.0.1:${await freePort()}` });
    const lines: string[] = [];
    const attempt = localServices(config, { env: { PATH: '' }, say: (line) => lines.push(line) });
    const error = await attempt.then(
      () => undefined,
      (reason: Error) => reason,
    );
    expect(error?.message).to.match(/^Redis does not answer at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+: install Redis/);
    expect(error?.message).to.include('apt-get install redis-server').and.include('point REDIS_URL at a running Redis');
    expect(error?.message.split('\n')).to.have.length(1);
  });

  it('should start redis-server on a free port when the configured Redis does not answer, and stop it', async () => {
    const closedPort = await freePort();
    const config = testConfig({ redisUrl: `redis://127.0.0.1:${closedPort}` });
    const lines: string[] = [];
    const services = await localServices(config, { say: (line) => lines.push(line) });
    try {
      expect(services.started.map((s) => s.name)).to.deep.equal(['Redis']);
      expect(services.config.databaseUrl).to.equal(config.databaseUrl);
      expect(services.config.redisUrl)
        .to.match(/^redis:\/\/127\.0\.0\.1:\d+$/)
        .and.not.equal(config.redisUrl);
      expect(await redisAnswers(services.config.redisUrl)).to.equal(true);
      expect(lines[0]).to.include(`REDIS_URL=redis://127.0.0.1:${closedPort}`);
    } finally {
      await services.stop();
    }
    expect(await redisAnswers(services.config.redisUrl)).to.equal(false);
  });

  it('should run an embedded PostgreSQL that takes the migrations when --embedded forces it, and stop it', async () => {
    // The server runs as the postgres user when the tests run as root: it must reach its directory.
    const directory = await mkdtemp(path.join(os.tmpdir(), 'tickforge-embedded-'));
    await chmod(directory, 0o755);
    const config = testConfig();
    const services = await localServices(config, { force: true, postgresDirectory: directory });
    try {
      expect(services.started.map((s) => s.name)).to.deep.equal(['Redis', 'PostgreSQL']);
      const url = new URL(services.config.databaseUrl);
      expect(url.hostname).to.equal('127.0.0.1');
      expect(url.port).not.to.equal('5432');
      expect(url.pathname).to.equal(new URL(config.databaseUrl).pathname);

      const { created, applied } = await migrateLatest(dbSettings(services.config));
      expect(created).to.equal(true);
      expect(applied.length).to.be.greaterThan(0);
      const client = new pg.Client({ connectionString: services.config.databaseUrl });
      await client.connect();
      try {
        const tables = await client.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [config.dbSchema]);
        expect(tables.rows[0].n).to.be.greaterThan(5);
      } finally {
        await client.end();
      }
    } finally {
      await services.stop();
      expect(await postgresAnswers(services.config.databaseUrl, 1_000)).to.equal(false);
      await rm(directory, { recursive: true, force: true });
    }
  });
});
