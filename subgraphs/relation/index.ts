// The relation subgraph: follows, friends and messages, and the counters they give User.
// Built by the platform (platform/subgraph.ts) from the dependencies it injects.
import { IdGenerator } from "../../lib/ids";
import { SensitiveWordFilter } from "../../lib/text-filter";
import { counterWriteSignal } from "../../platform/counters";
import { livePublisher } from "../../platform/live-events";
import { COUNT_STATEMENTS, defineSubgraph } from "../../platform/subgraph";
import type { SubgraphContext } from "../../platform/viewer";
import { PrismaClient } from "../../generated/prisma/relation/client";
import { noChatCache, RedisChatCache, RelationCaches } from "./caches";
import { createLoaders, type RelationLoaders } from "./loaders";
import { resolvers } from "./resolvers";
import { RelationService, RelationServiceDeps } from "./service";
import { RelationStore } from "./store";
import { createCounterDrainer, startWorkers } from "./workers";

export type RelationContext = SubgraphContext<RelationLoaders, RelationService>;

export const subgraph = defineSubgraph<RelationContext>({
  name: "relation",
  create(deps) {
    const { config, log } = deps;
    const store = new RelationStore(deps.prisma((adapter) => new PrismaClient({ adapter, log: COUNT_STATEMENTS })));
    const caches = new RelationCaches(deps, store, deps.redis ? new RedisChatCache(deps.redis, config, log) : noChatCache);
    const words = SensitiveWordFilter.fromFile(config.sensitiveWordsFile);
    let counters: ReturnType<typeof createCounterDrainer> | undefined;
    const shared = new RelationServiceDeps(
      store,
      caches,
      new IdGenerator(deps.workerId),
      words,
      deps.queues,
      config,
      counterWriteSignal(deps.bus, "relation", () => counters),
      livePublisher(deps),
    );
    return {
      resolvers,
      context: ({ viewer, log: requestLog }) => {
        const loaders = createLoaders(store, caches, viewer.userId);
        return { viewer, log: requestLog, loaders, service: new RelationService(shared, viewer, loaders) };
      },
      startWorkers: () => {
        // Drained where the workers run; writes in this process only wake it up.
        counters = createCounterDrainer(deps, store, caches);
        startWorkers(deps, store, counters);
      },
      settle: async () => counters?.drainAll(),
      warm: async () => ({ followCounters: await caches.counters.warm(() => store.recentCounters(config.localCache.maxEntries)) }),
      reconcile: async () => {
        const followCounts = await store.reconcileFollowCounts();
        caches.counters.invalidateAll();
        return { followCounts };
      },
    };
  },
});
