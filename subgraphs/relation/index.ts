// The relation subgraph: follows, friends and messages, and the counters they give User.
// Built by the framework (framework/subgraph.ts) from the dependencies it injects.
import { IdGenerator } from "../../lib/ids";
import { SensitiveWordFilter } from "../../lib/text-filter";
import { COUNT_STATEMENTS, defineSubgraph } from "../../framework/subgraph";
import type { SubgraphContext } from "../../framework/viewer";
import { livePublisher } from "../../platform/live-events";
import { PrismaClient } from "../../generated/prisma/relation/client";
import { noChatCache, RedisChatCache, RelationCaches } from "./caches";
import { createLoaders, type RelationLoaders } from "./loaders";
import { resolvers } from "./resolvers";
import { RelationService, RelationServiceDeps } from "./service";
import { RelationStore } from "./store";
import { followCounters, startRegistrationConsumer } from "./workers";

export type RelationContext = SubgraphContext<RelationLoaders, RelationService>;

export const subgraph = defineSubgraph<RelationContext>({
  name: "relation",
  workers: ["user-registered consumer", "follow counters"],
  create(deps) {
    const { config, log } = deps;
    const store = new RelationStore(deps.prisma((adapter) => new PrismaClient({ adapter, log: COUNT_STATEMENTS })));
    const caches = new RelationCaches(deps, store, deps.redis ? new RedisChatCache(deps.redis, config, log) : noChatCache);
    const words = SensitiveWordFilter.fromFile(config.sensitiveWordsFile);
    const counters = followCounters(deps, store, caches);
    const shared = new RelationServiceDeps(
      store,
      caches,
      new IdGenerator(deps.workerId),
      words,
      deps.queues,
      config,
      counters.written,
      livePublisher(deps),
    );
    return {
      resolvers,
      context: ({ viewer, log: requestLog }) => {
        const loaders = createLoaders(store, caches, viewer.userId);
        return { viewer, log: requestLog, loaders, service: new RelationService(shared, viewer, loaders) };
      },
      startWorkers: () => {
        startRegistrationConsumer(deps, store);
        counters.start();
      },
      settle: () => counters.settle(),
      warm: async () => ({ followCounters: await caches.counters.warm(() => store.recentCounters(config.localCache.maxEntries)) }),
      reconcile: async () => {
        const followCounts = await store.reconcileFollowCounts();
        await caches.counters.invalidateAll();
        return { followCounts };
      },
    };
  },
});
