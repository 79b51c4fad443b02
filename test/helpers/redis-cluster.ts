import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../src/cli/child-service.js';
import { eventually } from './wait.js';

const execFileAsync = promisify(execFile);

interface Node {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/** What a node says about itself in CLUSTER INFO, as a map. */
async function clusterInfo(port: number): Promise<Record<string, string>> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const text = (await redis.call('CLUSTER', 'INFO')) as string;
    return Object.fromEntries(
      text
        .split(/\r?\n/)
        .filter((line) => line.includes(':'))
        .map((line) => line.split(':', 2) as [string, string]),
    );
  } finally {
    redis.disconnect();
  }
}

/**
 * A Redis Cluster of a test's own: three masters and three replicas started from the
 * `redis-server` binary on free loopback ports (no persistence, `noeviction`), joined with
 * `redis-cli --cluster create`. `stop` ends every node and removes its directory.
 */
export class TestRedisCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: Node[],
  ) {}

  /** The `host:port` of every node still running: REDIS_CLUSTER_NODES for the deployment under test. */
  get seeds(): string[] {
    return this.nodes
      .filter((node) => node.child.exitCode === null && node.child.signalCode === null)
      .map((node) => `127.0.0.1:${node.port}`);
  }

  static async start(): Promise<TestRedisCluster> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-cluster-'));
    const nodes: Node[] = [];
    const cluster = new TestRedisCluster(dir, nodes);
    try {
      for (let i = 0; i < 6; i++) {
        const port = await freePort();
        const busPort = await freePort();
        const child = spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--cluster-port',
            String(busPort),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
            '--maxmemory-policy',
            'noeviction',
            '--daemonize',
            'no',
          ],
          { stdio: 'ignore' },
        );
        nodes.push({ port, child, exited: new Promise((resolve) => child.once('exit', () => resolve())) });
      }
      for (const node of nodes)
        await eventually(
          () =>
            clusterInfo(node.port).then(
              () => true,
              () => false,
            ),
          `node ${node.port}`,
          30_000,
        );
      await execFileAsync(
        'redis-cli',
        ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'],
        { timeout: 60_000 },
      );
      await cluster.untilHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Resolves once every running node reports cluster_state:ok with all slots served. */
  async untilHealthy(timeoutMs = 60_000): Promise<void> {
    const running = this.nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    await eventually(
      async () => {
        const infos = await Promise.all(running.map((node) => clusterInfo(node.port).catch(() => undefined)));
        return infos.every((info) => info?.cluster_state === 'ok' && info.cluster_slots_ok === '16384');
      },
      'the cluster to report cluster_state:ok',
      timeoutMs,
    );
  }

  /** The port of the master serving `key`'s hash slot, and of a replica of it. */
  async shardOf(key: string): Promise<{ master: number; replica: number }> {
    const redis = new Redis({ port: this.nodes.find((node) => node.child.exitCode === null)!.port, host: '127.0.0.1' });
    try {
      const slot = (await redis.call('CLUSTER', 'KEYSLOT', key)) as number;
      const ranges = (await redis.call('CLUSTER', 'SLOTS')) as Array<[number, number, ...Array<[string, number, string]>]>;
      const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
      const [, , master, replica] = range;
      return { master: master[1], replica: replica[1] };
    } finally {
      redis.disconnect();
    }
  }

  /**
   * Fails over the shard serving `key`: CLUSTER FAILOVER on its replica, then, once that
   * replica is master, kills the old master with SIGKILL. Returns the new and old masters' ports.
   */
  async failOver(key: string): Promise<{ promoted: number; killed: number }> {
    const { master, replica } = await this.shardOf(key);
    const redis = new Redis({ port: replica, host: '127.0.0.1' });
    try {
      await redis.call('CLUSTER', 'FAILOVER');
      await eventually(
        async () => (await redis.call('ROLE'))?.toString().startsWith('master'),
        `replica ${replica} to become master`,
        30_000,
      );
    } finally {
      redis.disconnect();
    }
    const old = this.nodes.find((node) => node.port === master)!;
    old.child.kill('SIGKILL');
    await old.exited;
    return { promoted: replica, killed: master };
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGTERM');
    await Promise.all(this.nodes.map((node) => node.exited));
    await rm(this.dir, { recursive: true, force: true });
  }
}
