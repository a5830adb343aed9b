// The start-up every subgraph shares: its own database (migrated when this process owns it), a
// Prisma client whose statements are counted, Redis, and the GraphQL server; closed in reverse.
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import type { BaseContext } from "@apollo/server";
import type { Redis } from "ioredis";
import type { Config, SubgraphName } from "./config";
import type { Database } from "./database";
import { loadSubgraphSdl, Resources } from "./lifecycle";
import type { Logger } from "./logger";
import { Metrics } from "./metrics";
import { connectRedis } from "./redis";
import { openSubgraphDatabase } from "./subgraph-database";
import { startSubgraphServer, type RequestScope, type RunningService } from "./subgraph-host";

/** The part of a generated Prisma client this module relies on. */
interface PrismaLike {
  $on(event: "query", listener: () => void): void;
  $disconnect(): Promise<void>;
}

export interface SubgraphParts<Client> {
  config: Config;
  log: Logger;
  prisma: Client;
  redis: Redis;
  metrics: Metrics;
  resources: Resources;
}

export interface SubgraphDefinition<Client, Context extends BaseContext> {
  name: SubgraphName;
  /** Accept file uploads (GraphQL multipart requests) up to this size. */
  uploads?(config: Config): { maxFileBytes: number };
  /** `new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] })` of this subgraph. */
  createClient(adapter: Database["adapter"]): Client;
  setup(parts: SubgraphParts<Client>): Promise<{
    resolvers: unknown;
    createContext(scope: RequestScope): Context;
  }>;
}

export async function startSubgraph<Client, Context extends BaseContext>(
  definition: SubgraphDefinition<Client, Context>,
  config: Config,
  log: Logger,
  port: number,
): Promise<RunningService> {
  const { name } = definition;
  const resources = new Resources();
  try {
    const metrics = new Metrics(name, { defaultMetrics: true });
    const database = resources.add("database", await openSubgraphDatabase(config, name, log), (d) => d.close());
    const prisma = resources.add("prisma", definition.createClient(database.adapter), (p) => (p as PrismaLike).$disconnect());
    (prisma as PrismaLike).$on("query", () => metrics.dbStatements.inc({ database: name }));
    const redis = resources.add("redis", await connectRedis(config, { name: `${name}-subgraph` }), (r) => r.quit());
    const { resolvers, createContext } = await definition.setup({ config, log, prisma, redis, metrics, resources });
    const server = await startSubgraphServer({
      name,
      config,
      log,
      metrics,
      port,
      schema: buildSubgraphSchema({ typeDefs: loadSubgraphSdl(name), resolvers: resolvers as GraphQLResolverMap<unknown> }),
      createContext,
      uploads: definition.uploads?.(config),
    });
    resources.add("server", server, (s) => s.close());
    return { ...server, close: () => resources.closeAll(log) };
  } catch (error) {
    await resources.closeAll(log);
    throw error;
  }
}
