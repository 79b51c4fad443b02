import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/cli/child-service.js';

const execFileAsync = promisify(execFile);

/** The directory of the PostgreSQL server binaries (initdb, postgres). */
async function serverBinaries(): Promise<string> {
  const { stdout } = await execFileAsync('pg_config', ['--bindir']);
  return stdout.trim();
}

/**
 * A PostgreSQL server of a test's own, in a temporary data directory on a free port, so a fault
 * test can restart or stop it without touching the server other tests use. PostgreSQL refuses to
 * run as root; as root the server runs as the `postgres` system user.
 */
export class PrivatePostgres {
  private running = false;

  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly asUser: string[],
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const bin = await serverBinaries();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-pg-'));
    const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    if (asUser.length > 0) {
      const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      await chown(dir, uid, uid);
    }
    const data = path.join(dir, 'data');
    const [command, ...args] = [...asUser, path.join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'];
    await execFileAsync(command, args, { timeout: 60_000 });
    const server = new PrivatePostgres(bin, dir, await freePort(), asUser);
    await server.start();
    return server;
  }

  /** A connection URL to one of this server's databases. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private pgCtl(...args: string[]): Promise<unknown> {
    const [command, ...rest] = [...this.asUser, path.join(this.bin, 'pg_ctl'), '-D', path.join(this.dir, 'data'), ...args];
    return execFileAsync(command, rest, { timeout: 60_000 });
  }

  /** Starts the server (again) on its port and data. */
  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.pgCtl('-w', '-l', path.join(this.dir, 'server.log'), '-o', options, 'start');
    this.running = true;
  }

  /** Stops the server (a fast shutdown: open connections are terminated) and waits until it has. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.pgCtl('-w', '-m', 'fast', 'stop');
    this.running = false;
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
