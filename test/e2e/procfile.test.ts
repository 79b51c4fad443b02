import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDb, dbSettings } from '../../src/shared/db.js';
import { configEnv, testConfig } from '../helpers/config.js';
import { dropSchemas } from '../helpers/db.js';
import { TestProcess } from '../helpers/process.js';
import { clearRedis } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The Procfile's processes: name → command. */
function procfile(): Map<string, string> {
  const lines = readFileSync(`${ROOT}/Procfile`, 'utf8')
    .split('\n')
    .filter((line) => /^\w+:/.test(line));
  return new Map(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
}

describe('Procfile', function () {
  this.timeout(120_000);

  it('should keep every process running on a fresh database when a Procfile runner starts them all at once', async () => {
    const config = testConfig();
    const processes = new Map<string, TestProcess>();
    try {
      // A Procfile runner stops the whole stack when any process exits, so none may be one-shot.
      expect([...procfile().keys()]).to.have.members(['web', 'worker', 'scheduler']);
      for (const [name, command] of procfile()) {
        // Each in a process group of its own, signalled as a whole, as Procfile runners do.
        const child = spawn('sh', ['-c', command], {
          cwd: ROOT,
          env: configEnv(config),
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        processes.set(name, new TestProcess(child));
      }
      await processes.get('web')!.waitForLine((line) => /web listening on/.test(line.msg ?? ''), 60_000);
      await processes.get('worker')!.waitForLine((line) => /serving/.test(line.msg ?? ''), 60_000);
      await processes
        .get('scheduler')!
        .waitForLine((line) => /listening for \S*tickstock\.eod\.complete/.test(line.msg ?? ''), 60_000);
      for (const [name, process] of processes) expect(process.child.exitCode, `${name} exited`).to.equal(null);
    } finally {
      for (const [name, process] of processes) {
        if (process.child.exitCode === null) global.process.kill(-process.child.pid!, 'SIGTERM');
        // The shell may die of the signal itself; what matters is that the process stopped cleanly.
        await process.waitForLine((line) => line.msg === `${name} stopped`, 40_000);
      }
      await clearRedis(config);
      await dropSchemas(createDb(dbSettings(config)), config);
    }
  });
});
