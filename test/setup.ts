import { ensureDatabase } from '../src/shared/db.js';
import { provideTestServices } from './helpers/services.js';

// Before any test module reads the test URLs: on a machine without the test PostgreSQL or Redis
// (only Node and redis-server), start them for this run.
const stopServices = await provideTestServices((line) => process.stderr.write(`${line}\n`));
const { TEST_DATABASE_URL } = await import('./helpers/config.js');

/** Root hooks: the test database exists before any file runs; services started here stop after the last. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(30_000);
    await ensureDatabase(TEST_DATABASE_URL);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopServices();
  },
};
