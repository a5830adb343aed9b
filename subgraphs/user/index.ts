// The user subgraph: accounts, sessions and the profile fields of User. Built by the platform
// (platform/subgraph.ts) from the dependencies it injects; no process start-up here.
import { IdGenerator } from "../../lib/ids";
import { SessionStore } from "../../platform/sessions";
import { COUNT_STATEMENTS, defineSubgraph } from "../../platform/subgraph";
import type { SubgraphContext } from "../../platform/viewer";
import { PrismaClient } from "../../generated/prisma/user/client";
import { createLoaders, type UserLoaders } from "./loaders";
import { resolvers } from "./resolvers";
import { UserService, UserServiceDeps } from "./service";
import { UserStore, type UserRecord } from "./store";

export type UserContext = SubgraphContext<UserLoaders, UserService>;

export const subgraph = defineSubgraph<UserContext>({
  name: "user",
  create(deps) {
    const store = new UserStore(deps.prisma((adapter) => new PrismaClient({ adapter, log: COUNT_STATEMENTS })));
    const profiles = deps.cache<number, UserRecord>("profiles", async (ids) =>
      (await store.findByIds(ids)).map((user) => user ?? undefined),
    );
    const shared = new UserServiceDeps(
      store,
      new SessionStore(deps.config, deps.kv),
      new IdGenerator(deps.config.idWorkerId),
      deps.queues,
      deps.config,
      profiles,
    );
    return {
      resolvers,
      warm: async () => ({
        profiles: await profiles.warm(async () =>
          (await store.recentUsers(deps.config.localCache.maxEntries)).map((user) => [Number(user.id), user]),
        ),
      }),
      context: ({ viewer, log }) => {
        const loaders = createLoaders(profiles);
        return { viewer, log, loaders, service: new UserService(shared, viewer, loaders) };
      },
    };
  },
});
