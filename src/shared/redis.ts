import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A connection to a single Redis server or to a Redis Cluster: BullMQ and every tickforge module take either. */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: REDIS_URL, the seed nodes of a cluster, or the sentinels that know where the
 * named master is (REDIS_URL then only lends its credentials, TLS and, for sentinels, database).
 */
export interface RedisConnection {
  redisUrl: string;
  redisClusterNodes?: readonly string[];
  redisSentinels?: readonly string[];
  redisSentinelName?: string;
}

/**
 * The connection roles BullMQ needs. A producer (API, CLI, scheduler enqueueing) fails
 * fast when Redis is away so callers can answer 503; a worker connection blocks and retries
 * forever, as BullMQ requires for its blocking commands.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

/**
 * How long a command on a producer connection may wait for its answer. A Redis that stops
 * answering (paused, swapping, a dead link the kernel has not noticed) keeps the connection
 * open, so without a deadline every request behind it would hang.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

const roleOptions: Record<RedisRole, RedisOptions> = {
  producer: {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  },
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  subscriber: { maxRetriesPerRequest: null },
};

// Reconnect with a capped backoff; the process keeps running while Redis is away.
const backoff = (times: number) => Math.min(200 * 2 ** Math.min(times, 5), 5_000);

/** A `host:port` seed node or sentinel as ioredis takes it. */
function seedNode(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(node.slice(at + 1)) };
}

/**
 * The one way tickforge connects to Redis: a Cluster client when cluster seed nodes are
 * configured, a single-server client otherwise. Every queue, flow, job scheduler, cache, rate
 * limit, pub/sub subscriber, stream reader and metrics publisher gets its connection here.
 */
export function createRedis(connection: RedisConnection, role: RedisRole, name?: string): RedisClient {
  const { enableOfflineQueue, ...perNode } = roleOptions[role];
  const url = new URL(connection.redisUrl);
  const credentials = {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
  if (connection.redisClusterNodes && connection.redisClusterNodes.length > 0) {
    const options: ClusterOptions = {
      enableOfflineQueue,
      enableReadyCheck: true,
      clusterRetryStrategy: backoff,
      // A failover moves slots: ask again shortly instead of failing the command.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 200,
      redisOptions: { ...perNode, connectionName: name, ...credentials },
    };
    return new Cluster(connection.redisClusterNodes.map(seedNode), options);
  }
  if (connection.redisSentinels && connection.redisSentinels.length > 0) {
    return new Redis({
      ...roleOptions[role],
      ...credentials,
      db: Number(url.pathname.slice(1) || 0),
      sentinels: connection.redisSentinels.map(seedNode),
      name: connection.redisSentinelName ?? 'mymaster',
      // Told by the sentinels when the master moves, rather than finding out from a failed write.
      failoverDetector: true,
      // A demoted master that is still connected answers writes with READONLY: reconnect through the sentinels.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
      sentinelRetryStrategy: backoff,
      connectionName: name,
      retryStrategy: backoff,
    });
  }
  return new Redis(connection.redisUrl, {
    ...roleOptions[role],
    connectionName: name,
    lazyConnect: false,
    retryStrategy: backoff,
  });
}

/**
 * Asks the Redis server that holds the namespace's keys for an answer, as PING would. On a
 * cluster PING reaches whichever node the client picks, which answers while the master of the
 * namespace's hash slot is down; a read of a key in the namespace goes to that master.
 */
export async function pingNamespace(redis: RedisClient, prefix: string): Promise<void> {
  await redis.exists(`${prefix}:ping`);
}

/** Closes a connection without waiting on a server that may be gone. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  } catch {
    // quit fails when the connection is already down; disconnect below covers it.
  }
  redis.disconnect();
}

/** Rejects unless the connection reaches the ready state within the deadline. */
export async function waitForRedis(redis: RedisClient, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
