// The video subgraph's queues and the shapes of their jobs.
import type { ErrorCode } from "../../lib/errors";
import type { CounterEvent } from "../../platform/counters";

/** Uploaded videos waiting to be probed and given a cover (see workers.ts). */
export const MEDIA_QUEUE = "video-media";
export const COUNTER_QUEUE = "video-counters";
/** Delayed second deletes of cache entries (see platform/cache.ts). */
export const CACHE_QUEUE = "video-cache";

export interface MediaJob {
  videoId: number;
  authorId: number;
  /** Already checked and passed through the sensitive-word filter. */
  title: string;
}

/**
 * How a media job ended, as data: a file the worker refused is an answer for the uploader,
 * not a job failure to retry. Failures of ours (storage down) are thrown and retried.
 */
export type MediaOutcome = { published: true } | { published: false; error: { code: ErrorCode; message: string } };

export const mediaJobId = (videoId: number) => `publish-${videoId}`;

/** Counter columns a counter event may change, by entity. */
export const USER_COUNTER_FIELDS = ["workCount", "favoriteCount", "totalFavorited"] as const;
export const VIDEO_COUNTER_FIELDS = ["favoriteCount", "commentCount"] as const;

export type CounterChange =
  | { entity: "user"; id: string; field: (typeof USER_COUNTER_FIELDS)[number]; delta: number }
  | { entity: "video"; id: string; field: (typeof VIDEO_COUNTER_FIELDS)[number]; delta: number };

export type CounterJob = CounterEvent<CounterChange>;
