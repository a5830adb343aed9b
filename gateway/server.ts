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
import type { FastifyInstance, RouteHandlerMethod } from "fastify";
import { Counter } from "prom-client";
import { formatErrorFor } from "../platform/error-format";
import { createHttpServer, listen } from "../platform/http";
import type { Logger } from "../platform/logger";
import { SessionStore } from "../platform/sessions";
import type { BuiltSubgraph, Platform } from "../platform/subgraph";
import type { RunningService } from "../platform/subgraph-host";
import { readSupergraph } from "../platform/supergraph";
import { acceptGraphQLUploads } from "../platform/uploads";
import { authenticate, type GatewayContext } from "./auth";
import { createSubgraphAgent, SubgraphDataSource } from "./data-source";
import { LocalSubgraphDataSource } from "./local-data-source";
import { serveWebClient } from "./web-client";

/** Where the gateway finds each subgraph: a URL (split mode) or the subgraph itself (co-located). */
export type SubgraphLocations = Record<string, string | BuiltSubgraph>;

export interface Gateway {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly sessions: SessionStore;
  /** Builds a request's context, as the HTTP route does. */
  context(authorization: string | undefined, requestId: string, log: Logger): Promise<GatewayContext>;
  close(): Promise<void>;
}

/** The gateway without an HTTP server (co-located callers execute operations on `apollo`). */
export async function createGateway(platform: Platform, subgraphs: SubgraphLocations, supergraphSdl = readSupergraph()): Promise<Gateway> {
  const { config, log, metrics } = platform;
  const fetches = new Counter({
    name: "subgraph_fetches_total",
    help: "Requests the gateway sent to each subgraph",
    labelNames: ["subgraph"],
    registers: [metrics.registry],
  });
  const sessions = new SessionStore(config, platform.kv);
  const agent = createSubgraphAgent(config);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }): GraphQLDataSource => {
      const location = subgraphs[name];
      if (location === undefined) throw new Error(`the supergraph names subgraph "${name}", which this process cannot reach`);
      return typeof location === "string"
        ? new SubgraphDataSource(name, location, config, agent, fetches)
        : new LocalSubgraphDataSource(location, log, fetches);
    },
  });
  const armor = new ApolloArmor({
    maxDepth: { n: config.graphql.maxDepth },
    maxAliases: { n: config.graphql.maxAliases },
    costLimit: { maxCost: config.graphql.maxCost },
    maxTokens: { n: config.graphql.maxTokens },
    blockFieldSuggestion: { enabled: config.production },
  }).protect();
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    ...armor,
    introspection: config.graphql.sandbox,
    plugins: [
      ...armor.plugins,
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
    context: async (authorization, requestId, requestLog) => ({
      viewer: await authenticate(sessions, authorization),
      requestId,
      log: requestLog,
    }),
    close: async () => {
      await apollo.stop();
      await agent.close();
    },
  };
}

/** The gateway on its HTTP port: POST /graphql (GET for Sandbox), uploads streamed on to the video subgraph. */
export async function startGateway(
  platform: Platform,
  subgraphs: SubgraphLocations,
  port = platform.config.ports.gateway,
  /** Routes the process adds on this port (the co-located stack's administration). */
  extraRoutes?: (app: FastifyInstance) => void,
): Promise<RunningService & { gateway: Gateway }> {
  const { config, log, metrics } = platform;
  const gateway = await createGateway(platform, subgraphs);
  try {
    const app = createHttpServer({ config, log, metrics });
    app.route({
      url: "/graphql",
      method: ["GET", "POST", "OPTIONS"],
      // publishVideo: files arrive as GraphQL multipart requests and stream on to the video subgraph.
      preValidation: acceptGraphQLUploads(app, config.media.maxUploadBytes),
      handler: fastifyApolloHandler(gateway.apollo, {
        context: (request) => gateway.context(request.headers.authorization, request.id, request.log as Logger),
      }) as RouteHandlerMethod,
    });
    extraRoutes?.(app);
    serveWebClient(app, log);
    const listening = await listen(app, config.host, port);
    log.info({ port: listening.port, sandbox: config.graphql.sandbox }, `gateway listening on ${listening.baseUrl}/graphql`);
    return {
      name: "gateway",
      url: `${listening.baseUrl}/graphql`,
      port: listening.port,
      gateway,
      close: async () => {
        // Stop taking requests and let in-flight ones finish, then stop Apollo.
        await app.close();
        await gateway.close();
      },
    };
  } catch (error) {
    await gateway.close();
    throw error;
  }
}
