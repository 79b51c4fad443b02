import { loadConfigOrExit } from '../config.js';
import { handleSignals, startOrExit } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { Scheduler } from './scheduler.js';

const config = loadConfigOrExit();
const logger = createLogger('scheduler', config.logLevel);
// Signals that arrive during start-up wait for it, then stop what started.
const scheduler = startOrExit(logger, 'scheduler', () => Scheduler.start(config, logger));
handleSignals(logger, async () => (await scheduler).stop());
