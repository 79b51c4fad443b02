import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/shared/config.js';
import { configEnv } from './config.js';
import { waitForEvent } from './wait.js';

/** Compiled entry points of the Procfile processes. */
export const ENTRIES = {
  worker: fileURLToPath(new URL('../../workers/main.js', import.meta.url)),
  web: fileURLToPath(new URL('../../src/api/main.js', import.meta.url)),
  scheduler: fileURLToPath(new URL('../../src/scheduler/main.js', import.meta.url)),
  cli: fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)),
} as const;

export interface LogLine {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

/** A tickforge process started for a test, with its JSON log lines as events. */
export class TestProcess extends EventEmitter {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    super();
    let buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        this.lines.push(line);
        this.emit('line', line);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first log line (already seen or coming) that matches. */
  async waitForLine(match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return seen;
    const [line] = await waitForEvent<[LogLine]>(this, 'line', match, timeoutMs);
    return line;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return result;
  }
}

export function startProcess(
  entry: keyof typeof ENTRIES,
  config: Config,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): TestProcess {
  const child = spawn(process.execPath, [ENTRIES[entry], ...args], {
    env: { ...configEnv(config), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new TestProcess(child);
}
