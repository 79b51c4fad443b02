import { WebSocket, type ClientOptions } from 'ws';

export type WsMessage = Record<string, unknown> & { type: string };

/**
 * A real WebSocket client for tests: keeps every message it receives and waits for the ones a
 * test expects, with deadlines.
 */
export class TestSocket {
  readonly received: WsMessage[] = [];
  private readonly waiters = new Set<() => void>();
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as WsMessage);
      for (const wake of [...this.waiters]) wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Opens a connection to `url` (http:// or ws://); rejects with the HTTP status of a refused handshake. */
  static open(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<TestSocket> {
    const { protocols, ...rest } = options;
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols ?? [], rest);
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Waits until `check` finds what it wants among the messages received so far. */
  private until<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        const found = check();
        if (found !== undefined) {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve(found);
        } else if (this.closed) {
          clearTimeout(timer);
          this.waiters.delete(wake);
          reject(new Error(`closed (${this.closed.code} ${this.closed.reason}) before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`no ${what} within ${timeoutMs} ms; received ${JSON.stringify(this.received.map((m) => m.type))}`));
      }, timeoutMs);
      this.waiters.add(wake);
      wake();
    });
  }

  /** The first message received that matches. */
  next(match: (message: WsMessage) => boolean, what = 'matching message', timeoutMs = 20_000): Promise<WsMessage> {
    return this.until(() => this.received.find(match), what, timeoutMs);
  }

  /** Resolves with the close code and reason once the server closed the connection. */
  whenClosed(timeoutMs = 20_000): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        if (!this.closed) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(this.closed);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`not closed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(wake);
      wake();
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = this.whenClosed().then(() => undefined);
    this.ws.close();
    return done;
  }
}
