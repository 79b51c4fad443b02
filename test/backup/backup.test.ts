import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { backupName, backupsBeyondRetention, BackupError, restoreBackup, writeBackup } from '../../src/backup/backup.js';
import { tableFingerprints, userTables } from '../../src/backup/fingerprint.js';
import type { Knex } from '../../src/shared/db.js';
import { configEnv, testConfig, TEST_DATABASE_URL, uniqueName } from '../helpers/config.js';
import { dropSchemas, migratedDb } from '../helpers/db.js';
import { ENTRIES } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';

/** The URL of another database on the test server. */
function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Rows in several tables, bars across partitions, values that only an exact copy keeps. */
async function seed(db: Knex): Promise<void> {
  await db('symbols').insert([
    { symbol: 'SPY', name: 'SPDR S&P 500', kind: 'etf', aum: 5.01e11, metadata: { theme: 'broad "market"' } },
    { symbol: 'AAPL', name: 'Apple', kind: 'stock', sector: 'Technology', market_cap: 3.1e12, ipo_date: '1980-12-12' },
  ]);
  await db.raw(`
    INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume, vwap, trade_count)
    SELECT 'SPY', '1m', ts, 100 + n / 7.0, 101 + n / 7.0, 99 + n / 7.0, 100.5 + n / 7.0, n * 10, 100.25 + n / 3.0, n
    FROM generate_series(1, 3000) AS n, LATERAL (SELECT timestamptz '2023-12-31 20:00Z' + n * interval '1 minute' AS ts) t`);
  await db('job_history').insert({
    queue: 'ingest',
    job_id: 'import-1',
    name: 'import-bars',
    outcome: 'completed',
    attempts: 1,
    enqueued_at: new Date('2025-03-03T20:59:58.000Z'),
    finished_at: new Date('2025-03-03T21:00:00.123Z'),
    duration_ms: 1234,
    summary: { rows: 3000 },
  });
}

describe('backup', () => {
  const config = testConfig();
  const restored = uniqueName('tickforge_restore');
  let db: Knex;
  let dir: string;

  before(async () => {
    db = await migratedDb(config);
    await seed(db);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-backup-'));
  });

  after(async () => {
    await dropSchemas(db, config);
    await admin(`DROP DATABASE IF EXISTS ${restored}`);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should restore every table exactly (row counts and content checksums) into an empty database', async () => {
    const settings = { databaseUrl: TEST_DATABASE_URL, schemas: [config.dbSchema], directory: dir, keep: 3 };
    const backup = await writeBackup(settings);
    expect(path.basename(backup.file)).to.match(/^tickforge-\d{8}T\d{6}Z\.dump$/);
    expect(backup.bytes).to.be.above(0);

    await admin(`CREATE DATABASE ${restored}`);
    expect(await userTables(databaseUrl(restored))).to.deep.equal([]);
    await restoreBackup(databaseUrl(restored), backup.file);

    const before = await tableFingerprints(TEST_DATABASE_URL, [config.dbSchema]);
    const after = await tableFingerprints(databaseUrl(restored), [config.dbSchema]);
    expect(before[`${config.dbSchema}.bars`].rows).to.equal(3000);
    expect(before[`${config.dbSchema}.symbols`].rows).to.be.at.least(2);
    expect(Object.keys(after)).to.deep.equal(Object.keys(before));
    expect(after).to.deep.equal(before);
  });

  it('should keep only the newest backups when retention runs', () => {
    const names = ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04'].map((day) => backupName(new Date(`${day}T21:30:00Z`)));
    expect(backupsBeyondRetention([...names].reverse().concat('notes.txt'), 2)).to.deep.equal(names.slice(0, 2));
    expect(backupsBeyondRetention(names, 10)).to.deep.equal([]);
  });

  it('should delete backups beyond retention after a new one is written', async () => {
    const kept = await mkdtemp(path.join(os.tmpdir(), 'tickforge-retention-'));
    try {
      const old = ['2024-01-01', '2024-01-02'].map((day) => backupName(new Date(`${day}T00:00:00Z`)));
      for (const name of old) await writeFile(path.join(kept, name), 'old');
      const backup = await writeBackup({ databaseUrl: TEST_DATABASE_URL, schemas: [config.dbSchema], directory: kept, keep: 2 });
      expect(backup.deleted).to.deep.equal([old[0]]);
      expect((await readdir(kept)).sort()).to.deep.equal([old[1], path.basename(backup.file)]);
    } finally {
      await rm(kept, { recursive: true, force: true });
    }
  });

  it('should name the file when asked to restore a backup that does not exist', async () => {
    const missing = path.join(dir, 'nothing.dump');
    const refused = await restoreBackup(databaseUrl(restored), missing).catch((error: Error) => error);
    expect(refused).to.be.instanceOf(BackupError);
    expect((refused as Error).message).to.equal(`no backup at ${missing}`);
  });
});

/** Runs the CLI to its end; its exit code and output. */
function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ENTRIES.cli, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the backup job and tickforge restore', function () {
  this.timeout(180_000);
  const restored = uniqueName('tickforge_restore_cli');
  let system: TestSystem;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-backup-job-'));
    system = await TestSystem.create({ backupDir: dir, backupKeep: 2 });
    await seed(system.db);
    await system.startWorker({ queues: ['system'] });
  });

  after(async () => {
    await system.close();
    await admin(`DROP DATABASE IF EXISTS ${restored}`);
    await rm(dir, { recursive: true, force: true });
  });

  it('should write a backup as a job and restore it exactly with the CLI into a new database', async () => {
    const { result } = await system.run('backup', {});
    expect(path.dirname(result.file)).to.equal(dir);
    expect(await readdir(dir)).to.deep.equal([path.basename(result.file)]);

    const env = { ...configEnv({ ...system.config, databaseUrl: databaseUrl(restored) }), LOG_LEVEL: 'warn' };
    const run = await cli(env, ['--json', 'restore', result.file]);
    expect(run.code, run.stderr).to.equal(0);
    const answer = JSON.parse(run.stdout) as { database: string; tables: number; seconds: number };
    expect(answer.database).to.equal(restored);
    expect(answer.tables).to.be.above(5);

    const before = await tableFingerprints(TEST_DATABASE_URL, [system.config.dbSchema]);
    const after = await tableFingerprints(databaseUrl(restored), [system.config.dbSchema]);
    expect(before[`${system.config.dbSchema}.bars`].rows).to.equal(3000);
    // The backup job's own history row is written after its snapshot was taken.
    const history = `${system.config.dbSchema}.job_history`;
    expect(after[history].rows).to.equal(before[history].rows - 1);
    delete before[history];
    delete after[history];
    expect(after).to.deep.equal(before);
  });

  it('should refuse to restore over a database that holds tables, naming it', async () => {
    const [file] = await readdir(dir);
    const env = { ...configEnv({ ...system.config, databaseUrl: databaseUrl(restored) }), LOG_LEVEL: 'warn' };
    const run = await cli(env, ['restore', path.join(dir, file)]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      new RegExp(`database ${restored} already holds \\d+ table\\(s\\) .*: a restore goes into an empty database`),
    );
  });
});
