/**
 * A loopback TCP relay in front of the test's own store, passing the MongoDB
 * wire protocol through untouched. When the store drops its connections (a
 * restart or a crash), the relay drops its clients' connections too, all in
 * the same instant and newest first, so the oldest (a client's server
 * monitor, opened before its pool) goes last. A real server drops them in no
 * particular order; this is the order in which the mongodb driver's monitor
 * can get stuck (see src/adapters/mongo-client.ts), every time instead of
 * now and then.
 */
import net from 'node:net';

type Pair = { client: net.Socket; upstream: net.Socket };

/** How long the store's closes are gathered before they are passed on together. */
const GATHER_MS = 50;

export class StoreProxy {
  readonly url: string;
  private readonly server: net.Server;
  /** Open connections, oldest first. */
  private readonly pairs: Pair[] = [];
  private readonly dropping = new Map<Pair, 'end' | 'reset'>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(server: net.Server, port: number) {
    this.server = server;
    this.url = `mongodb://127.0.0.1:${port}/`;
  }

  static async start(upstreamPort: number): Promise<StoreProxy> {
    let proxy: StoreProxy | undefined;
    const server = net.createServer((client) => proxy?.relay(client, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the store proxy has no port');
    proxy = new StoreProxy(server, address.port);
    return proxy;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.pairs.splice(0)) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, upstreamPort: number): void {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.push(pair);
    client.pipe(upstream);
    upstream.pipe(client, { end: false });
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      upstream.destroy();
      this.forget(pair);
    });
    // The store went away (ended: a restart; reset or refused: a crash or a server that is down).
    upstream.on('end', () => this.drop(pair, 'end'));
    upstream.on('error', () => this.drop(pair, 'reset'));
  }

  private drop(pair: Pair, how: 'end' | 'reset'): void {
    if (!this.dropping.has(pair)) this.dropping.set(pair, how);
    this.timer ??= setTimeout(() => this.dropGathered(), GATHER_MS);
  }

  /** Newest first, in one go. */
  private dropGathered(): void {
    this.timer = undefined;
    const order = this.pairs.filter((pair) => this.dropping.has(pair)).reverse();
    for (const pair of order) {
      if (this.dropping.get(pair) === 'reset') pair.client.resetAndDestroy();
      else pair.client.end();
    }
    this.dropping.clear();
  }

  private forget(pair: Pair): void {
    const at = this.pairs.indexOf(pair);
    if (at >= 0) this.pairs.splice(at, 1);
    this.dropping.delete(pair);
  }
}
