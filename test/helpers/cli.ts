import { spawn } from 'node:child_process';
import type { Config } from '../../src/shared/config.js';
import { configEnv } from './config.js';
import { ENTRIES } from './process.js';

/** How a CLI run ended: its exit code and everything it wrote. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end (or until `until` holds for its stderr, then stops it) within a deadline. */
export function cli(
  config: Config,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; until?: (stderr: string) => boolean } = {},
) {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRIES.cli, ...args], {
      env: { ...configEnv(config), LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tickforge ${args.join(' ')} did not finish: ${stderr}`));
    }, 60_000);
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (options.until?.(stderr)) child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
