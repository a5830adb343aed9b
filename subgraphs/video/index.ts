// The video subgraph: videos, likes and comments, and the counters they give User; media in
// object storage. Built by the framework (framework/subgraph.ts) from the dependencies it injects.
import { IdGenerator } from "../../lib/ids";
import { SensitiveWordFilter } from "../../lib/text-filter";
import { COUNT_STATEMENTS, defineSubgraph } from "../../framework/subgraph";
import type { SubgraphContext } from "../../framework/viewer";
import { MediaStorage } from "../../media/storage";
import { PrismaClient } from "../../generated/prisma/video/client";
import { NEWEST, VideoCaches } from "./caches";
import { createLoaders, type VideoLoaders } from "./loaders";
import { resolvers } from "./resolvers";
import { VideoService, VideoServiceDeps } from "./service";
import { VideoStore, type VideoRecord } from "./store";
import { startMediaWorker, videoCounters } from "./workers";

export type VideoContext = SubgraphContext<VideoLoaders, VideoService>;

export const subgraph = defineSubgraph<VideoContext>({
  name: "video",
  workers: ["media", "video counters"],
  objectStorage: true,
  uploads: (config) => ({ maxFileBytes: config.media.maxUploadBytes }),
  create(deps) {
    const { config } = deps;
    const store = new VideoStore(deps.prisma((adapter) => new PrismaClient({ adapter, log: COUNT_STATEMENTS })));
    const storage = new MediaStorage(config);
    const caches = new VideoCaches(deps, store, config);
    const words = SensitiveWordFilter.fromFile(config.sensitiveWordsFile);
    const counters = videoCounters(deps, store, caches);
    const shared = new VideoServiceDeps(
      store,
      caches,
      storage,
      new IdGenerator(deps.workerId),
      words,
      deps.queues,
      deps.kv,
      config,
      counters.written,
      deps.limits("publishes", {
        points: config.rateLimits.publishesPerUserPerHour,
        durationSeconds: 3600,
        describes: "videos published in an hour",
      }),
    );
    return {
      resolvers,
      readiness: { storage: () => storage.check() },
      context: ({ viewer, log: requestLog }) => {
        const loaders = createLoaders(caches, viewer.userId);
        return { viewer, log: requestLog, loaders, service: new VideoService(shared, viewer, loaders, requestLog) };
      },
      startWorkers: () => {
        startMediaWorker(deps, shared);
        counters.start();
      },
      settle: () => counters.settle(),
      warm: async () => {
        const { maxEntries } = config.localCache;
        await caches.newest.load(NEWEST);
        return {
          ...(await (async () => {
            // Counts change; rows do not: the read happens inside the counts' warm-up, which
            // leaves out what a drain changed meanwhile.
            let recent: VideoRecord[] = [];
            const videoCounts = await caches.counts.warm(async () => {
              recent = await store.recentVideos(maxEntries);
              return recent.map((video) => [Number(video.id), { favoriteCount: video.favoriteCount, commentCount: video.commentCount }]);
            });
            return { videoCounts, videos: await caches.videos.warm(async () => recent.map((video) => [Number(video.id), video])) };
          })()),
          userCounters: await caches.users.warm(async () => (await store.recentUserStats(maxEntries)).map((user) => [user.id, user])),
        };
      },
      reconcile: async () => {
        const fixed = await store.reconcile();
        await Promise.all([caches.counts.invalidateAll(), caches.users.invalidateAll()]);
        return fixed;
      },
    };
  },
});
