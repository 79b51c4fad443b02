import { loadConfigOrExit } from '../src/config.js';
import { handleSignals, startOrExit } from '../src/lifecycle.js';
import { createLogger } from '../src/logger.js';
import { WorkerRuntime } from './runtime.js';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.logLevel);
// Signals that arrive during start-up wait for it, then stop what started.
const runtime = startOrExit(logger, 'worker', () => WorkerRuntime.start({ config, logger }));
handleSignals(logger, async () => (await runtime).stop());
