// Starts the relation subgraph: follows, friends and messages in its own database.
import type { Config } from "../../common/config";
import { runAsProcess } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { startSubgraph, type SubgraphDefinition } from "../../common/subgraph-service";
import { PrismaClient } from "../../generated/prisma/relation/client";
import type { RelationContext } from "./context";
import { RelationData } from "./data";
import { createLoaders } from "./loaders";
import { resolvers } from "./resolvers";

export const relationSubgraph: SubgraphDefinition<PrismaClient, RelationContext> = {
  name: "relation",
  createClient: (adapter) => new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] }),
  async setup({ prisma }) {
    const relations = new RelationData(prisma);
    return {
      resolvers,
      createContext: (scope) => ({ ...scope, relations, loaders: createLoaders(relations, scope.viewer?.userId ?? null) }),
    };
  },
};

export const startRelationSubgraph = (config: Config, log: Logger, port = config.ports.relation) =>
  startSubgraph(relationSubgraph, config, log, port);

if (require.main === module) runAsProcess("relation", (config, log) => startRelationSubgraph(config, log));
