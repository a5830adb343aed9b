// Hosts a built subgraph over HTTP (split mode) the same way for every subgraph: only callers
// holding the internal secret get in, the caller's identity comes from the gateway's headers,
// and errors leave with a code and without internals.
import { ApolloServer, type BaseContext } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import type { RouteHandlerMethod } from "fastify";
import { parseId } from "../lib/ids";
import { formatErrorFor } from "../framework/error-format";
import type { Config } from "../platform/config";
import { Deadline } from "../platform/deadline";
import {
  AUTH_FAILURE_HEADER,
  CLIENT_IP_HEADER,
  DEADLINE_HEADER,
  INTERNAL_SECRET_HEADER,
  secretMatches,
  SESSION_ID_HEADER,
  VIEWER_ID_HEADER,
} from "../platform/headers";
import { createHttpServer, listen, type RunningService } from "../platform/http";
import { platformReadiness } from "../platform/health";
import type { Logger } from "../platform/logger";
import type { BuiltSubgraph, Platform } from "../framework/subgraph";
import { acceptGraphQLUploads } from "../framework/uploads";
import { Viewer } from "../framework/viewer";

/** The caller as the gateway's headers describe it. */
export function viewerFromHeaders(headers: Record<string, string | string[] | undefined>): Viewer {
  const userId = parseId(headers[VIEWER_ID_HEADER]);
  const sessionId = headers[SESSION_ID_HEADER];
  const failure = headers[AUTH_FAILURE_HEADER];
  if (userId !== undefined && typeof sessionId === "string") return new Viewer({ userId, sessionId });
  return typeof failure === "string" ? new Viewer(null, failure) : Viewer.anonymous;
}

/** The longest a call may run here, whatever the gateway says: a subgraph taking uploads waits for the media worker. */
function callTimeout(config: Config, subgraph: BuiltSubgraph): number {
  return config.requestTimeoutMs + (subgraph.uploads ? config.media.publishTimeoutMs : 0);
}

export async function startSubgraphServer(
  subgraph: BuiltSubgraph,
  platform: Pick<Platform, "config" | "log" | "metrics" | "redis">,
  port: number,
): Promise<RunningService> {
  const { config, log, metrics } = platform;
  const app = createHttpServer({ config, log, metrics, readiness: () => ({ ...platformReadiness(platform), ...subgraph.readiness() }) });
  const apollo = new ApolloServer<BaseContext>({
    schema: subgraph.schema,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), fastifyApolloDrainPlugin(app)],
    formatError: formatErrorFor(log),
    includeStacktraceInErrorResponses: false,
    // The process owns shutdown (runAsProcess); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const receiveUploads = subgraph.uploads && acceptGraphQLUploads(app, subgraph.uploads.maxFileBytes);

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
      context: async (request, reply) => {
        const deadline = Deadline.fromHeader(request.headers[DEADLINE_HEADER], callTimeout(config, subgraph));
        // The gateway gave up on this call (its deadline, or its own caller left): stop working on it.
        reply.raw.once("close", () => {
          if (!reply.raw.writableFinished) deadline.abort("the gateway stopped waiting");
        });
        return subgraph.context({
          viewer: viewerFromHeaders(request.headers),
          requestId: request.id,
          // Believed: only the gateway (holding the internal secret, checked above) gets this far.
          clientIp: typeof request.headers[CLIENT_IP_HEADER] === "string" ? request.headers[CLIENT_IP_HEADER] : null,
          log: request.log as Logger,
          deadline,
        }) as BaseContext;
      },
    }) as RouteHandlerMethod,
  });

  const listening = await listen(app, config.host, port);
  log.info({ port: listening.port }, `${subgraph.name} subgraph listening`);
  return {
    name: subgraph.name,
    url: `${listening.baseUrl}/graphql`,
    port: listening.port,
    // Stopping Apollo drains in-flight requests, then closes the Fastify server (drain plugin).
    close: () => apollo.stop(),
  };
}
