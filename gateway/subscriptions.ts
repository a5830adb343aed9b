// GraphQL subscriptions at the gateway, over WebSocket (graphql-transport-ws, The Guild's
// graphql-ws) on the same /graphql route and port as HTTP. Apollo Gateway does not federate
// subscriptions, so the gateway executes them itself: the public schema's Subscription fields
// read the live events that the owning subgraphs publish after their commits (Redis pub/sub,
// platform/live-events.ts), and every payload carries all the fields of its type, so a delivery
// costs no subgraph fetch. Connections authenticate at connection_init with the HTTP token and
// are closed when their session ends; limits, pings and slow consumers are enforced here.
// docs/subscriptions.md explains the design.
import { randomUUID } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import fastifyWebsocket from "@fastify/websocket";
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  buildASTSchema,
  getNamedType,
  getOperationAST,
  GraphQLError,
  isLeafType,
  isObjectType,
  Kind,
  parse,
  printSchema,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import { CloseCode, handleProtocols, makeServer } from "graphql-ws";
import { Counter, Gauge, Histogram } from "prom-client";
import { WebSocket } from "ws";
import { forbidden, notFound, unavailable } from "../lib/errors";
import { requireId } from "../lib/ids";
import { messagesTopic, SESSIONS_ENDED, videoCountsTopic, type LiveMessage, type Topic } from "../lib/live-events";
import { Deadline } from "../platform/deadline";
import { formatErrorFor } from "../framework/error-format";
import { isInfrastructureFailure } from "../platform/failures";
import { LiveEventHub, type LiveEvent } from "../platform/live-events";
import type { Logger } from "../platform/logger";
import type { Platform } from "../framework/subgraph";
import { inLinkedSpan, tracingEnabled } from "../platform/tracing";
import type { SignedIn } from "../framework/viewer";
import { describeTokenFailure } from "../platform/sessions";
import { authenticate } from "./auth";
import type { Gateway } from "./auth";

/** Why the gateway ended a connection (the `reason` label of its metrics). */
type CloseReason =
  | "unauthenticated"
  | "forbidden"
  | "connections-per-user"
  | "connections-per-address"
  | "session-ended"
  | "slow-consumer"
  | "dead-peer"
  | "events-missed"
  | "unavailable"
  | "internal-error"
  | "protocol"
  | "shutdown";
const CLOSE_REASONS: readonly CloseReason[] = [
  "unauthenticated",
  "forbidden",
  "connections-per-user",
  "connections-per-address",
  "session-ended",
  "slow-consumer",
  "dead-peer",
  "events-missed",
  "unavailable",
  "internal-error",
  "protocol",
  "shutdown",
];

/**
 * Close codes. graphql-ws's own where one fits (its client does not retry 4401 and 4429 and
 * retries 4403); standard ones where the client should come back: 1001 and 1012 make it
 * reconnect (and so catch up), 1013 says retry later.
 */
const CLOSE = {
  unauthenticated: CloseCode.Unauthorized,
  forbidden: CloseCode.Forbidden,
  tooMany: CloseCode.TooManyInitialisationRequests,
  normal: 1000,
  goingAway: 1001,
  restart: 1012,
  tryLater: 1013,
} as const;

/** What one WebSocket connection is: its socket, its address and, once authenticated, its session. */
class LiveConnection {
  signedIn: SignedIn | undefined;
  token: string | undefined;
  /** Answered the last ping. */
  alive = true;
  /** Its subscriptions by operation id: the field each runs, and whether it started (counted in the gauge). */
  readonly subscriptions = new Map<string, { field: string; started: boolean }>();
  /** Bytes of events waiting in its subscriptions' queues (not yet handed to the socket). */
  queuedBytes = 0;
  /** Set when the gateway ends it. */
  closedFor: CloseReason | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly address: string,
    readonly log: Logger,
    private readonly closeTimeoutMs: number,
  ) {}

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Closes with a code and a reason the client reads; a peer that does not answer in time is cut. */
  close(reason: CloseReason, code: number, message: string): void {
    if (this.closedFor || this.socket.readyState >= WebSocket.CLOSING) return;
    this.closedFor = reason;
    this.socket.close(code, message);
    setTimeout(() => this.socket.terminate(), this.closeTimeoutMs).unref();
  }

  /** Cuts it at once: nothing more can reach a peer that is gone or not reading. */
  cut(reason: CloseReason): void {
    if (this.closedFor) return;
    this.closedFor = reason;
    this.socket.terminate();
  }
}

/** What a subscription's resolvers see. */
interface LiveContext {
  connection: LiveConnection;
  signedIn: SignedIn;
  operationId: string;
  field: string;
  /** The event being delivered (read when it is handed to the socket, for its latency). */
  current?: LiveEvent<unknown>;
}

export interface LiveSubscriptions {
  /** The /graphql route's handler of WebSocket upgrades. */
  wsHandler(socket: WebSocket, request: FastifyRequest): void;
  close(): Promise<void>;
}

/** The metrics of live connections, registered on the process's registry. */
function liveMetrics(
  registry: Platform["metrics"]["registry"],
  fields: readonly string[],
  sources: { connections(): number; channels(): number },
) {
  const metrics = {
    subscriptions: new Gauge({
      name: "subscription_active",
      help: "Subscriptions running at the gateway, by field",
      labelNames: ["field"],
      registers: [registry],
    }),
    delivered: new Counter({
      name: "subscription_events_delivered_total",
      help: "Live events handed to subscribers' sockets, by field",
      labelNames: ["field"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "subscription_delivery_seconds",
      help: "From a live event's publication (after its commit) to its hand-over to a subscriber's socket",
      labelNames: ["field"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    refused: new Counter({
      name: "subscription_refusals_total",
      help: "Subscriptions refused at start, by reason (limit, unauthenticated, not found, bad request)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    closed: new Counter({
      name: "subscription_connections_closed_total",
      help: "WebSocket connections the gateway closed or cut, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
  new Gauge({
    name: "subscription_connections",
    help: "WebSocket connections open at the gateway (authenticated or not yet)",
    registers: [registry],
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: "subscription_channels",
    help: "Redis pub/sub channels this gateway process listens to for its subscribers",
    registers: [registry],
    collect() {
      this.set(sources.channels());
    },
  });
  // Every series from zero, so rates and dashboards have them before the first event.
  for (const field of fields) {
    metrics.subscriptions.labels({ field }).set(0);
    metrics.delivered.labels({ field }).inc(0);
    metrics.latency.zero({ field });
  }
  for (const reason of CLOSE_REASONS) metrics.closed.labels({ reason }).inc(0);
  for (const reason of ["subscriptions-per-connection", "bad-request"]) metrics.refused.labels({ reason }).inc(0);
  return metrics;
}

/**
 * A subscription's events: pushed by the hub's listener, pulled by graphql-ws's delivery loop,
 * which waits for each send to reach the socket. What piles up in between counts against the
 * connection's allowance, with what its socket has not sent yet.
 */
class LiveQueue<Payload> implements AsyncIterableIterator<LiveEvent<Payload>> {
  private readonly events: LiveEvent<Payload>[] = [];
  private waiting: ((result: IteratorResult<LiveEvent<Payload>>) => void) | undefined;
  private done = false;
  stop: () => void = () => undefined;

  constructor(
    private readonly connection: LiveConnection,
    private readonly maxBufferedBytes: number,
  ) {}

  push(event: LiveEvent<Payload>): void {
    if (this.done) return;
    const { connection } = this;
    if (connection.socket.bufferedAmount + connection.queuedBytes + event.bytes > this.maxBufferedBytes) {
      connection.log.info({ buffered: connection.socket.bufferedAmount, queued: connection.queuedBytes }, "cut a slow live consumer");
      return connection.cut("slow-consumer");
    }
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      return waiting({ value: event, done: false });
    }
    this.events.push(event);
    connection.queuedBytes += event.bytes;
  }

  next(): Promise<IteratorResult<LiveEvent<Payload>>> {
    const event = this.events.shift();
    if (event) {
      this.connection.queuedBytes -= event.bytes;
      return Promise.resolve({ value: event, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<LiveEvent<Payload>>> {
    if (!this.done) {
      this.done = true;
      this.stop();
      for (const event of this.events.splice(0)) this.connection.queuedBytes -= event.bytes;
      this.waiting?.({ value: undefined, done: true });
      this.waiting = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<LiveEvent<Payload>>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const VIDEO_EXISTS = "query LiveVideoExists($id: ID!) { video(id: $id) { id } }";

/** The Subscription fields the gateway serves: how each subscribes to its topic. */
interface LiveField {
  subscribe: (args: Record<string, unknown>, context: LiveContext) => Promise<AsyncIterableIterator<LiveEvent<unknown>>>;
}

/**
 * The executable schema of subscriptions: a copy of the public (API) schema, so what clients
 * validate against is exactly what composition published, with the Subscription fields served
 * from live events. Payloads are closed: each Subscription field's type must have only scalar
 * fields, all carried by the event. A field owned by another subgraph (a `Message.from: User`)
 * would need a fetch per event; start-up refuses it until that exists (docs/subscriptions.md).
 * With tracing on, each subscription's start is a span, and so is each delivery (linked to the
 * write that published the event).
 */
export function buildSubscriptionSchema(apiSchema: GraphQLSchema, fields: Record<string, LiveField>): GraphQLSchema {
  const schema = buildASTSchema(parse(printSchema(apiSchema)));
  const subscription = schema.getSubscriptionType();
  if (!subscription) throw new Error("the supergraph has no Subscription type");
  for (const [name, field] of Object.entries(subscription.getFields())) {
    const live = fields[name];
    if (!live) throw new Error(`Subscription.${name} is in the supergraph, but the gateway has no live events for it`);
    const payload = getNamedType(field.type);
    if (isObjectType(payload)) {
      for (const inner of Object.values(payload.getFields())) {
        if (!isLeafType(getNamedType(inner.type)))
          throw new Error(
            `Subscription.${name} returns ${payload.name}, whose field ${inner.name} is not a scalar: a live event carries only ` +
              'the scalar fields its publishing subgraph owns (docs/subscriptions.md, "Payloads")',
          );
      }
    }
    const attributes = (context: LiveContext) => ({ "graphql.field": name, "enduser.id": String(context.signedIn.userId) });
    field.subscribe = (_source, args: Record<string, unknown>, context: LiveContext) =>
      inLinkedSpan(`subscription ${name}`, [], async (span) => {
        span?.setAttributes(attributes(context));
        return live.subscribe(args, context);
      });
    field.resolve = (event: LiveEvent<unknown>, _args, context: LiveContext) => {
      context.current = event;
      if (!tracingEnabled() || !event.traceparent) return event.payload;
      return inLinkedSpan(`subscription ${name} delivery`, [event.traceparent], async (span) => {
        span?.setAttributes(attributes(context));
        return event.payload;
      });
    };
  }
  return schema;
}

/**
 * Serves subscriptions on `app`'s GET /graphql upgrades: registers @fastify/websocket (so
 * upgrades go through Fastify's routing and `request.ip` honours TRUST_PROXY) and returns the
 * route's `wsHandler`. Call before the route is added.
 */
export async function serveSubscriptions(app: FastifyInstance, gateway: Gateway, platform: Platform): Promise<LiveSubscriptions> {
  const { config, log } = platform;
  const limits = config.subscriptions;
  const hub = await LiveEventHub.open(config, log, "gateway");
  const connections = new Set<LiveConnection>();
  const byUser = new Map<number, Set<LiveConnection>>();
  const bySession = new Map<string, Set<LiveConnection>>();
  const byAddress = new Map<string, number>();
  const formatError = formatErrorFor(log);

  const liveFields: Record<string, LiveField> = {
    messageReceived: {
      subscribe: async ({ fromUserId }, context) => {
        const viewerId = String(context.signedIn.userId);
        const partner = fromUserId === undefined || fromUserId === null ? undefined : String(requireId(fromUserId, "user"));
        return listen(context, messagesTopic(viewerId), (message: LiveMessage) =>
          partner === undefined
            ? true
            : (message.fromUserId === partner && message.toUserId === viewerId) ||
              (message.fromUserId === viewerId && message.toUserId === partner),
        );
      },
    },
    videoCounts: {
      subscribe: async ({ videoId }, context) => {
        const id = requireId(videoId, "video");
        await requireVideo(id, context);
        return listen(context, videoCountsTopic(id));
      },
    },
  };
  const schema = buildSubscriptionSchema(gateway.apiSchema, liveFields);
  const metrics = liveMetrics(platform.metrics.registry, Object.keys(liveFields), {
    connections: () => connections.size,
    channels: () => hub.size,
  });

  /** A queue of `topic`'s events for one subscription, from the moment Redis confirmed it. */
  async function listen<Payload>(context: LiveContext, topic: Topic<Payload>, keep: (payload: Payload) => boolean = () => true) {
    const queue = new LiveQueue<Payload>(context.connection, limits.maxBufferedBytes);
    queue.stop = await hub.listen(topic, (event) => {
      if (keep(event.payload)) queue.push(event);
    });
    // The connection may have gone while Redis confirmed.
    if (!context.connection.subscriptions.has(context.operationId)) void queue.return();
    return queue as AsyncIterableIterator<LiveEvent<unknown>>;
  }

  /** NOT_FOUND for a video that does not exist, asked through the gateway (so in split mode too). */
  async function requireVideo(videoId: number, context: LiveContext): Promise<void> {
    const contextValue = await gateway.context({
      authorization: undefined,
      requestId: randomUUID(),
      log: context.connection.log,
      clientIp: context.connection.address,
      deadline: new Deadline(config.requestTimeoutMs),
    });
    const response = await gateway.apollo.executeOperation<{ video: { id: string } | null }>(
      { query: VIDEO_EXISTS, variables: { id: String(videoId) } },
      { contextValue },
    );
    const result = response.body.kind === "single" ? response.body.singleResult : undefined;
    if (!result || result.errors?.length) throw unavailable();
    if (!result.data?.video) throw notFound(`video ${videoId} not found`);
  }

  function register(connection: LiveConnection, signedIn: SignedIn, token: string): void {
    connection.signedIn = signedIn;
    connection.token = token;
    const users = byUser.get(signedIn.userId) ?? new Set();
    byUser.set(signedIn.userId, users.add(connection));
    const sessions = bySession.get(signedIn.sessionId) ?? new Set();
    bySession.set(signedIn.sessionId, sessions.add(connection));
  }

  function unregister(connection: LiveConnection): void {
    connections.delete(connection);
    const left = (byAddress.get(connection.address) ?? 1) - 1;
    if (left > 0) byAddress.set(connection.address, left);
    else byAddress.delete(connection.address);
    const { signedIn } = connection;
    if (!signedIn) return;
    const users = byUser.get(signedIn.userId);
    users?.delete(connection);
    if (users?.size === 0) byUser.delete(signedIn.userId);
    const sessions = bySession.get(signedIn.sessionId);
    sessions?.delete(connection);
    if (sessions?.size === 0) bySession.delete(signedIn.sessionId);
  }

  const server = makeServer<Record<string, unknown> | undefined, { connection: LiveConnection }>({
    schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect: async (ctx) => {
      const { connection } = ctx.extra;
      const authorization = readAuthorization(ctx.connectionParams);
      if (!authorization) {
        connection.close(
          "unauthenticated",
          CLOSE.unauthenticated,
          'Unauthorized: send { "authorization": "Bearer <token>" } in connection_init',
        );
        return false;
      }
      let viewer;
      try {
        viewer = await authenticate(gateway.sessions, authorization);
      } catch (error) {
        if (!isInfrastructureFailure(error)) throw error;
        connection.log.warn({ err: error }, "could not check a live connection's session");
        connection.close("unavailable", CLOSE.tryLater, "Try again later: the session could not be checked");
        return false;
      }
      if (!viewer.signedIn) {
        connection.close("forbidden", CLOSE.forbidden, `Forbidden: ${describeTokenFailure(viewer.tokenFailure)}`);
        return false;
      }
      if (!connection.open) return false;
      if ((byUser.get(viewer.signedIn.userId)?.size ?? 0) >= limits.connectionsPerUser) {
        connection.close(
          "connections-per-user",
          CLOSE.tooMany,
          `Too many live connections for this user (at most ${limits.connectionsPerUser})`,
        );
        return false;
      }
      register(connection, viewer.signedIn, authorization.replace(/^Bearer\s+/i, "").trim());
      return true;
    },
    onSubscribe: (ctx, id, payload) => {
      const { connection } = ctx.extra;
      const refuse = (reason: string, ...errors: readonly GraphQLError[]) => {
        metrics.refused.inc({ reason });
        return errors;
      };
      if (connection.subscriptions.size >= limits.perConnection) {
        return refuse("subscriptions-per-connection", forbidden(`at most ${limits.perConnection} subscriptions per connection`));
      }
      let document: DocumentNode;
      try {
        document = parse(payload.query, { maxTokens: config.graphql.maxTokens });
      } catch (error) {
        return refuse("bad-request", new GraphQLError((error as Error).message, { extensions: { code: "GRAPHQL_PARSE_FAILED" } }));
      }
      const errors = validate(schema, document);
      if (errors.length > 0) {
        const coded = errors.map(
          (error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
        );
        return refuse("bad-request", ...coded);
      }
      const operation = getOperationAST(document, payload.operationName);
      if (operation?.operation !== "subscription") {
        return refuse(
          "bad-request",
          new GraphQLError("only subscriptions go over WebSocket: send queries and mutations to POST /graphql", {
            extensions: { code: "BAD_REQUEST" },
          }),
        );
      }
      const selection = operation.selectionSet.selections[0];
      const field = selection?.kind === Kind.FIELD ? selection.name.value : "unknown";
      connection.subscriptions.set(id, { field, started: false });
      const contextValue: LiveContext = { connection, signedIn: connection.signedIn!, operationId: id, field };
      return {
        schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue,
      } satisfies ExecutionArgs;
    },
    onOperation: (ctx, id, _payload, _args, result) => {
      const subscription = ctx.extra.connection.subscriptions.get(id);
      if (!subscription) return;
      // A subscription that could not start (its subscribe threw, e.g. NOT_FOUND): counted as refused.
      const started = result as ExecutionResult | AsyncIterable<ExecutionResult>;
      if (!(Symbol.asyncIterator in started)) {
        const code = started.errors?.[0]?.extensions?.code;
        metrics.refused.inc({ reason: typeof code === "string" ? code.toLowerCase().replace(/_/g, "-") : "error" });
        return;
      }
      subscription.started = true;
      metrics.subscriptions.inc({ field: subscription.field });
    },
    onNext: (_ctx, _id, _payload, args, result) => {
      if (result.errors) return { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) };
      const context = args.contextValue as LiveContext;
      metrics.delivered.inc({ field: context.field });
      if (context.current) metrics.latency.observe({ field: context.field }, Math.max(0, Date.now() - context.current.publishedAt) / 1000);
    },
    onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
    onComplete: (ctx, id) => {
      const { subscriptions } = ctx.extra.connection;
      const subscription = subscriptions.get(id);
      subscriptions.delete(id);
      if (subscription?.started) metrics.subscriptions.dec({ field: subscription.field });
    },
  });

  // Logged out anywhere: every gateway closes the connections opened with that session.
  const stopSessionsEnded = await hub.listen(SESSIONS_ENDED, ({ payload }) => {
    for (const connection of bySession.get(payload.sessionId) ?? []) {
      connection.close("session-ended", CLOSE.forbidden, `Forbidden: ${describeTokenFailure("revoked")}`);
    }
  });
  // Events were lost while Redis was away: clients reconnect, and catch up by query when they do.
  hub.onGap(() => {
    for (const connection of connections)
      connection.close("events-missed", CLOSE.restart, "Service restart: live events may have been missed");
  });

  // A peer that has not answered the previous ping is gone (a phone that lost its network never says so).
  const pings = setInterval(() => {
    for (const connection of connections) {
      if (!connection.alive) {
        connection.cut("dead-peer");
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }, limits.pingIntervalMs);
  pings.unref();

  // Sessions end without a logout too (expiry); a check also renews the sliding TTL, as a request would.
  const sessionChecks = setInterval(() => {
    for (const connection of connections) {
      const token = connection.token;
      if (!token) continue;
      gateway.sessions.check(token).then(
        (check) => {
          if (!check.ok) connection.close("session-ended", CLOSE.forbidden, `Forbidden: ${describeTokenFailure(check.reason)}`);
        },
        (error: unknown) => connection.log.debug({ err: error }, "could not check a live connection's session; trying again later"),
      );
    }
  }, limits.sessionCheckMs);
  sessionChecks.unref();

  await app.register(fastifyWebsocket, {
    options: { maxPayload: config.limits.requestBodyBytes, handleProtocols: (protocols) => handleProtocols(protocols) },
    // Shutdown: every client is told to go away (graphql-ws clients reconnect, to another replica).
    preClose(done) {
      for (const connection of connections) connection.close("shutdown", CLOSE.goingAway, "Going away: the gateway is shutting down");
      this.websocketServer.close(() => done());
    },
  });

  const wsHandler = (socket: WebSocket, request: FastifyRequest) => {
    const connection = new LiveConnection(socket, request.ip, request.log as Logger, limits.closeTimeoutMs);
    const fromAddress = byAddress.get(connection.address) ?? 0;
    byAddress.set(connection.address, fromAddress + 1);
    connections.add(connection);
    socket.on("pong", () => (connection.alive = true));
    socket.once("close", () => {
      unregister(connection);
      if (connection.closedFor) metrics.closed.inc({ reason: connection.closedFor });
    });
    if (fromAddress >= limits.connectionsPerAddress) {
      connection.close(
        "connections-per-address",
        CLOSE.tooMany,
        `Too many live connections from this address (at most ${limits.connectionsPerAddress})`,
      );
      return;
    }
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (!connection.open) return resolve();
            socket.send(data, (error) => (error && connection.open ? reject(error) : resolve()));
          }),
        // graphql-ws's own closes: a broken protocol (bad messages, no connection_init in time).
        close: (code, reason) => connection.close("protocol", code ?? CLOSE.normal, reason ?? ""),
        onMessage: (handle) =>
          socket.on("message", (data) => {
            handle(String(data)).catch((error: unknown) => {
              connection.log.error({ err: error }, "live connection failed");
              connection.close("internal-error", CloseCode.InternalServerError, "Internal server error");
            });
          }),
      },
      { connection },
    );
    socket.once("close", (code, reason) => void closed(code, String(reason)));
  };

  return {
    wsHandler,
    close: async () => {
      clearInterval(pings);
      clearInterval(sessionChecks);
      stopSessionsEnded();
      await hub.close();
    },
  };
}

/**
 * Apollo Gateway cannot run a subscription: over HTTP it is a client's mistake, answered 400
 * with where to send it, before any planning.
 */
export function refuseSubscriptionsOverHttp(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== "subscription") return;
          throw new GraphQLError(
            "subscriptions are served over WebSocket (graphql-transport-ws) at this same /graphql URL, not over HTTP",
            {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            },
          );
        },
      };
    },
  };
}

/** The token from connection_init's payload: `authorization` in any case, as Sandbox sends its headers. */
function readAuthorization(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  const key = Object.keys(params).find((name) => name.toLowerCase() === "authorization");
  const value = key === undefined ? undefined : params[key];
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}
