// Likes and comments: each writes its row synchronously (so the caller reads it at once and a
// repeat changes nothing), invalidates what it cached, and enqueues a counter event only when
// a row really changed.
import type { Queue } from "bullmq";
import type { Config } from "../../common/config";
import { forbidden, notFound } from "../../common/errors";
import type { IdGenerator } from "../../common/ids";
import { checkText } from "../../common/text";
import type { SensitiveWordFilter } from "../../common/text-filter";
import { VideoCaches } from "./cache";
import type { CommentRecord, CounterChange, VideoData, VideoRecord } from "./data";
import type { CounterJob } from "./queues";

export class Interactions {
  constructor(
    private readonly videos: VideoData,
    private readonly caches: VideoCaches,
    private readonly counters: Queue<CounterJob>,
    private readonly ids: IdGenerator,
    private readonly words: SensitiveWordFilter,
    private readonly config: Pick<Config, "limits">,
  ) {}

  /** A video that exists and is not deleted, through the cache. */
  async requireVideo(videoId: number): Promise<VideoRecord> {
    const [video] = await this.caches.videos.loadMany([videoId], (ids) => this.videos.findVideos(ids));
    if (!video) throw notFound(`video ${videoId} not found`);
    return video;
  }

  private async count(kind: string, changes: CounterChange[]): Promise<void> {
    const eventId = `${kind}-${this.ids.next()}`;
    await this.counters.add(kind, { eventId, changes }, { jobId: eventId });
  }

  private likeChanges(video: VideoRecord, userId: number, delta: 1 | -1): CounterChange[] {
    return [
      { entity: "video", id: String(video.id), field: "favoriteCount", delta },
      { entity: "user", id: String(userId), field: "favoriteCount", delta },
      { entity: "user", id: String(video.authorId), field: "totalFavorited", delta },
    ];
  }

  async like(userId: number, videoId: number): Promise<void> {
    const video = await this.requireVideo(videoId);
    const changed = await this.videos.insertLike(userId, videoId);
    if (!changed) return;
    await this.caches.invalidateLike(userId, videoId);
    await this.count("like", this.likeChanges(video, userId, 1));
  }

  async unlike(userId: number, videoId: number): Promise<void> {
    const video = await this.requireVideo(videoId);
    const changed = await this.videos.deleteLike(userId, videoId);
    if (!changed) return;
    await this.caches.invalidateLike(userId, videoId);
    await this.count("unlike", this.likeChanges(video, userId, -1));
  }

  async addComment(userId: number, videoId: number, rawContent: string): Promise<CommentRecord> {
    const content = this.words.mask(checkText(rawContent, "comment_text", { max: this.config.limits.comment }));
    await this.requireVideo(videoId);
    const comment = await this.videos.insertComment({ id: this.ids.next(), videoId, userId, content });
    await this.caches.invalidateComments(videoId);
    await this.count("comment", [{ entity: "video", id: String(videoId), field: "commentCount", delta: 1 }]);
    return comment;
  }

  async deleteComment(userId: number, commentId: number): Promise<boolean> {
    const comment = await this.videos.findComment(commentId);
    if (!comment) throw notFound(`comment ${commentId} not found`);
    if (Number(comment.userId) !== userId) throw forbidden("only the comment's author can delete it");
    if (!(await this.videos.softDeleteComment(commentId))) return true;
    const videoId = Number(comment.videoId);
    await this.caches.invalidateComments(videoId);
    await this.count("uncomment", [{ entity: "video", id: String(videoId), field: "commentCount", delta: -1 }]);
    return true;
  }
}
