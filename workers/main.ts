import { loadConfigOrExit } from '../src/config.js';
import { handleSignals, startOrExit } from '../src/lifecycle.js';
import { createLogger } from '../src/logger.js';
import { WorkerRuntime } from './runtime.js';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.logLevel);
const runtime = await startOrExit(logger, 'worker', () => WorkerRuntime.start({ config, logger }));
handleSignals(logger, () => runtime.stop());
