import { loadConfigOrExit } from '../shared/config.js';
import { handleSignals, startOrExit } from '../shared/lifecycle.js';
import { createLogger } from '../shared/logger.js';
import { startWebServer } from './server.js';

const config = loadConfigOrExit();
const logger = createLogger('web', config.logLevel);
// Signals that arrive during start-up wait for it, then stop what started.
const web = startOrExit(logger, 'web', () => startWebServer(config, logger));
handleSignals(logger, async () => (await web).close());
