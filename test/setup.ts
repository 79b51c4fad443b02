import { ensureDatabase } from '../src/shared/db.js';
import { TEST_DATABASE_URL } from './helpers/config.js';

/** Root hooks: the test database exists before any file runs. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(30_000);
    await ensureDatabase(TEST_DATABASE_URL);
  },
};
