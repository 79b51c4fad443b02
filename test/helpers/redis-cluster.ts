import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/cli/child-service.js';
import { askServer, scratchServerArgs } from './redis.js';
import { eventually } from './wait.js';

const execFileAsync = promisify(execFile);

interface Node {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/** What a node says about itself in CLUSTER INFO, as a map. */
async function clusterInfo(port: number): Promise<Record<string, string>> {
  const text = (await askServer(port, 'CLUSTER', 'INFO')) as string;
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':'))
      .map((line) => line.split(':', 2) as [string, string]),
  );
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
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            ...scratchServerArgs(dir),
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
      await cluster.untilReplicated();
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

  /** Resolves once every replica is connected to its master and every slot range lists a replica. */
  private async untilReplicated(timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        const roles = await Promise.all(this.nodes.map((node) => askServer(node.port, 'ROLE').catch(() => undefined)));
        const connected = roles.filter((role) => Array.isArray(role) && role[0] === 'slave' && role[3] === 'connected');
        const ranges = (await askServer(this.nodes[0].port, 'CLUSTER', 'SLOTS')) as unknown[][];
        return connected.length === this.nodes.length / 2 && ranges.every((range) => range.length >= 4);
      },
      'every replica to be connected to its master',
      timeoutMs,
    );
  }

  /** The port of the master serving `key`'s hash slot, and of a replica of it if it has one left. */
  async shardOf(key: string): Promise<{ master: number; replica?: number }> {
    const port = this.nodes.find((node) => node.child.exitCode === null && node.child.signalCode === null)!.port;
    const slot = (await askServer(port, 'CLUSTER', 'KEYSLOT', key)) as number;
    const ranges = (await askServer(port, 'CLUSTER', 'SLOTS')) as Array<[number, number, ...Array<[string, number, string]>]>;
    const [, , master, replica] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
    return { master: master[1], replica: replica?.[1] };
  }

  /**
   * A namespace such as `{stem-1a2b3c4d}` whose hash slot is on a shard that still has a replica,
   * so that a test can fail it over after an earlier test took another shard's replica.
   */
  async replicatedNamespace(stem: string): Promise<string> {
    for (;;) {
      const namespace = `{${stem}-${randomBytes(4).toString('hex')}}`;
      if ((await this.shardOf(namespace)).replica !== undefined) return namespace;
    }
  }

  /** The shard of `key`, which must have a replica to fail over to. */
  private async replicatedShardOf(key: string): Promise<{ master: number; replica: number }> {
    const { master, replica } = await this.shardOf(key);
    if (replica === undefined) throw new Error(`the shard of ${key} has no replica left to fail over to`);
    return { master, replica };
  }

  /**
   * Fails over the shard serving `key`: CLUSTER FAILOVER on its replica, then, once that
   * replica is master, kills the old master with SIGKILL. Returns the new and old masters' ports.
   */
  async failOver(key: string): Promise<{ promoted: number; killed: number }> {
    const { master, replica } = await this.replicatedShardOf(key);
    await askServer(replica, 'CLUSTER', 'FAILOVER');
    await this.untilMaster(replica);
    await this.kill(master);
    return { promoted: replica, killed: master };
  }

  /**
   * Kills the master serving `key` with SIGKILL, without warning: its slots are down until the
   * cluster notices (the node timeout, 2 s) and promotes the replica. Resolves once it has.
   */
  async killMaster(key: string): Promise<{ promoted: number; killed: number }> {
    const { master, replica } = await this.replicatedShardOf(key);
    await this.kill(master);
    await this.untilMaster(replica);
    return { promoted: replica, killed: master };
  }

  private async untilMaster(port: number): Promise<void> {
    await eventually(
      async () => String(await askServer(port, 'ROLE').catch(() => '')).startsWith('master'),
      `replica ${port} to become master`,
      30_000,
      100,
    );
  }

  private async kill(port: number): Promise<void> {
    const node = this.nodes.find((candidate) => candidate.port === port)!;
    node.child.kill('SIGKILL');
    await node.exited;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGTERM');
    await Promise.all(this.nodes.map((node) => node.exited));
    await rm(this.dir, { recursive: true, force: true });
  }
}
