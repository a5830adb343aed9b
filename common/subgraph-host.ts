// Hosts a subgraph schema on Fastify + Apollo Server the same way for all three subgraphs:
// only callers holding the internal secret get in, the caller's identity comes from the
// gateway's headers, and errors leave with a code and without internals.
import { createHash, timingSafeEqual } from "node:crypto";
import { ApolloServer, type BaseContext } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import type { FastifyRequest, RouteHandlerMethod } from "fastify";
import type { GraphQLSchema } from "graphql";
import type { Config } from "./config";
import { formatErrorFor, unauthenticated } from "./errors";
import { AUTH_FAILURE_HEADER, INTERNAL_SECRET_HEADER, SESSION_ID_HEADER, VIEWER_ID_HEADER } from "./headers";
import { createHttpServer, listen } from "./http";
import { parseId } from "./ids";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import { describeTokenFailure } from "./tokens";
import { acceptGraphQLUploads } from "./uploads";

/** The caller, as the gateway established it from a verified token and a live session. */
export interface Viewer {
  userId: number;
  sessionId: string;
}

/** What every subgraph's per-request context starts from. */
export interface RequestScope {
  viewer: Viewer | null;
  /** Set when a token was sent but could not be used; explains an UNAUTHENTICATED error. */
  authFailure: string | undefined;
  requestId: string;
  log: Logger;
}

export function requireViewer(scope: Pick<RequestScope, "viewer" | "authFailure">): Viewer {
  if (!scope.viewer) throw unauthenticated(describeTokenFailure(scope.authFailure));
  return scope.viewer;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Constant-time comparison of a presented secret with the configured one. */
export function secretMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== "string") return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

export interface SubgraphServerOptions<Context extends BaseContext> {
  name: string;
  config: Config;
  log: Logger;
  metrics: Metrics;
  schema: GraphQLSchema;
  port: number;
  createContext(scope: RequestScope): Context;
  /** Accept GraphQL multipart requests (file uploads) up to this many bytes per file. */
  uploads?: { maxFileBytes: number };
}

export async function startSubgraphServer<Context extends BaseContext>(options: SubgraphServerOptions<Context>): Promise<RunningService> {
  const { config, log, metrics } = options;
  const app = createHttpServer({ config, log, metrics });
  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), fastifyApolloDrainPlugin(app)],
    formatError: formatErrorFor(log),
    includeStacktraceInErrorResponses: false,
    // The process owns shutdown (runAsProcess); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const receiveUploads = options.uploads && acceptGraphQLUploads(app, options.uploads.maxFileBytes);

  const scopeOf = (request: FastifyRequest): RequestScope => {
    const viewerId = parseId(request.headers[VIEWER_ID_HEADER]);
    const sessionId = request.headers[SESSION_ID_HEADER];
    const failure = request.headers[AUTH_FAILURE_HEADER];
    return {
      viewer: viewerId !== undefined && typeof sessionId === "string" ? { userId: viewerId, sessionId } : null,
      authFailure: typeof failure === "string" ? failure : undefined,
      requestId: request.id,
      log: request.log as Logger,
    };
  };

  app.route({
    url: "/graphql",
    method: ["GET", "POST", "OPTIONS"],
    onRequest: async (request, reply) => {
      if (!secretMatches(request.headers[INTERNAL_SECRET_HEADER], config.auth.internalSecret)) {
        request.log.warn({ ip: request.ip }, "refused a subgraph request without the internal secret");
        return reply.code(403).send({
          errors: [{ message: "this service only answers the gateway", extensions: { code: "FORBIDDEN" } }],
        });
      }
    },
    ...(receiveUploads && { preValidation: receiveUploads }),
    handler: fastifyApolloHandler(apollo, {
      context: async (request) => options.createContext(scopeOf(request)),
    }) as RouteHandlerMethod,
  });

  const { port, baseUrl } = await listen(app, config.host, options.port);
  log.info({ port }, `${options.name} subgraph listening`);
  return {
    name: options.name,
    url: `${baseUrl}/graphql`,
    port,
    // Stopping Apollo drains in-flight requests, then closes the Fastify server (drain plugin).
    close: () => apollo.stop(),
  };
}
