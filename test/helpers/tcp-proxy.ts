import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, so a test can take the server away from the
 * processes under test — and only from them — and give it back.
 */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private blocked = false;
  port = 0;
  /** Connections accepted and passed on since start: grows when a client reconnects. */
  accepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => {
      if (this.blocked) {
        client.destroy();
        return;
      }
      this.accepted++;
      const upstream = net.connect(this.targetPort, this.targetHost);
      const pair = { client, upstream };
      this.pairs.add(pair);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Local ports of the proxy's connections to the real server (what the server sees as clients). */
  upstreamPorts(): number[] {
    return [...this.pairs].map((pair) => pair.upstream.localPort).filter((port): port is number => port !== undefined);
  }

  /** Refuses new connections and cuts the open ones: the server is unreachable. */
  block(): void {
    this.blocked = true;
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
