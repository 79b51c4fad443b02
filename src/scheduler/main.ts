import { loadConfigOrExit } from '../shared/config.js';
import { handleSignals, startOrExit } from '../shared/lifecycle.js';
import { createLogger } from '../shared/logger.js';
import { Scheduler } from './scheduler.js';

const config = loadConfigOrExit();
const logger = createLogger('scheduler', config.logLevel);
// Signals that arrive during start-up wait for it, then stop what started.
const scheduler = startOrExit(logger, 'scheduler', () => Scheduler.start(config, logger));
handleSignals(logger, async () => (await scheduler).stop());
