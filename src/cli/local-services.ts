import type { Config } from '../shared/config.js';
import type { ChildService } from './child-service.js';
import { redactedUrl } from '../shared/health.js';
import { embeddedPostgresDirectory, postgresAnswers, startEmbeddedPostgres } from './embedded-postgres.js';
import { INSTALL_REDIS, findRedisServer, redisAnswers, startRedisServer } from './redis-child.js';

/** What the demo and `tickforge dev` run against, and how to stop what they started. */
export interface LocalServices {
  /** The config with DATABASE_URL and REDIS_URL pointing at what answers. */
  config: Config;
  /** The services started for this process (empty when the configured ones answered). */
  started: ChildService[];
  stop(): Promise<void>;
}

export interface LocalServicesOptions {
  /** Start both even when the configured servers answer (`--embedded`). */
  force?: boolean;
  /** Receives one line per decision. */
  say?: (line: string) => void;
  /** Directory of the embedded PostgreSQL; default under the user's cache directory. */
  postgresDirectory?: string;
  /** Where to look for redis-server; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Makes sure PostgreSQL and Redis answer: the configured ones when they do, else an embedded
 * PostgreSQL (embedded-postgres, data under the user's cache directory) and a redis-server
 * child, each on a free port. Without redis-server on the PATH it refuses with one line saying
 * how to get Redis. What it started stops with `stop()` (and when the process ends).
 */
export async function localServices(config: Config, options: LocalServicesOptions = {}): Promise<LocalServices> {
  const say = options.say ?? (() => undefined);
  const started: ChildService[] = [];
  const stop = async () => {
    for (const service of started.splice(0).reverse()) await service.stop();
  };
  try {
    let { redisUrl, databaseUrl } = config;
    if (options.force || !(await redisAnswers(redisUrl))) {
      const binary = findRedisServer(options.env);
      if (!binary) {
        throw new Error(
          options.force
            ? `--embedded needs redis-server on the PATH: ${INSTALL_REDIS}`
            : `Redis does not answer at REDIS_URL=${redactedUrl(redisUrl)}: ${INSTALL_REDIS}`,
        );
      }
      say(
        options.force
          ? 'starting redis-server for this run (--embedded)'
          : `Redis does not answer at REDIS_URL=${redactedUrl(redisUrl)}: starting redis-server for this run`,
      );
      const redis = await startRedisServer({ binary });
      started.push(redis);
      redisUrl = redis.url;
    }
    if (options.force || !(await postgresAnswers(databaseUrl))) {
      say(
        options.force
          ? 'starting an embedded PostgreSQL (--embedded)'
          : `PostgreSQL does not answer at DATABASE_URL=${redactedUrl(databaseUrl)}: starting an embedded PostgreSQL`,
      );
      const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || 'tickforge';
      const postgres = await startEmbeddedPostgres({
        directory: options.postgresDirectory ?? embeddedPostgresDirectory(options.env),
        database,
        say,
      });
      started.push(postgres);
      databaseUrl = postgres.url;
    }
    for (const service of started)
      say(`${service.name} for this run: ${redactedUrl(service.url)} (stops when this process does)`);
    return { config: { ...config, redisUrl, databaseUrl }, started, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
