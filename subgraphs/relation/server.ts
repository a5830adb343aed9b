// Starts the relation subgraph: follows, friends and messages in its own database, and its
// BullMQ workers in the same process.
import type { Config } from "../../common/config";
import { USER_REGISTERED_QUEUE, type UserRegisteredEvent } from "../../common/events";
import { IdGenerator } from "../../common/ids";
import { runAsProcess } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { createQueue, schedulePruning } from "../../common/queues";
import { connectRedis } from "../../common/redis";
import { startSubgraph, type SubgraphDefinition } from "../../common/subgraph-service";
import { SensitiveWordFilter } from "../../common/text-filter";
import { PrismaClient } from "../../generated/prisma/relation/client";
import type { RelationContext } from "./context";
import { RelationData } from "./data";
import { MessageData } from "./messages";
import { createLoaders } from "./loaders";
import { COUNTER_QUEUE, type CounterJob } from "./queues";
import { resolvers } from "./resolvers";
import { startRelationWorkers } from "./worker";

export const relationSubgraph: SubgraphDefinition<PrismaClient, RelationContext> = {
  name: "relation",
  createClient: (adapter) => new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] }),
  async setup({ config, log, prisma, redis, resources }) {
    const counters = resources.add("counter queue", createQueue<CounterJob>(config, redis, COUNTER_QUEUE), (q) => q.close());
    await schedulePruning(counters, config);
    const userEvents = resources.add("user events", createQueue<UserRegisteredEvent>(config, redis, USER_REGISTERED_QUEUE), (q) => q.close());
    const ids = new IdGenerator(config.idWorkerId);
    const relations = new RelationData(prisma, ids, counters, userEvents);
    const messages = new MessageData(
      prisma,
      redis,
      config,
      ids,
      SensitiveWordFilter.fromFile(config.sensitiveWordsFile),
      (userId) => relations.userExists(userId),
      log,
    );
    const connection = resources.add("worker redis", await connectRedis(config, { forWorkers: true, name: "relation-workers" }), (r) => r.quit());
    startRelationWorkers({ config, log, relations, connection, resources });
    return {
      resolvers,
      createContext: (scope) => ({
        ...scope,
        relations,
        messages,
        limits: config.limits,
        loaders: createLoaders(relations, messages, scope.viewer?.userId ?? null),
      }),
    };
  },
};

export const startRelationSubgraph = (config: Config, log: Logger, port = config.ports.relation) =>
  startSubgraph(relationSubgraph, config, log, port);

if (require.main === module) runAsProcess("relation", (config, log) => startRelationSubgraph(config, log));
