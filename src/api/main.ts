import { loadConfigOrExit } from '../shared/config.js';
import { handleSignals, startOrExit } from '../shared/lifecycle.js';
import { createLogger } from '../shared/logger.js';
import { startWebServer } from './server.js';

const config = loadConfigOrExit();
// A line per request: gathered into fewer writes.
const logger = createLogger('web', config.logLevel, { gather: true });
// Signals that arrive during start-up wait for it, then stop what started.
const web = startOrExit(logger, 'web', () => startWebServer(config, logger));
handleSignals(logger, async () => (await web).close());
