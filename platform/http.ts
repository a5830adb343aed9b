// The Fastify instance every service starts from: request ids that follow a request across
// hops, one log line per request, Prometheus metrics (served on a port of their own, see
// metrics-server.ts), health routes, timeouts on every connection, and a bounded shutdown.
import { STATUS_CODES } from "node:http";
import { Socket, type AddressInfo } from "node:net";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Config } from "./config";
import { REQUEST_ID_HEADER } from "./headers";
import { requestIdFrom, type Logger } from "./logger";
import { currentTraceId } from "./tracing";
import { healthRoutes, type ReadinessChecks } from "./health";
import type { Metrics } from "./metrics";

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Where its process serves GET /metrics (its own port). */
  readonly metricsUrl?: string;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Longest request line plus headers accepted (Node answers a bare 431 past it). */
  maxHeaderBytes?: number;
  /** Answers requests Node rejects before routing (oversized headers, bad framing); `headers`: more lines, each ending in CRLF. */
  clientErrorResponse?: (error: Error & { code?: string }) => { status: number; body: string; headers?: string };
  /** Treat `/a/b` and `/a/b/` as one route (the legacy app is not consistent). */
  ignoreTrailingSlash?: boolean;
  /** What `/readyz` checks (read on each probe, so it may be filled in after start). */
  readiness?: () => ReadinessChecks;
  /** Services this one calls over the network: reported by `/readyz`, not required (health.ts says why). */
  dependencies?: () => ReadinessChecks;
}

/** Probes: counted in metrics, not worth a log line each. */
const QUIET_ROUTES = new Set(["/healthz", "/readyz"]);

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { config, log, metrics, maxHeaderBytes, clientErrorResponse } = options;
  const app = Fastify({
    loggerInstance: log,
    // One line per request from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "requestId" }),
    // With tracing on, the request id is the trace id (the traceparent header carries it across
    // hops), so a log line leads to its trace; otherwise an incoming id is kept.
    genReqId: (request) => currentTraceId() ?? requestIdFrom(request.headers[REQUEST_ID_HEADER]),
    bodyLimit: config.limits.requestBodyBytes,
    trustProxy: config.trustProxy,
    // A client must send its headers promptly and its whole request (an upload included)
    // within the upload time; a connection idle that long is closed. Handlers are bounded by
    // their own deadline (a publish waits for the media worker), which these outlast.
    connectionTimeout: longestExchangeMs(config),
    requestTimeout: longestExchangeMs(config),
    keepAliveTimeout: 65_000,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, ...(maxHeaderBytes && { maxHeaderSize: maxHeaderBytes }) },
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: options.ignoreTrailingSlash ?? false },
    ...(clientErrorResponse && {
      clientErrorHandler(error: Error & { code?: string }, socket: import("node:net").Socket) {
        if (!socket.writable) return socket.destroy();
        const { status, body, headers = "" } = clientErrorResponse(error);
        socket.end(
          `HTTP/1.1 ${status} ${status === 200 ? "OK" : "Bad Request"}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      },
    }),
  }) as unknown as FastifyInstance;

  app.addHook("onSend", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route, method: request.method }, seconds);
    if (QUIET_ROUTES.has(route)) return;
    request.log.info(
      { method: request.method, url: route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      "request",
    );
  });
  healthRoutes(app, options.readiness ?? (() => ({})), options.dependencies);
  return app;
}

/**
 * Runs `undo` once the exchange is over, answered or abandoned (a client that hangs up never
 * reaches onResponse), at once if it already is (it hung up while we were busy).
 */
export function whenExchangeEnds(reply: FastifyReply, undo: () => unknown): void {
  if (reply.raw.destroyed) void undo();
  else reply.raw.once("close", () => void undo());
}

/** How long a refused client that keeps sending may hold its connection after the answer. */
const REFUSAL_LINGER_MS = 2_000;

/**
 * Answers a request whose body is left unread (an upload refused before its file) so that the
 * client reads the answer, not a reset. Node closes the socket as soon as a `Connection: close`
 * answer is written, and closing a socket with unread bytes sends a TCP reset, which can reach
 * the client before it has read the answer (its next write fails: EPIPE, ECONNRESET). So the
 * answer is written to the socket directly and only the sending side is closed; at most
 * `drainBytes` more of the body are read and dropped, then reading stops, and the socket is
 * closed when the client hangs up (one that has its answer does) or `REFUSAL_LINGER_MS` later.
 */
export function answerUnreadBody(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: { status: number; body: unknown },
  options: { drainBytes: number; metrics: Pick<Metrics, "httpRequests"> },
): void {
  const socket = request.raw.socket;
  // An injected request (light-my-request, in tests) has no connection to linger on.
  if (!(socket instanceof Socket)) return void reply.code(answer.status).header("connection", "close").send(answer.body);
  reply.hijack();
  const body = JSON.stringify(answer.body);
  // The headers set so far (security headers, Retry-After) and the ones Fastify would add.
  const headers: Record<string, unknown> = {
    ...reply.getHeaders(),
    [REQUEST_ID_HEADER]: request.id,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  };
  const lines = Object.entries(headers).flatMap(([name, value]) =>
    value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((one) => `${name}: ${String(one)}\r\n`),
  );
  const incoming = request.raw;
  // Whatever was parsing the body (a multipart parser) stops; what arrives now is dropped.
  incoming.unpipe();
  let drained = 0;
  incoming.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained >= options.drainBytes) incoming.pause();
  });
  incoming.resume();
  const cut = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  socket.once("close", () => {
    clearTimeout(cut);
    request.log.info({ status: answer.status, drained }, "refused before its body was read; connection closed");
  });
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}\r\n${lines.join("")}\r\n${body}`);
  const route = request.routeOptions.url ?? "unmatched";
  options.metrics.httpRequests.inc({ route, method: request.method, status: String(answer.status) });
  request.log.info({ method: request.method, url: route, status: answer.status }, "request");
}

/** Longest a client may take to send its request headers. */
const HEADERS_TIMEOUT_MS = 15_000;

/** Longest an exchange may last on one connection: the slowest request (a publish) plus slack. */
export function longestExchangeMs(config: Pick<Config, "requestTimeoutMs" | "media">): number {
  return config.requestTimeoutMs + config.media.publishTimeoutMs + 30_000;
}

/** Listens and returns the base URL (with the real port when `port` is 0). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<{ port: number; baseUrl: string }> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return { port: address.port, baseUrl: `http://${reachable}:${address.port}` };
}
