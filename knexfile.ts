import { loadConfig } from './src/config.js';
import { dbSettings, knexConfig } from './src/db/knex.js';

/** For the knex CLI: `npx knex --knexfile dist/knexfile.js migrate:rollback`. */
export default knexConfig(dbSettings(loadConfig()));
