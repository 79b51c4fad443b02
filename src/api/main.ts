import { loadConfigOrExit } from '../config.js';
import { handleSignals, startOrExit } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { startWebServer } from './server.js';

const config = loadConfigOrExit();
const logger = createLogger('web', config.logLevel);
const web = await startOrExit(logger, 'web', () => startWebServer(config, logger));
handleSignals(logger, () => web.close());
