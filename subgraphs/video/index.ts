// The video subgraph: videos, likes and comments, and the counters they give User; media in
// object storage. Built by the platform (platform/subgraph.ts) from the dependencies it injects.
import { IdGenerator } from "../../lib/ids";
import { SensitiveWordFilter } from "../../lib/text-filter";
import { COUNT_STATEMENTS, defineSubgraph } from "../../platform/subgraph";
import type { SubgraphContext } from "../../platform/viewer";
import { MediaStorage } from "../../media/storage";
import { PrismaClient } from "../../generated/prisma/video/client";
import { VideoCaches } from "./caches";
import { createLoaders, type VideoLoaders } from "./loaders";
import { resolvers } from "./resolvers";
import { VideoService, VideoServiceDeps } from "./service";
import { VideoStore } from "./store";
import { startWorkers } from "./workers";

export type VideoContext = SubgraphContext<VideoLoaders, VideoService>;

export const subgraph = defineSubgraph<VideoContext>({
  name: "video",
  uploads: (config) => ({ maxFileBytes: config.media.maxUploadBytes }),
  create(deps) {
    const { config, log } = deps;
    const store = new VideoStore(deps.prisma((adapter) => new PrismaClient({ adapter, log: COUNT_STATEMENTS })));
    const storage = new MediaStorage(config);
    const caches = new VideoCaches(deps.kv, deps.queues, config, log);
    const words = SensitiveWordFilter.fromFile(config.sensitiveWordsFile);
    const shared = new VideoServiceDeps(store, caches, storage, new IdGenerator(config.idWorkerId), words, deps.queues, config);
    return {
      resolvers,
      context: ({ viewer, log: requestLog }) => {
        const loaders = createLoaders(store, caches, viewer.userId);
        return { viewer, log: requestLog, loaders, service: new VideoService(shared, viewer, loaders, requestLog) };
      },
      startWorkers: () => startWorkers(deps, shared),
      reconcile: async () => {
        const workCount = await store.reconcileWorkCounts();
        const { videos, users } = await store.reconcileInteractionCounts();
        return { workCount, videoCounts: videos, likeCounts: users };
      },
    };
  },
});
