// Starts the video subgraph: videos, likes, comments and their counters in its own database,
// media in object storage, and (by default) its BullMQ workers in the same process.
import { QueueEvents } from "bullmq";
import type { Config } from "../../common/config";
import { IdGenerator } from "../../common/ids";
import { runAsProcess } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { createQueue, queuePrefix } from "../../common/queues";
import { connectRedis } from "../../common/redis";
import { startSubgraph, type SubgraphDefinition } from "../../common/subgraph-service";
import { SensitiveWordFilter } from "../../common/text-filter";
import { MediaStorage } from "../../media/storage";
import { PrismaClient } from "../../generated/prisma/video/client";
import type { VideoContext } from "./context";
import { VideoData } from "./data";
import { createLoaders } from "./loaders";
import { Publisher } from "./publish";
import { CACHE_QUEUE, COUNTER_QUEUE, MEDIA_QUEUE, type CacheJob, type CounterJob, type MediaJob } from "./queues";
import { VideoCaches } from "./cache";
import { Interactions } from "./interactions";
import { resolvers } from "./resolvers";
import { startVideoWorkers } from "./worker";

export const videoSubgraph: SubgraphDefinition<PrismaClient, VideoContext> = {
  name: "video",
  uploads: (config) => ({ maxFileBytes: config.media.maxUploadBytes }),
  createClient: (adapter) => new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] }),
  async setup({ config, log, prisma, redis, resources }) {
    const videos = new VideoData(prisma);
    const storage = new MediaStorage(config);
    await storage.ensureBucket();
    const workerConnection = resources.add("worker redis", await connectRedis(config, { forWorkers: true, name: "video-workers" }), (r) => r.quit());
    const mediaQueue = resources.add("media queue", createQueue<MediaJob>(config, redis, MEDIA_QUEUE), (q) => q.close());
    const eventsConnection = resources.add("events redis", workerConnection.duplicate(), (r) => r.quit());
    const mediaEvents = resources.add(
      "media events",
      new QueueEvents(MEDIA_QUEUE, { connection: eventsConnection, prefix: queuePrefix(config) }),
      (e) => e.close(),
    );
    await mediaEvents.waitUntilReady();
    const counters = resources.add("counter queue", createQueue<CounterJob>(config, redis, COUNTER_QUEUE), (q) => q.close());
    const cacheQueue = resources.add("cache queue", createQueue<CacheJob>(config, redis, CACHE_QUEUE), (q) => q.close());
    const caches = new VideoCaches(redis, config, cacheQueue, log);
    if (config.workersInProcess || config.databases.video.kind === "embedded") {
      startVideoWorkers({ config, log, videos, storage, connection: workerConnection, resources, caches, counters });
    }
    const ids = new IdGenerator(config.idWorkerId);
    const words = SensitiveWordFilter.fromFile(config.sensitiveWordsFile);
    const interactions = new Interactions(videos, caches, counters, ids, words, config);
    const publisher = new Publisher(config, storage, mediaQueue, mediaEvents, ids, words);
    return {
      resolvers,
      createContext: (scope) => ({
        ...scope,
        videos,
        storage,
        publisher,
        interactions,
        caches,
        limits: config.limits,
        loaders: createLoaders(videos, caches, scope.viewer?.userId ?? null),
      }),
    };
  },
};

export const startVideoSubgraph = (config: Config, log: Logger, port = config.ports.video) =>
  startSubgraph(videoSubgraph, config, log, port);

if (require.main === module) runAsProcess("video", (config, log) => startVideoSubgraph(config, log));
