import type { Logger } from './logger.js';

/**
 * Two-stage shutdown for a process entry point: the first SIGTERM or SIGINT runs `stop`
 * (drain, close) and exits 0 when it succeeds; a second signal exits at once with 130.
 */
export function handleSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    logger.info(`${signal} received: shutting down (send it again to force)`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, `uncaught exception: ${error.message}`);
    process.exit(1);
  });
}

/** Runs a process's start-up; a failure is logged with its reason and exits 1. */
export async function startOrExit<T>(logger: Logger, what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    logger.fatal({ err: error }, `${what} could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
