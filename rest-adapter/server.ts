// The legacy REST adapter: the /douyin/* routes of the mobile app (routes.ts), each mapped to a
// GraphQL operation on the gateway through an executor (HTTP or in-process), always answering
// the legacy JSON envelope.
import formbody from "@fastify/formbody";
import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../platform/config";
import type { ReadinessChecks } from "../platform/health";
import { answerUnreadBody, createHttpServer, listen, whenExchangeEnds } from "../platform/http";
import type { Logger } from "../platform/logger";
import type { Metrics } from "../platform/metrics";
import type { RunningService } from "../platform/http";
import { spoolToFile } from "../media/upload";
import { API_POLICY, applySecurityHeaders, securityHeaderLines } from "../lib/security-headers";
import { Deadline, requestTimeout } from "../platform/deadline";
import { failure, failureFromError, failureFromGraphQL, STATUS_CODES, success, type Envelope } from "./envelope";
import { SpooledFile } from "./files";
import { GatewayUnavailableError, type CallOptions, type GatewayExecutor } from "./gateway-client";
import { describeProblem } from "./params";
import { routes, type LegacyRoute, type RouteEnvironment } from "./routes";
import { LegacyUploadAdmission, UploadRefused } from "./uploads";

const MULTIPART_LIMITS = { fields: 32, fieldSize: 64 * 1024, parts: 64 };
/** The security headers, for the answers written straight to the socket. */
const RAW_SECURITY_HEADERS = securityHeaderLines(API_POLICY);

/** Query string and body merged into one flat map of strings (first value of a repeated key). */
function collectParams(request: FastifyRequest): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const source of [request.query, request.body]) {
    if (!source || typeof source !== "object") continue;
    for (const [key, value] of Object.entries(source)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (first === undefined || first === null) continue;
      merged[key] = typeof first === "number" || typeof first === "boolean" ? String(first) : first;
    }
  }
  return merged;
}

const firstString = (value: unknown): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" && first !== "" ? first : undefined;
};

/** A plain field multipart has parsed so far (they arrive in the order the client wrote them). */
function fieldValue(fields: Record<string, unknown>, name: string): string | undefined {
  const field = fields[name];
  const first = Array.isArray(field) ? field[0] : field;
  return first && typeof first === "object" && "value" in first ? firstString((first as { value: unknown }).value) : undefined;
}

/** Joins a list's pages: each array of the body grows by the page's. */
function joinPages(body: Record<string, unknown>, page: Record<string, unknown>): Record<string, unknown> {
  const joined = { ...body };
  for (const [key, value] of Object.entries(page)) {
    const before = joined[key];
    joined[key] = Array.isArray(before) && Array.isArray(value) ? [...before, ...value] : value;
  }
  return joined;
}

const listLength = (body: Record<string, unknown>) =>
  Object.values(body).reduce<number>((sum, value) => sum + (Array.isArray(value) ? value.length : 0), 0);

/** The adapter's Fastify app, not yet listening (tests drive it with `inject`). */
export interface RestAdapterOptions {
  config: Config;
  log: Logger;
  metrics: Metrics;
  gateway: GatewayExecutor;
  /** What /readyz requires (co-located: the one process's database and Redis). */
  readiness?: () => ReadinessChecks;
  /** What /readyz reports without requiring it (split: the gateway it calls over HTTP). */
  dependencies?: () => ReadinessChecks;
}

export async function createRestApp(options: RestAdapterOptions): Promise<FastifyInstance> {
  const { config, log, metrics, gateway } = options;
  const app = createHttpServer({
    config,
    log,
    metrics,
    ...(options.readiness && { readiness: options.readiness }),
    ...(options.dependencies && { dependencies: options.dependencies }),
    ignoreTrailingSlash: true,
    maxHeaderBytes: config.limits.requestUrlBytes,
    clientErrorResponse: (error) => ({
      status: 200,
      headers: RAW_SECURITY_HEADERS,
      body: JSON.stringify(
        error.code === "HPE_HEADER_OVERFLOW"
          ? failure("BAD_USER_INPUT", `request line and headers exceed ${config.limits.requestUrlBytes} bytes; send long text in the body`)
          : failure("BAD_USER_INPUT", "malformed HTTP request"),
      ),
    }),
  });
  applySecurityHeaders(app.server, () => API_POLICY);
  await app.register(formbody);
  const fileFields = new Map(routes.map((route) => [route.path, new Set(route.files ?? [])]));
  const admission = new LegacyUploadAdmission(config, gateway);
  // multipart's onFile sees only the request; its reply says when the exchange is over, and then
  // spooled files go and upload slots are given back.
  const replies = new WeakMap<FastifyRequest, FastifyReply>();
  app.addHook("onRequest", async (request, reply) => void replies.set(request, reply));
  const whenOver = (request: FastifyRequest, undo: () => unknown) => whenExchangeEnds(replies.get(request)!, undo);
  await app.register(multipart, {
    attachFieldsToBody: "keyValues",
    // One byte past our limit, so spoolToFile (not busboy's silent truncation) reports it.
    limits: { ...MULTIPART_LIMITS, files: 1, fileSize: config.media.maxUploadBytes + 1 },
    onFile: async function (this: FastifyRequest, part) {
      // Only a route's declared file fields are kept; any other file is drained and dropped.
      if (!fileFields.get(this.routeOptions.url ?? "")?.has(part.fieldname)) return void part.file.resume();
      // The token comes before the file (query string or an earlier field) and is settled before
      // a byte of the file is read: without a live session or a free slot, nothing reaches the disk.
      const token = firstString((this.query as Record<string, unknown> | undefined)?.token) ?? fieldValue(part.fields, "token");
      whenOver(this, await admission.admit(this, token));
      const { file, size } = await spoolToFile(part.file, { dir: config.media.tmpDir, maxBytes: config.media.maxUploadBytes });
      const received = new SpooledFile(file, size, part.filename, part.mimetype);
      whenOver(this, () => received.remove());
      (part as unknown as { value: unknown }).value = received;
    },
  });

  const monthDay = new Intl.DateTimeFormat("en-CA", { timeZone: config.commentTimeZone, month: "2-digit", day: "2-digit" });
  // Formatting a date in a time zone is slow next to everything else a comment costs; every
  // offset in the time zone database is a multiple of 15 minutes, so a quarter-hour has one date.
  const dates = new Map<number, string>();
  const environment: RouteEnvironment = {
    commentDate: (iso) => {
      const quarter = Math.floor(Date.parse(iso) / 900_000);
      let date = dates.get(quarter);
      if (date === undefined) {
        const parts = Object.fromEntries(monthDay.formatToParts(new Date(quarter * 900_000)).map((part) => [part.type, part.value]));
        date = `${parts.month}-${parts.day}`;
        if (dates.size >= 100_000) dates.clear();
        dates.set(quarter, date);
      }
      return date;
    },
  };

  const run = async (route: LegacyRoute, request: FastifyRequest, options: CallOptions): Promise<Envelope> => {
    const params = collectParams(request);
    const token = typeof params.token === "string" && params.token !== "" ? params.token : undefined;
    if (route.auth && !token) return failure("UNAUTHENTICATED", "token is required");
    const parsed = route.params.safeParse(params);
    if (!parsed.success) return failure("BAD_USER_INPUT", describeProblem(parsed.error));
    let body: Record<string, unknown> | undefined;
    let after: string | undefined;
    for (;;) {
      const result = await gateway.execute(route.call(parsed.data, after), { ...options, token });
      if (result.errors.length > 0) return failureFromGraphQL(result.errors);
      if (result.data === null) return failure("INTERNAL_SERVER_ERROR", "internal server error");
      let page: Record<string, unknown>;
      try {
        page = route.respond(result.data, parsed.data, environment);
      } catch (error) {
        const envelope = failureFromError(error);
        if (envelope) return envelope;
        throw error;
      }
      body = body ? joinPages(body, page) : page;
      const next = route.nextPage?.(result.data);
      if (!next) break;
      if (listLength(body) >= config.limits.legacyListMax) {
        request.log.warn(
          { route: route.path, items: listLength(body) },
          `legacy list cut at LEGACY_LIST_MAX (${config.limits.legacyListMax})`,
        );
        break;
      }
      after = next;
    }
    return success(body);
  };

  const answer = async (route: LegacyRoute, request: FastifyRequest, reply: FastifyReply): Promise<Envelope> => {
    const deadline = new Deadline(requestTimeout(config, request.headers["content-type"]));
    // The app hung up: the gateway stops its work at the next fetch.
    let hungUp = false;
    reply.raw.once("close", () => {
      if (reply.raw.writableFinished) return;
      hungUp = true;
      deadline.abort();
    });
    try {
      return await run(route, request, { requestId: request.id, log: request.log as Logger, clientIp: request.ip, deadline });
    } catch (error) {
      if (hungUp) {
        // Nobody is left to answer, and nothing failed here: not an error.
        request.log.info({ route: route.path }, "the app hung up before the answer; its work was stopped");
        return failure("UNAVAILABLE", "the request was abandoned");
      }
      if (error instanceof GatewayUnavailableError) {
        request.log.error({ err: error }, "gateway unavailable");
        return failure("UNAVAILABLE", "service temporarily unavailable, please retry");
      }
      request.log.error({ err: error }, "unexpected error in a legacy route");
      return failure("INTERNAL_SERVER_ERROR", "internal server error");
    }
  };

  for (const route of routes) {
    app.route({
      url: route.path,
      // Every method is routed here, so a wrong one gets the envelope (405), not a 404 page.
      method: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      handler: async (request, reply) => {
        if (request.method !== "POST" && (route.method === "POST" || request.method !== "GET")) {
          reply.code(405).header("allow", route.method === "POST" ? "POST" : "GET, POST");
          return reply.send(
            failure("METHOD_NOT_ALLOWED", `${route.path} takes ${route.method === "POST" ? "POST" : "GET or POST"}, not ${request.method}`),
          );
        }
        const envelope = await answer(route, request, reply);
        metrics.legacyResponses.inc({ route: route.path, status_code: String(envelope.status_code) });
        if (envelope.status_code === STATUS_CODES.RATE_LIMITED && typeof envelope.retry_after === "number") {
          reply.header("retry-after", String(envelope.retry_after));
        }
        return reply.send(envelope);
      },
    });
  }

  app.setNotFoundHandler(async (request, reply: FastifyReply) =>
    reply.code(404).send(failure("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );
  // Route handlers answer their own failures (see `answer`), so what reaches this handler
  // failed before them: reading the body (too large, malformed form or multipart data, an
  // unsupported content type), or admitting a file. That is told in the envelope; when the body
  // is still arriving, so that the app reads the answer while it sends (see answerUnreadBody).
  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const envelope = refusalEnvelope(error);
    if (error instanceof UploadRefused) {
      request.log.info({ statusCode: envelope.status_code }, `upload refused before its file was read: ${envelope.status_msg}`);
    } else request.log.info({ err: error }, "unreadable legacy request");
    if (typeof envelope.retry_after === "number") reply.header("retry-after", String(envelope.retry_after));
    if (request.raw.complete) return reply.code(200).send(envelope);
    answerUnreadBody(request, reply, { status: 200, body: envelope }, { drainBytes: config.media.refusedBodyDrainBytes, metrics });
  });

  return app;
}

/** The envelope for a request that failed before its route handler: reading its body, or admitting its file. */
function refusalEnvelope(error: Error & { statusCode?: number }): Envelope {
  if (error instanceof UploadRefused) return error.envelope;
  const known = failureFromError(error);
  if (known) return known;
  const tooLarge = error.statusCode === 413 || /too large/i.test(error.message);
  return failure("BAD_USER_INPUT", tooLarge ? error.message : `malformed request: ${error.message}`);
}

/** The adapter on its HTTP port. */
export async function startRestAdapter(options: RestAdapterOptions, port = options.config.ports.rest): Promise<RunningService> {
  const app = await createRestApp(options);
  const { port: boundPort, baseUrl } = await listen(app, options.config.host, port);
  options.log.info({ port: boundPort }, `REST adapter listening on ${baseUrl}`);
  return {
    name: "rest-adapter",
    url: baseUrl,
    port: boundPort,
    close: async () => {
      await app.close();
      await options.gateway.close();
    },
  };
}
