// The video subgraph's BullMQ queues and the shapes of their jobs.
import type { CounterEvent } from "./data";

export const MEDIA_QUEUE = "video-media";
export const COUNTER_QUEUE = "video-counters";
/** Delayed second deletes of cache entries (see common/cache.ts). */
export const CACHE_QUEUE = "video-cache";

export interface MediaJob {
  videoId: number;
  authorId: number;
  /** Already checked and passed through the sensitive-word filter. */
  title: string;
}

export type CounterJob = CounterEvent;

export interface CacheJob {
  keys: string[];
}

/** BullMQ job ids may not contain ':'; event ids become job ids, so enqueueing twice is harmless. */
export const jobIdFor = (eventId: string) => eventId.replaceAll(":", "-");
