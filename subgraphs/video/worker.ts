// The video subgraph's BullMQ workers: the media worker (probe, cover, row, counter event) and
// the counter worker (applies counter events exactly once). They run inside the subgraph's
// process by default (required with an embedded database) or alone: `node dist/subgraphs/video/worker.js`.
import { UnrecoverableError, type Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../../common/config";
import { runAsProcess, Resources } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { createCounterWorker, createQueue, createWorker, schedulePruning } from "../../common/queues";
import { connectRedis } from "../../common/redis";
import { openSubgraphDatabase } from "../../common/subgraph-database";
import { MediaRejectedError, processUploadedVideo } from "../../media/pipeline";
import { configureMediaBinaries } from "../../media/probe";
import { MediaStorage } from "../../media/storage";
import { PrismaClient } from "../../generated/prisma/video/client";
import { VideoData } from "./data";
import { REJECTED_PREFIX } from "./publish";
import { CACHE_QUEUE, COUNTER_QUEUE, jobIdFor, MEDIA_QUEUE, type CacheJob, type CounterJob, type MediaJob } from "./queues";
import { VideoCaches } from "./cache";
import { deleteKeys } from "../../common/cache";

export interface VideoWorkerParts {
  config: Config;
  /** The counter queue the media worker publishes to (the caller's, shared with its writers). */
  counters: Queue<CounterJob>;
  caches: VideoCaches;
  log: Logger;
  videos: VideoData;
  storage: MediaStorage;
  /** A connection from connectRedis(..., { forWorkers: true }). */
  connection: Redis;
  resources: Resources;
}

export function startVideoWorkers({ config, log, videos, storage, connection, resources, caches, counters }: VideoWorkerParts): void {
  configureMediaBinaries(config);
  void schedulePruning(counters, config).catch((error) => log.error({ err: error }, "could not schedule counter-event pruning"));

  const media = createWorker<MediaJob>(
    config,
    connection,
    MEDIA_QUEUE,
    async (job) => {
      const { videoId, authorId, title } = job.data;
      let processed;
      try {
        processed = await processUploadedVideo(storage, config, videoId);
      } catch (error) {
        if (error instanceof MediaRejectedError) {
          log.info({ videoId, reason: error.message }, "upload rejected");
          throw new UnrecoverableError(`${REJECTED_PREFIX}${error.message}`);
        }
        throw error;
      }
      // Both steps are idempotent, so a job retried after a crash between them is harmless.
      await videos.insertVideo({ id: videoId, authorId, title, ...processed });
      const eventId = `publish:${videoId}`;
      await counters.add("publish", { eventId, changes: [{ entity: "user", id: String(authorId), field: "workCount", delta: 1 }] }, { jobId: jobIdFor(eventId) });
      log.info({ videoId, authorId, durationMs: processed.durationMs }, "video published");
      return { videoId };
    },
    log,
    { concurrency: config.media.workerConcurrency },
  );
  resources.add("media worker", media, (w) => w.close());

  const counter = createCounterWorker<CounterJob>(
    config,
    connection,
    COUNTER_QUEUE,
    async (event) => {
      const applied = await videos.applyCounterEvent(event);
      // Counts are cached with their video: drop those entries once the new counts are committed.
      const videoIds = event.changes.filter((change) => change.entity === "video").map((change) => Number(change.id));
      if (applied && videoIds.length > 0) await caches.invalidateVideos(videoIds);
      return applied;
    },
    (appliedBefore) => videos.pruneCounterEvents(appliedBefore),
    log,
  );
  resources.add("counter worker", counter, (w) => w.close());

  const cache = createWorker<CacheJob>(config, connection, CACHE_QUEUE, (job) => deleteKeys(connection, job.data.keys, log), log);
  resources.add("cache worker", cache, (w) => w.close());
}

/** Runs the workers as a process of their own (with a PostgreSQL database). */
async function startStandaloneWorkers(config: Config, log: Logger) {
  const resources = new Resources();
  try {
    const database = resources.add("database", await openSubgraphDatabase(config, "video", log), (d) => d.close());
    const prisma = resources.add("prisma", new PrismaClient({ adapter: database.adapter }), (p) => p.$disconnect());
    const connection = resources.add("redis", await connectRedis(config, { forWorkers: true, name: "video-workers" }), (r) => r.quit());
    const storage = new MediaStorage(config);
    await storage.ensureBucket();
    const cacheQueue = resources.add("cache queue", createQueue<CacheJob>(config, connection, CACHE_QUEUE), (q) => q.close());
    const caches = new VideoCaches(connection, config, cacheQueue, log);
    const counters = resources.add("counter queue", createQueue<CounterJob>(config, connection, COUNTER_QUEUE), (q) => q.close());
    startVideoWorkers({ config, log, videos: new VideoData(prisma), storage, connection, resources, caches, counters });
    log.info("video workers running");
    return { close: () => resources.closeAll(log) };
  } catch (error) {
    await resources.closeAll(log);
    throw error;
  }
}

if (require.main === module) runAsProcess("video-workers", startStandaloneWorkers);
