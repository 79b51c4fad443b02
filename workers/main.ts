import { loadConfigOrExit } from '../src/shared/config.js';
import { handleSignals, startOrExit } from '../src/shared/lifecycle.js';
import { createLogger } from '../src/shared/logger.js';
import { WorkerRuntime } from './runtime.js';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.logLevel);
// Signals that arrive during start-up wait for it, then stop what started.
const runtime = startOrExit(logger, 'worker', () => WorkerRuntime.start({ config, logger }));
handleSignals(logger, async () => (await runtime).stop());
