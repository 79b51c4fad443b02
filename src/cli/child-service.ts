import { createServer } from 'node:net';

/** A database or broker this process started for itself, and how to stop it. */
export interface ChildService {
  /** What it is, for messages: `PostgreSQL`, `Redis`. */
  name: string;
  /** The connection URL the rest of tickforge uses. */
  url: string;
  /** Stops it and waits until it has exited; calling it again is harmless. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs `stop` on every way this process ends, for children that would otherwise outlive it:
 * `exit` (the synchronous part of `stop` sends the child its signal) and SIGHUP, whose default
 * action ends Node without an `exit` event (a closed terminal). Returns the unhook.
 */
export function stopOnExit(stop: () => Promise<void>): () => void {
  const onExit = () => void stop();
  const onHangUp = () => {
    void stop().finally(() => process.exit(129));
  };
  process.once('exit', onExit);
  process.once('SIGHUP', onHangUp);
  return () => {
    process.off('exit', onExit);
    process.off('SIGHUP', onHangUp);
  };
}

/** Keeps the last lines a child printed, to say why it stopped. */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(private readonly keep = 12) {}

  push(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line.trimEnd());
      if (this.lines.length > this.keep) this.lines.shift();
    }
  }

  toString(): string {
    return this.lines.join('\n');
  }
}
