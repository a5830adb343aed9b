// The video subgraph's background work: the media worker (probe, cover, row) and its counters
// (pending changes applied in batches, then the cached counts dropped and the gateways told the
// videos' new counts).
import { counterKit } from "../../framework/counters";
import type { OutboxKit } from "../../framework/outbox";
import type { SubgraphDeps } from "../../framework/subgraph";
import { videoCountsTopic } from "../../lib/live-events";
import { livePublisher } from "../../platform/live-events";
import { createFairShare } from "../../platform/fair-share";
import { DeferJobError } from "../../platform/queues";
import { MediaRejectedError, processUploadedVideo } from "../../media/pipeline";
import { logMediaTools } from "../../media/tools";
import { NEWEST, type VideoCaches } from "./caches";
import { MEDIA_QUEUE, type MediaJob, type MediaOutcome } from "./jobs";
import type { VideoServiceDeps } from "./service";
import type { CounterChange, VideoStore } from "./store";

export function videoCounters(deps: SubgraphDeps, store: VideoStore, caches: VideoCaches): OutboxKit {
  const live = livePublisher(deps);
  return counterKit<CounterChange>(
    deps,
    (limit) => store.drainCounterChanges(limit),
    async (changes) => {
      // Drop the cached counts that changed (the videos' rows stay).
      const videoIds = [...new Set(changes.filter((change) => change.entity === "video").map((change) => Number(change.id)))];
      await Promise.all([
        caches.counts.invalidate(videoIds),
        caches.users.invalidate(changes.filter((change) => change.entity === "user").map((change) => Number(change.id))),
      ]);
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
  );
}

/** How long a media job waits when its uploader's share of the workers is in use, before it looks again. */
const FAIR_SHARE_RETRY_MS = 1000;

export function startMediaWorker(deps: SubgraphDeps, shared: VideoServiceDeps): void {
  const { config, log, queues } = deps;
  const { store, storage, caches } = shared;
  logMediaTools(config.media, log);
  // One uploader's files (slow ones, or many) take at most MEDIA_JOBS_PER_USER workers; their
  // other jobs step aside for other users' jobs instead of queueing everyone behind them.
  const uploaders = createFairShare(
    deps.redis,
    config.redis.prefix,
    { name: "media", perOwner: config.media.jobsPerUser, leaseMs: config.queueLockMs },
    log,
  );

  queues.work<MediaJob, MediaOutcome>(
    MEDIA_QUEUE,
    async (job) => {
      const ran = await uploaders.tryRun(String(job.data.authorId), () => publish(job.data));
      if (ran) return ran.value;
      log.info(
        { videoId: job.data.videoId, authorId: job.data.authorId },
        "media job put back: its uploader's other jobs hold their share of the workers",
      );
      throw new DeferJobError("the uploader's share of the media workers is in use", FAIR_SHARE_RETRY_MS);
    },
    { concurrency: config.media.workerConcurrency },
  );

  async function publish({ videoId, authorId, title }: MediaJob): Promise<MediaOutcome> {
    let processed;
    try {
      processed = await processUploadedVideo(storage, config, videoId);
    } catch (error) {
      // Anything else (storage down, a tool that cannot start) is ours: thrown, so the job is retried.
      if (!(error instanceof MediaRejectedError)) throw error;
      log.info({ videoId, reason: error.message, toolOutput: error.toolOutput }, "upload rejected");
      return { published: false, error: { code: "BAD_USER_INPUT", message: error.message } };
    }
    // Idempotent (a retried job writes nothing twice), and counted in the same statement.
    if (await store.insertVideo({ id: videoId, authorId, title, ...processed })) {
      const dropped = caches.newest.invalidate([NEWEST]);
      shared.countersWritten();
      // The publish is answered when this job completes: by then every replica's feed has it.
      await dropped;
    }
    log.info({ videoId, authorId, durationMs: processed.durationMs }, "video published");
    return { published: true };
  }
}
