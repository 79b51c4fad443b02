import { loadConfig } from './src/shared/config.js';
import { dbSettings, knexConfig } from './src/shared/db.js';

/** For the knex CLI: `npx knex --knexfile dist/knexfile.js migrate:rollback`. */
export default knexConfig(dbSettings(loadConfig()));
