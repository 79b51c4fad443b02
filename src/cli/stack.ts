import { randomBytes } from 'node:crypto';
import { startWebServer, type WebServer } from '../api/server.js';
import type { Config } from '../shared/config.js';
import { dbSettings, migrateLatest } from '../shared/db.js';
import type { Logger } from '../shared/logger.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { localServices } from './local-services.js';
import { startWorkerProcess } from './worker-process.js';

/** Everything `tickforge demo` and `tickforge dev` run in one process. */
export interface LocalStack {
  /** The config the stack runs with: the URLs of what answered, the token in use. */
  config: Config;
  /** The API token (the configured one, or one generated for this run). */
  token: string;
  /** Whether the token was generated for this run. */
  generatedToken: boolean;
  web: WebServer;
  /** Migrations applied at start, and whether the database was created. */
  migrations: { created: boolean; applied: string[] };
  /** Stops the processes, then the services started for them. */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Start an embedded PostgreSQL and a redis-server even when the configured ones answer. */
  embedded?: boolean;
  /** Run the scheduler too (`dev`; the demo's tour does without). */
  scheduler?: boolean;
  say: (line: string) => void;
  logger: Logger;
}

async function startWeb(config: Config, logger: Logger): Promise<WebServer> {
  try {
    return await startWebServer(config, logger, '127.0.0.1');
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return startWebServer({ ...config, port: 0 }, logger, '127.0.0.1');
  }
}

/**
 * Starts PostgreSQL and Redis when they do not answer (see localServices), migrates, and runs
 * a worker, the web process (on PORT, or a free port when it is taken) and optionally the
 * scheduler in this process. A failure part-way stops what had started.
 */
export async function startLocalStack(config: Config, options: LocalStackOptions): Promise<LocalStack> {
  const services = await localServices(config, { force: options.embedded, say: options.say });
  const stops: Array<() => Promise<void>> = [() => services.stop()];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step();
  };
  try {
    const token = config.apiToken ?? randomBytes(18).toString('base64url');
    const stackConfig: Config = { ...services.config, apiToken: token };
    const migrations = await migrateLatest(dbSettings(stackConfig));
    const worker = await startWorkerProcess(stackConfig);
    stops.push(() => worker.stop());
    const web = await startWeb(stackConfig, options.logger);
    stops.push(() => web.close());
    if (options.scheduler) {
      const scheduler = await Scheduler.start(stackConfig, options.logger);
      stops.push(() => scheduler.stop());
    }
    return { config: stackConfig, token, generatedToken: config.apiToken === undefined, web, migrations, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resolves at the first SIGINT or SIGTERM (Ctrl-C, a process manager's stop). */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** The lines that say where to look, shared by the demo and dev. */
export function whereToLook(stack: LocalStack): string[] {
  const url = stack.web.url;
  return [
    `   console      ${url}/console/  (user: anything, password: the token)`,
    `   Bull Board   ${url}/admin/queues`,
    `   API docs     ${url}/api/docs`,
    `   health       ${url}/api/system/health`,
    `   metrics      ${url}/metrics`,
    `   token        ${stack.token}${stack.generatedToken ? ' (generated for this run; set TICKFORGE_API_TOKEN to choose one)' : ''}`,
  ];
}
