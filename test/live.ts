// What the subscription tests connect with: real WebSocket clients over real sockets. `LiveSocket`
// speaks graphql-transport-ws message by message (to see close codes, refuse pongs, stop reading);
// `liveClient` is The Guild's graphql-ws client, as Apollo Client's GraphQLWsLink uses it.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { eventually, readMetric } from "./client";
import type { Stack } from "./stack";

export const GRAPHQL_TRANSPORT_WS = "graphql-transport-ws";

/** The gateway's WebSocket URL (same port and path as HTTP). */
export const wsUrl = (stack: Pick<Stack, "graphqlUrl">) => stack.graphqlUrl.replace(/^http/, "ws");

export interface ServerMessage {
  type: string;
  id?: string;
  payload?: any;
}

/** How long a test waits for something the server should do at once (pub/sub on one machine). */
export const PROMPTLY_MS = 5_000;

/** Things arriving one by one, read in order; a read waits for the next one up to a deadline. */
class Inbox<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;

  put(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** Wakes a waiting read without an item, so it can look at `failed` again. */
  poke(): void {
    this.wake?.();
  }

  /** The next item, waiting up to `timeoutMs`; `failed` is asked before each wait. */
  async take(timeoutMs: number, nothing: string, failed: () => unknown = () => undefined): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      const failure = failed();
      if (failure) throw new Error(`subscription failed: ${JSON.stringify(failure)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(nothing);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.items.shift()!;
  }

  get pending(): number {
    return this.items.length;
  }
}

export class LiveSocket {
  private readonly received = new Inbox<ServerMessage>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => this.received.put(JSON.parse(String(data)) as ServerMessage));
    this.closed = new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** Opens a socket (the upgrade done), not yet initialised. */
  static open(
    stack: Pick<Stack, "graphqlUrl">,
    options: { headers?: Record<string, string>; autoPong?: boolean; protocol?: string } = {},
  ): Promise<LiveSocket> {
    const socket = new WebSocket(wsUrl(stack), options.protocol ?? GRAPHQL_TRANSPORT_WS, {
      headers: options.headers,
      autoPong: options.autoPong ?? true,
    });
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(new LiveSocket(socket)));
      socket.once("error", reject);
      socket.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
    });
  }

  /** Opens and sends connection_init with the token; resolves once acknowledged. */
  static async connect(
    stack: Pick<Stack, "graphqlUrl">,
    token: string,
    options: { headers?: Record<string, string>; autoPong?: boolean } = {},
  ): Promise<LiveSocket> {
    const live = await LiveSocket.open(stack, options);
    live.send({ type: "connection_init", payload: { authorization: `Bearer ${token}` } });
    const ack = await Promise.race([live.nextMessage(), live.closed.then((closed) => ({ type: "closed", payload: closed }))]);
    if (ack.type !== "connection_ack") throw new Error(`not acknowledged: ${JSON.stringify(ack)}`);
    return live;
  }

  send(message: object): void {
    this.socket.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.send({ id, type: "subscribe", payload: { query, variables } });
  }

  /** The next message from the server (any id), waiting up to `timeoutMs`. */
  nextMessage(timeoutMs = PROMPTLY_MS): Promise<ServerMessage> {
    return this.received.take(timeoutMs, "no message from the server in time");
  }

  /** Messages received and not read yet. */
  get pending(): number {
    return this.received.pending;
  }

  /** Waits for the close, failing after `timeoutMs`. */
  async closedWithin(timeoutMs = PROMPTLY_MS): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.closed,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("the server did not close the socket")), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.terminate();
  }
}

/** The graphql-ws client, connected eagerly; it never retries (a test sees what the server did). */
export function liveClient(stack: Pick<Stack, "graphqlUrl">, token: string): Client {
  return createClient({
    url: wsUrl(stack),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
  });
}

/** A subscription's results, read one by one as they come. */
export class Received<Data> {
  private readonly results = new Inbox<{ data?: Data; errors?: any }>();
  private failure: unknown;
  readonly stop: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown> = {}) {
    this.stop = client.subscribe<Data>(
      { query, variables },
      {
        next: (result) => this.results.put(result as { data?: Data; errors?: unknown }),
        error: (error) => {
          this.failure = error;
          this.results.poke();
        },
        complete: () => this.results.poke(),
      },
    );
  }

  next(timeoutMs = PROMPTLY_MS): Promise<{ data?: Data; errors?: any }> {
    return this.results.take(timeoutMs, "nothing delivered in time", () => this.failure);
  }

  /** Results delivered and not read yet. */
  get pending(): number {
    return this.results.pending;
  }
}

/** Subscriptions of `field` running at a gateway process (its `subscription_active` gauge). */
export const activeSubscriptions = (metricsUrl: string, field: string) => readMetric(metricsUrl, "subscription_active", { field });

/**
 * Waits until the gateway behind `metricsUrl` runs `count` more subscriptions of `field` than
 * `before`: a subscription counts once Redis confirmed its channel, so events published after
 * this reach it.
 */
export function untilSubscribed(metricsUrl: string, field: string, before: number, count = 1): Promise<void> {
  return eventually(async () => (await activeSubscriptions(metricsUrl, field)) >= before + count, `${count} ${field} subscription(s)`);
}
