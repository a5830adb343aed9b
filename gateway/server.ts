// Starts the gateway: the composed supergraph behind one /graphql endpoint, with token checks,
// query limits, Apollo Sandbox outside production, and fast keep-alive subgraph fetches.
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { RouteHandlerMethod } from "fastify";
import { Counter } from "prom-client";
import type { Config, SubgraphName } from "../common/config";
import { formatErrorFor } from "../common/errors";
import { acceptGraphQLUploads } from "../common/uploads";
import { createHttpServer, listen } from "../common/http";
import { Resources, runAsProcess } from "../common/lifecycle";
import type { Logger } from "../common/logger";
import { Metrics } from "../common/metrics";
import { connectRedis } from "../common/redis";
import type { RunningService } from "../common/subgraph-host";
import { SessionStore } from "../common/tokens";
import { authenticate } from "./auth";
import type { GatewayContext } from "./context";
import { createSubgraphAgent, SubgraphDataSource } from "./data-source";
import { readSupergraph } from "./supergraph";
import { serveWebClient } from "./web-client";

export async function startGateway(config: Config, log: Logger, port = config.ports.gateway): Promise<RunningService> {
  const resources = new Resources();
  try {
    const metrics = new Metrics("gateway", { defaultMetrics: true });
    const subgraphFetches = new Counter({
      name: "subgraph_fetches_total",
      help: "Requests the gateway sent to each subgraph",
      labelNames: ["subgraph"],
      registers: [metrics.registry],
    });
    const redis = resources.add("redis", await connectRedis(config, { name: "gateway" }), (r) => r.quit());
    const sessions = new SessionStore(config, redis);
    const agent = resources.add("subgraph agent", createSubgraphAgent(config), (a) => a.close());

    const gateway = new ApolloGateway({
      supergraphSdl: readSupergraph(),
      buildService: ({ name }) => {
        const url = config.subgraphUrls[name as SubgraphName];
        if (!url) throw new Error(`supergraph names subgraph "${name}", which has no URL in the configuration`);
        return new SubgraphDataSource(name, url, config, agent, subgraphFetches);
      },
    });
    const armor = new ApolloArmor({
      maxDepth: { n: config.graphql.maxDepth },
      maxAliases: { n: config.graphql.maxAliases },
      costLimit: { maxCost: config.graphql.maxCost },
      maxTokens: { n: config.graphql.maxTokens },
      blockFieldSuggestion: { enabled: config.production },
    }).protect();

    const app = createHttpServer({ config, log, metrics });
    const apollo = new ApolloServer<GatewayContext>({
      gateway,
      ...armor,
      introspection: config.graphql.sandbox,
      plugins: [
        ...armor.plugins,
        config.graphql.sandbox
          ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
          : ApolloServerPluginLandingPageDisabled(),
        fastifyApolloDrainPlugin(app),
      ],
      formatError: formatErrorFor(log),
      // The process owns shutdown (runAsProcess); Apollo's own signal handlers would race it.
      stopOnTerminationSignals: false,
    });
    await apollo.start();
    resources.add("apollo", apollo, (a) => a.stop());

    app.route({
      url: "/graphql",
      method: ["GET", "POST", "OPTIONS"],
      // publishVideo: files arrive as GraphQL multipart requests and stream on to the video subgraph.
      preValidation: acceptGraphQLUploads(app, config.media.maxUploadBytes),
      handler: fastifyApolloHandler(apollo, {
        context: async (request): Promise<GatewayContext> => ({
          auth: await authenticate(sessions, request.headers.authorization),
          requestId: request.id,
          log: request.log as Logger,
        }),
      }) as RouteHandlerMethod,
    });
    serveWebClient(app, log);
    const { port: boundPort, baseUrl } = await listen(app, config.host, port);
    log.info({ port: boundPort, sandbox: config.graphql.sandbox }, `gateway listening on ${baseUrl}/graphql`);
    return { name: "gateway", url: `${baseUrl}/graphql`, port: boundPort, close: () => resources.closeAll(log) };
  } catch (error) {
    await resources.closeAll(log);
    throw error;
  }
}

if (require.main === module) runAsProcess("gateway", (config, log) => startGateway(config, log));
