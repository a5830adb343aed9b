// The video subgraph's Redis caches: video rows (with their counts), whether a user likes a
// video, and each video's first comment page. Writers invalidate after their commit; a
// delayed BullMQ job deletes the same keys again (see common/cache.ts).
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { ReadThroughCache } from "../../common/cache";
import type { Config } from "../../common/config";
import type { Logger } from "../../common/logger";
import type { CommentConnectionRecord, VideoRecord } from "./data";
import type { CacheJob } from "./queues";

export class VideoCaches {
  readonly videos: ReadThroughCache<number, VideoRecord>;
  readonly likes: ReadThroughCache<string, boolean>;
  readonly firstCommentPages: ReadThroughCache<number, CommentConnectionRecord>;

  constructor(
    redis: Redis,
    private readonly config: Pick<Config, "redis" | "cache">,
    private readonly secondDeletes: Queue<CacheJob>,
    private readonly log: Logger,
  ) {
    this.videos = new ReadThroughCache(redis, config, "video", log);
    this.likes = new ReadThroughCache(redis, config, "like", log);
    this.firstCommentPages = new ReadThroughCache(redis, config, "comments-first-page", log);
  }

  static likeKey(userId: number, videoId: number): string {
    return `${userId}-${videoId}`;
  }

  private async again(keys: string[]): Promise<void> {
    try {
      await this.secondDeletes.add("delete", { keys }, { delay: this.config.cache.secondDeleteMs });
    } catch (error) {
      this.log.error({ err: error, keys }, "could not schedule the second cache delete");
    }
  }

  async invalidateVideos(videoIds: number[]): Promise<void> {
    await this.again(await this.videos.invalidate(videoIds));
  }

  async invalidateLike(userId: number, videoId: number): Promise<void> {
    await this.again(await this.likes.invalidate([VideoCaches.likeKey(userId, videoId)]));
  }

  async invalidateComments(videoId: number): Promise<void> {
    await this.again(await this.firstCommentPages.invalidate([videoId]));
  }
}
