// The video subgraph's read-through caches: video rows (with their counts), whether a user
// likes a video, and each video's first comment page. Writers invalidate after their commit,
// at once and again a moment later (platform/cache.ts).
import { CacheInvalidation, ReadThroughCache } from "../../platform/cache";
import type { Config } from "../../platform/config";
import type { KeyValueStore } from "../../platform/kv";
import type { Logger } from "../../platform/logger";
import type { Queues } from "../../platform/queues";
import { CACHE_QUEUE } from "./jobs";
import type { CommentConnectionRecord, VideoRecord } from "./store";

export class VideoCaches {
  readonly videos: ReadThroughCache<number, VideoRecord>;
  readonly likes: ReadThroughCache<string, boolean>;
  readonly firstCommentPages: ReadThroughCache<number, CommentConnectionRecord>;
  readonly invalidation: CacheInvalidation;

  constructor(store: KeyValueStore, queues: Queues, config: Pick<Config, "cache">, log: Logger) {
    this.videos = new ReadThroughCache(store, config, "video", log);
    this.likes = new ReadThroughCache(store, config, "like", log);
    this.firstCommentPages = new ReadThroughCache(store, config, "comments-first-page", log);
    this.invalidation = new CacheInvalidation(store, queues, CACHE_QUEUE, config, log);
  }

  static likeKey(userId: number, videoId: number): string {
    return `${userId}-${videoId}`;
  }

  invalidateVideos(videoIds: number[]): Promise<void> {
    return this.invalidation.delete(videoIds.map((id) => this.videos.key(id)));
  }

  invalidateLike(userId: number, videoId: number): Promise<void> {
    return this.invalidation.delete([this.likes.key(VideoCaches.likeKey(userId, videoId))]);
  }

  invalidateComments(videoId: number): Promise<void> {
    return this.invalidation.delete([this.firstCommentPages.key(videoId)]);
  }
}
