// A TCP proxy a test puts between the stack and a real server (PostgreSQL, Redis) to make that
// server fail the ways networks do: every connection cut and new ones refused, or traffic held
// (a server that hangs). The servers themselves stay up for every other test.
import net from "node:net";

export class FaultProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private down = false;
  private held = false;
  private readonly heldPairs: [net.Socket, net.Socket][] = [];

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
    server: net.Server,
  ) {
    this.server = server;
  }

  /** Starts a proxy to `url`'s host and port on a free local port. */
  static async to(url: string): Promise<FaultProxy> {
    const parsed = new URL(url);
    const target = { host: parsed.hostname, port: Number(parsed.port) };
    const accepting: { proxy?: FaultProxy } = {};
    const server = net.createServer((client) => accepting.proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    accepting.proxy = new FaultProxy(target, (server.address() as net.AddressInfo).port, server);
    return accepting.proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = "127.0.0.1";
    parsed.port = String(this.port);
    return parsed.toString();
  }

  private accept(client: net.Socket): void {
    if (this.down) return void client.destroy();
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    upstream.pipe(client);
    if (this.held) this.heldPairs.push(pair);
    else client.pipe(upstream);
  }

  /** Cuts every connection and refuses new ones until `restore()`. */
  cut(): void {
    this.down = true;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Cuts every connection once; new ones are accepted at once (a blip). */
  reset(): void {
    this.cut();
    this.down = false;
  }

  /** Stops forwarding what clients send (the server seems to hang) until `restore()`. */
  hold(): void {
    this.held = true;
    for (const pair of this.pairs) {
      const [client, upstream] = pair;
      client.unpipe(upstream);
      client.pause();
      this.heldPairs.push(pair);
    }
  }

  restore(): void {
    this.down = false;
    this.held = false;
    for (const [client, upstream] of this.heldPairs.splice(0)) if (!client.destroyed) client.pipe(upstream);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
