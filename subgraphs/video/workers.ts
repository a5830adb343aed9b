// The video subgraph's background work: the media worker (probe, cover, row) and the counter
// drainer (applies pending counter changes in batches, then drops the cached counts and tells
// the gateways the videos' new counts).
import { videoCountsTopic } from "../../lib/live-events";
import { countPendingChanges, CounterDrainer, listenForCounterWrites } from "../../platform/counters";
import { livePublisher } from "../../platform/live-events";
import type { SubgraphDeps } from "../../platform/subgraph";
import { MediaRejectedError, processUploadedVideo } from "../../media/pipeline";
import { NEWEST } from "./caches";
import { MEDIA_QUEUE, type MediaJob, type MediaOutcome } from "./jobs";
import type { VideoServiceDeps } from "./service";
import type { CounterChange } from "./store";

export function createCounterDrainer(
  deps: SubgraphDeps,
  shared: Pick<VideoServiceDeps, "store" | "caches">,
): CounterDrainer<CounterChange> {
  const { store, caches } = shared;
  const live = livePublisher(deps);
  return new CounterDrainer<CounterChange>(
    "video",
    (limit) => store.drainCounterChanges(limit),
    async ({ rows, changes }) => {
      deps.metrics.counterChangesApplied.inc({ subgraph: "video" }, rows);
      // Drop the cached counts that changed (the videos' rows stay).
      const videoIds = [...new Set(changes.filter((change) => change.entity === "video").map((change) => Number(change.id)))];
      caches.counts.invalidate(videoIds);
      caches.users.invalidate(changes.filter((change) => change.entity === "user").map((change) => Number(change.id)));
      if (videoIds.length === 0) return;
      // The new counts, read after the commit (dropped just above, so loaded afresh; the cache
      // is warm again for the readers that follow), for Subscription.videoCounts.
      try {
        const counts = await caches.counts.loadMany(videoIds);
        videoIds.forEach((videoId, i) => {
          const count = counts[i];
          if (!count) return;
          // Counts may dip below zero for an instant while changes apply out of order; reads show 0.
          live.publish(videoCountsTopic(videoId), {
            videoId: String(videoId),
            favoriteCount: Math.max(0, count.favoriteCount),
            commentCount: Math.max(0, count.commentCount),
          });
        });
      } catch (error) {
        // Applied and committed all the same; live viewers see the change with the next one.
        deps.log.warn({ err: error, videos: videoIds.length }, "could not read the new counts to announce them");
      }
    },
    deps.config,
    deps.log,
  );
}

export function startWorkers(deps: SubgraphDeps, shared: VideoServiceDeps, counters: CounterDrainer<CounterChange>): void {
  const { config, log, queues } = deps;
  const { store, storage, caches } = shared;

  queues.work<MediaJob, MediaOutcome>(
    MEDIA_QUEUE,
    async (job) => {
      const { videoId, authorId, title } = job.data;
      let processed;
      try {
        processed = await processUploadedVideo(storage, config, videoId);
      } catch (error) {
        // Anything else (storage down, a tool that cannot start) is ours: thrown, so the job is retried.
        if (!(error instanceof MediaRejectedError)) throw error;
        log.info({ videoId, reason: error.message }, "upload rejected");
        return { published: false, error: { code: "BAD_USER_INPUT", message: error.message } };
      }
      // Idempotent (a retried job writes nothing twice), and counted in the same statement.
      if (await store.insertVideo({ id: videoId, authorId, title, ...processed })) {
        caches.newest.invalidate([NEWEST]);
        counters.kick();
      }
      log.info({ videoId, authorId, durationMs: processed.durationMs }, "video published");
      return { published: true };
    },
    { concurrency: config.media.workerConcurrency },
  );

  const database = deps.database;
  if (database) deps.metrics.countPending("video", () => countPendingChanges(database));
  listenForCounterWrites(deps.bus, "video", counters);
  counters.start();
  deps.onClose(() => counters.stop());
}
