// Starts the user subgraph: accounts in its own database, sessions in Redis.
import type { Config } from "../../common/config";
import { USER_REGISTERED_QUEUE, type UserRegisteredEvent } from "../../common/events";
import { IdGenerator } from "../../common/ids";
import { createQueue } from "../../common/queues";
import { runAsProcess } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { startSubgraph, type SubgraphDefinition } from "../../common/subgraph-service";
import { SessionStore } from "../../common/tokens";
import { PrismaClient } from "../../generated/prisma/user/client";
import type { UserContext } from "./context";
import { UserData } from "./data";
import { createLoaders } from "./loaders";
import { resolvers } from "./resolvers";

export const userSubgraph: SubgraphDefinition<PrismaClient, UserContext> = {
  name: "user",
  createClient: (adapter) => new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] }),
  async setup({ config, prisma, redis, resources }) {
    const userEvents = resources.add("user events", createQueue<UserRegisteredEvent>(config, redis, USER_REGISTERED_QUEUE), (q) => q.close());
    const users = new UserData(prisma, new SessionStore(config, redis), new IdGenerator(config.idWorkerId), config, userEvents);
    return { resolvers, createContext: (scope) => ({ ...scope, users, loaders: createLoaders(users), limits: config.limits }) };
  },
};

export const startUserSubgraph = (config: Config, log: Logger, port = config.ports.user) =>
  startSubgraph(userSubgraph, config, log, port);

if (require.main === module) runAsProcess("user", (config, log) => startUserSubgraph(config, log));
