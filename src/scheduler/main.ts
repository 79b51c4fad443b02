import { loadConfigOrExit } from '../config.js';
import { handleSignals, startOrExit } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { Scheduler } from './scheduler.js';

const config = loadConfigOrExit();
const logger = createLogger('scheduler', config.logLevel);
const scheduler = await startOrExit(logger, 'scheduler', () => Scheduler.start(config, logger));
handleSignals(logger, () => scheduler.stop());
