// The gateway: the composed supergraph behind one /graphql endpoint, with token checks, query
// limits and Apollo Sandbox outside production. It reaches each subgraph over HTTP (split
// mode) or by a function call when the subgraph runs in the same process (co-located mode);
// query plans are the same either way.
import { ApolloGateway, type GraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { FastifyRequest, RouteHandlerMethod } from "fastify";
import { GraphQLScalarType, type GraphQLSchema } from "graphql";
import { Counter } from "prom-client";
import { unauthenticated } from "../lib/errors";
import { applySecurityHeaders, SANDBOX_PAGE_POLICY, webClientPolicy } from "../lib/security-headers";
import { checkDateTimeInput } from "../lib/scalars";
import { describeTokenFailure } from "../platform/sessions";
import { formatErrorFor } from "../framework/error-format";
import { platformReadiness, reachable } from "../platform/health";
import { createHttpServer, listen, whenExchangeEnds, type RunningService } from "../platform/http";
import type { Logger } from "../platform/logger";
import { SessionStore } from "../platform/sessions";
import type { BuiltSubgraph, Platform } from "../framework/subgraph";
import { readSupergraph } from "../framework/supergraph";
import { acceptGraphQLUploads } from "../framework/uploads";
import { UploadSlots } from "../media/upload-slots";
import { Deadline, requestTimeout } from "../platform/deadline";
import { CLIENT_IP_HEADER, EDGE_SECRET_HEADER, secretMatches } from "../platform/headers";
import { authenticate, type Gateway, type GatewayContext } from "./auth";
import { FetchMetrics, SubgraphDataSource } from "./data-source";
import { createGraphQLAgent } from "../framework/graphql-client";
import { LocalSubgraphDataSource } from "./local-data-source";
import { operationMetricsPlugin } from "./operation-metrics";
import { queryCostPlugin } from "./query-cost";
import { createGatewayLimiters, fetchLimitCheck, rateLimitPlugin } from "./request-limits";
import { refuseSubscriptionsOverHttp, serveSubscriptions } from "./subscriptions";
import { serveWebClient } from "./web-client";

/** Where the gateway finds each subgraph: a URL (split mode) or the subgraph itself (co-located). */
export type SubgraphLocations = Record<string, string | BuiltSubgraph>;

export type { Gateway };

/** The gateway without an HTTP server (co-located callers execute operations on `apollo`). */
export async function createGateway(platform: Platform, subgraphs: SubgraphLocations, supergraphSdl = readSupergraph()): Promise<Gateway> {
  const { config, log, metrics } = platform;
  const fetches = new Counter({
    name: "subgraph_fetches_total",
    help: "Requests the gateway sent to each subgraph",
    labelNames: ["subgraph"],
    registers: [metrics.registry],
  });
  const fetchMetrics = new FetchMetrics(fetches, metrics);
  const sessions = new SessionStore(config, platform.kv);
  const agent = createGraphQLAgent(config);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }): GraphQLDataSource => {
      const location = subgraphs[name];
      if (location === undefined) throw new Error(`the supergraph names subgraph "${name}", which this process cannot reach`);
      return typeof location === "string"
        ? new SubgraphDataSource(name, location, config, agent, fetchMetrics)
        : new LocalSubgraphDataSource(location, log, fetchMetrics, config.graphql.maxFetches);
    },
    experimental_didResolveQueryPlan: fetchLimitCheck(config.graphql.maxFetches),
  });
  // The supergraph's DateTime is an opaque scalar to the gateway: give it the subgraphs' rules so a
  // malformed one is refused with BAD_USER_INPUT before any planning.
  let publicSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => {
    publicSchema = apiSchema;
    const dateTime = apiSchema.getType("DateTime");
    if (dateTime instanceof GraphQLScalarType) checkDateTimeInput(dateTime);
  });
  // Depth and aliases as validation rules (HTTP 400); size and cost are measured by queryCostPlugin,
  // which knows variables and defaults; the token limit is the parser's own (a syntax error, 400).
  const armor = new ApolloArmor({
    maxDepth: { n: config.graphql.maxDepth },
    maxAliases: { n: config.graphql.maxAliases },
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    maxDirectives: { n: 20 },
    blockFieldSuggestion: { enabled: config.production },
  }).protect();
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    ...armor,
    parseOptions: { maxTokens: config.graphql.maxTokens },
    introspection: config.graphql.sandbox,
    plugins: [
      ...armor.plugins,
      queryCostPlugin({
        maxCost: config.graphql.maxCost,
        maxItems: config.graphql.maxItems,
        listDefault: config.limits.listDefault,
        listMax: config.limits.listMax,
      }),
      rateLimitPlugin(createGatewayLimiters(config, platform.limits)),
      operationMetricsPlugin(metrics),
      refuseSubscriptionsOverHttp(),
      config.graphql.sandbox
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageDisabled(),
    ],
    formatError: formatErrorFor(log),
    // The process owns shutdown (runAsProcess); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  return {
    apollo,
    sessions,
    apiSchema: publicSchema!,
    context: async ({ authorization, requestId, log: requestLog, clientIp, deadline }) => ({
      viewer: await authenticate(sessions, authorization),
      requestId,
      log: requestLog,
      clientIp,
      deadline,
      fetches: 0,
    }),
    close: async () => {
      await apollo.stop();
      await agent.close();
    },
  };
}

/**
 * The address rate limits count for a request: the one an edge (the REST adapter) names, when
 * it proves with the edge secret that it is one; otherwise the address the request came from.
 * (The internal secret does not do: it is the gateway's own, for the subgraphs.)
 */
function clientAddress(request: FastifyRequest, edgeSecret: string): string {
  const named = request.headers[CLIENT_IP_HEADER];
  if (typeof named !== "string") return request.ip;
  if (secretMatches(request.headers[EDGE_SECRET_HEADER], edgeSecret)) return named;
  request.log.info({ ip: request.ip, named }, "ignored x-client-ip sent without the edge secret; counting the request's own address");
  return request.ip;
}

/** The gateway on its HTTP port: POST /graphql (GET for Sandbox), uploads streamed on to the video subgraph. */
export async function startGateway(
  platform: Platform,
  subgraphs: SubgraphLocations,
  port = platform.config.ports.gateway,
): Promise<RunningService & { gateway: Gateway }> {
  const { config, log, metrics } = platform;
  const gateway = await createGateway(platform, subgraphs);
  try {
    const app = createHttpServer({
      config,
      log,
      metrics,
      // Ready when Redis (sessions) answers and every subgraph in this process is ready; subgraphs
      // over HTTP are reported, not required (one down leaves the others' fields answering).
      readiness: () => ({
        ...platformReadiness(platform),
        ...Object.assign({}, ...Object.values(subgraphs).map((location) => (typeof location === "string" ? {} : location.readiness()))),
      }),
      dependencies: () =>
        Object.fromEntries(
          Object.entries(subgraphs)
            .filter((entry): entry is [string, string] => typeof entry[1] === "string")
            .map(([name, url]) => [name, () => reachable(url)]),
        ),
    });
    // The web client's CSP on every answer; Sandbox's landing page (GET /graphql) has none, see security-headers.ts.
    const webClient = webClientPolicy(new URL(config.storage.publicBaseUrl).origin);
    applySecurityHeaders(app.server, (request) =>
      config.graphql.sandbox && request.method === "GET" && request.url?.split("?")[0] === "/graphql" ? SANDBOX_PAGE_POLICY : webClient,
    );
    // Subscriptions: WebSocket upgrades of GET /graphql (gateway/subscriptions.ts).
    const live = await serveSubscriptions(app, gateway, platform);
    const uploads = new UploadSlots({ perUser: config.media.uploadsPerUser, perAddress: config.media.uploadsPerAddress });
    const graphqlRoute = {
      url: "/graphql",
      // publishVideo: files arrive as GraphQL multipart requests and stream on to the video subgraph.
      // Only a signed-in caller with a free upload slot may send a file, checked before the body is read.
      preValidation: acceptGraphQLUploads(app, config.media.maxUploadBytes, {
        check: async (request, reply) => {
          const viewer = await authenticate(gateway.sessions, request.headers.authorization);
          if (!viewer.signedIn) return unauthenticated(describeTokenFailure(viewer.tokenFailure));
          const slot = uploads.take(viewer.signedIn.userId, clientAddress(request, config.auth.edgeSecret));
          if ("refusal" in slot) return slot.refusal;
          whenExchangeEnds(reply, slot.release);
          return undefined;
        },
        drainBytes: config.media.refusedBodyDrainBytes,
        metrics,
      }),
      handler: fastifyApolloHandler(gateway.apollo, {
        context: (request, reply) => {
          const deadline = new Deadline(requestTimeout(config, request.headers["content-type"]));
          // The caller hung up before the answer: stop its work at the next fetch or resolver.
          reply.raw.once("close", () => {
            if (!reply.raw.writableFinished) deadline.abort();
          });
          return gateway.context({
            authorization: request.headers.authorization,
            requestId: request.id,
            log: request.log as Logger,
            clientIp: clientAddress(request, config.auth.edgeSecret),
            deadline,
          });
        },
      }) as RouteHandlerMethod,
    };
    app.route({ ...graphqlRoute, method: ["POST", "OPTIONS"] });
    app.route({ ...graphqlRoute, method: "GET", wsHandler: live.wsHandler });
    serveWebClient(app, log);
    const listening = await listen(app, config.host, port);
    log.info({ port: listening.port, sandbox: config.graphql.sandbox }, `gateway listening on ${listening.baseUrl}/graphql`);
    return {
      name: "gateway",
      url: `${listening.baseUrl}/graphql`,
      port: listening.port,
      gateway,
      close: async () => {
        // Stop taking requests and let in-flight ones finish (live connections are told to go), then stop Apollo.
        await app.close();
        await live.close();
        await gateway.close();
      },
    };
  } catch (error) {
    await gateway.close();
    throw error;
  }
}
