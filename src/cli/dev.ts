import type { Config } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startLocalStack, untilStopped, whereToLook } from './stack.js';

/**
 * `tickforge dev`: the whole stack (worker, web, scheduler) in one process against the
 * configured PostgreSQL and Redis, or ones started for it, until Ctrl-C.
 */
export async function runDev(config: Config, options: { embedded?: boolean }): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const logger = createLogger('dev', config.logLevel);
  const stack = await startLocalStack(config, { embedded: options.embedded, scheduler: true, say: (line) => out(line), logger });
  try {
    const { applied, created } = stack.migrations;
    out(
      `${created ? 'created the database; ' : ''}${applied.length ? `applied ${applied.length} migrations` : 'schema up to date'}`,
    );
    out(`tickforge dev: worker, web and scheduler running at ${stack.web.url}`);
    for (const line of whereToLook(stack)) out(line);
    out('Ctrl-C stops everything.');
    await untilStopped();
    out('stopping …');
  } finally {
    await stack.stop();
  }
}
