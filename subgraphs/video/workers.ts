// The video subgraph's queue consumers: the media worker (probe, cover, row, counter event),
// the counter worker (applies counter events exactly once, then drops the cached counts) and
// the delayed second deletes of cache entries.
import { enqueueCounterEvent, workCounterQueue } from "../../platform/counters";
import type { SubgraphDeps } from "../../platform/subgraph";
import { MediaRejectedError, processUploadedVideo } from "../../media/pipeline";
import { configureMediaBinaries } from "../../media/probe";
import { COUNTER_QUEUE, MEDIA_QUEUE, type CounterChange, type MediaJob, type MediaOutcome } from "./jobs";
import type { VideoServiceDeps } from "./service";

export async function startWorkers(deps: SubgraphDeps, shared: VideoServiceDeps): Promise<void> {
  const { config, log, queues } = deps;
  const { store, storage, caches } = shared;
  configureMediaBinaries(config);

  queues.work<MediaJob, MediaOutcome>(
    MEDIA_QUEUE,
    async (job) => {
      const { videoId, authorId, title } = job.data;
      let processed;
      try {
        processed = await processUploadedVideo(storage, config, videoId);
      } catch (error) {
        if (!(error instanceof MediaRejectedError)) throw error;
        log.info({ videoId, reason: error.message }, "upload rejected");
        return { published: false, error: { code: "BAD_USER_INPUT", message: error.message } };
      }
      // Both steps are idempotent, so a job retried after a crash between them is harmless.
      await store.insertVideo({ id: videoId, authorId, title, ...processed });
      // A fixed event id: a retried job cannot count the video twice.
      await enqueueCounterEvent<CounterChange>(queues, COUNTER_QUEUE, "publish", {
        eventId: `publish:${videoId}`,
        changes: [{ entity: "user", id: String(authorId), field: "workCount", delta: 1 }],
      });
      log.info({ videoId, authorId, durationMs: processed.durationMs }, "video published");
      return { published: true };
    },
    { concurrency: config.media.workerConcurrency },
  );

  await workCounterQueue<CounterChange>(
    queues,
    COUNTER_QUEUE,
    { apply: (event) => store.applyCounterEvent(event), prune: (before) => store.pruneCounterEvents(before) },
    config,
    log,
    // Counts are cached with their video: drop those entries once the new counts are committed.
    async (event) => {
      const videoIds = event.changes.filter((change) => change.entity === "video").map((change) => Number(change.id));
      if (videoIds.length > 0) await caches.invalidateVideos(videoIds);
    },
  );

  caches.invalidation.work();
}
