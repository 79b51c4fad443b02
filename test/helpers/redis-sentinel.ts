import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/cli/child-service.js';
import { askServer, scratchServerArgs } from './redis.js';
import { eventually } from './wait.js';

/** The master name the test sentinels monitor. */
export const SENTINEL_MASTER_NAME = 'tickforge-test';

interface Server {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * A sentinel-watched Redis of a test's own: a master, a replica of it and three sentinels
 * (quorum 2), all started from the `redis-server` binary (`--sentinel` for the sentinels) on free
 * loopback ports, without persistence. `stop` ends every server and removes its directory.
 */
export class TestRedisSentinel {
  private constructor(
    private readonly dir: string,
    private readonly servers: Server[],
    private readonly sentinels: Server[],
  ) {}

  /** The `host:port` of every sentinel: REDIS_SENTINELS for the deployment under test. */
  get addresses(): string[] {
    return this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`);
  }

  private static launch(port: number, args: string[]): Server {
    const child = spawn('redis-server', [...args, '--port', String(port)], { stdio: 'ignore' });
    return { port, child, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
  }

  static async start(): Promise<TestRedisSentinel> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-sentinel-'));
    const servers: Server[] = [];
    const sentinels: Server[] = [];
    const setup = new TestRedisSentinel(dir, servers, sentinels);
    try {
      // A master without a live replica refuses writes: the demoted master cannot accept writes that the failover would drop.
      const common = [...scratchServerArgs(dir), '--min-replicas-to-write', '1', '--min-replicas-max-lag', '5'];
      const masterPort = await freePort();
      servers.push(TestRedisSentinel.launch(masterPort, common));
      servers.push(TestRedisSentinel.launch(await freePort(), [...common, '--replicaof', '127.0.0.1', String(masterPort)]));
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        // A sentinel rewrites its configuration file, so each has one of its own.
        const file = path.join(dir, `sentinel-${port}.conf`);
        await writeFile(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 2000`,
            `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
            '',
          ].join('\n'),
        );
        sentinels.push(TestRedisSentinel.launch(port, [file, '--sentinel']));
      }
      await eventually(
        async () => {
          const role = (await askServer(servers[1].port, 'ROLE').catch(() => [])) as unknown[];
          return role[0] === 'slave' && role[3] === 'connected';
        },
        'the replica to be connected to its master',
        30_000,
        100,
      );
      await setup.untilSentinelsKnowReplica(masterPort, servers[1].port);
      return setup;
    } catch (error) {
      await setup.stop();
      throw error;
    }
  }

  /** The port of the master the sentinels name now. */
  async masterPort(): Promise<number> {
    const [, port] = (await askServer(
      this.sentinels[0].port,
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      SENTINEL_MASTER_NAME,
    )) as string[];
    return Number(port);
  }

  // A sentinel learns of replicas from the master's INFO, every 10 s; a failover before that finds none.
  private async untilSentinelsKnowReplica(master: number, replica: number): Promise<void> {
    await eventually(
      async () => {
        const answers = await Promise.all(
          this.sentinels.map(async (sentinel) => {
            const [, port] = (await askServer(
              sentinel.port,
              'SENTINEL',
              'GET-MASTER-ADDR-BY-NAME',
              SENTINEL_MASTER_NAME,
            )) as string[];
            const replicas = (await askServer(sentinel.port, 'SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as string[][];
            const known = replicas.some((fields) => {
              const info = new Map(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]] as const] : [])));
              return info.get('port') === String(replica) && info.get('flags') === 'slave';
            });
            return Number(port) === master && known;
          }),
        ).catch(() => [false]);
        return answers.every(Boolean);
      },
      'every sentinel to know the master and its replica',
      60_000,
      250,
    );
  }

  /**
   * Fails the master over to its replica (SENTINEL FAILOVER: no agreement needed) and resolves
   * once the sentinels name the replica as master and it acts as one. Returns both ports.
   */
  async failOver(): Promise<{ promoted: number; demoted: number }> {
    const demoted = await this.masterPort();
    const replica = this.servers.find((server) => server.port !== demoted)!.port;
    await askServer(this.sentinels[0].port, 'SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
    await eventually(
      async () => {
        const role = (await askServer(replica, 'ROLE').catch(() => [])) as unknown[];
        return role[0] === 'master' && (await this.masterPort()) === replica;
      },
      `replica ${replica} to become master`,
      60_000,
      100,
    );
    return { promoted: replica, demoted };
  }

  async stop(): Promise<void> {
    const all = [...this.sentinels, ...this.servers];
    for (const server of all)
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
    await Promise.all(all.map((server) => server.exited));
    await rm(this.dir, { recursive: true, force: true });
  }
}
