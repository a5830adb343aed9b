// The video subgraph's rules: feed paging, likes and comments (rows written synchronously
// with their counter changes, only when a row really changed; caches invalidated after the
// commit), and publishing (stored, then answered once the media worker has probed it and cut
// its cover; a retry of the same file by the same author answers the first publish).
import fs from "node:fs";
import type { FileUpload } from "graphql-upload-minimal";
import { AppError, badInput, forbidden, notFound } from "../../lib/errors";
import { parseId, requireId, type IdGenerator } from "../../lib/ids";
import { firstPageOf, pageAfter, pageSize, readCursor } from "../../lib/pagination";
import { checkUserText } from "../../lib/text";
import type { SensitiveWordFilter } from "../../lib/text-filter";
import type { Config } from "../../platform/config";
import type { Logger } from "../../platform/logger";
import type { Limiter } from "../../platform/rate-limits";
import { JobFailedError, JobTimeoutError, type Queues } from "../../platform/queues";
import type { KeyValueStore } from "../../platform/kv";
import { receivedFileStream } from "../../framework/uploads";
import { cachedOr } from "../../platform/local-cache";
import type { Viewer } from "../../framework/viewer";
import { then, type MaybePromise } from "../../lib/maybe";
import { videoKey, type MediaStorage } from "../../media/storage";
import { fileTooLarge, spoolToFile } from "../../media/upload";
import { NEWEST, type VideoCaches } from "./caches";
import { MEDIA_QUEUE, mediaJobId, type MediaJob, type MediaOutcome } from "./jobs";
import type { VideoLoaders } from "./loaders";
import {
  feedPage,
  type CommentConnectionRecord,
  type CommentRecord,
  type CounterChange,
  type FeedPageRecord,
  type UserRecord,
  type VideoConnectionRecord,
  type VideoCounts,
  type VideoRecord,
  type VideoStore,
} from "./store";

/** What the service shares across requests (the workers use it too). */
export class VideoServiceDeps {
  constructor(
    readonly store: VideoStore,
    readonly caches: VideoCaches,
    readonly storage: MediaStorage,
    readonly ids: IdGenerator,
    readonly words: SensitiveWordFilter,
    readonly queues: Queues,
    /** Claims of recent publishes (Redis, or memory in the fast tests). */
    readonly kv: KeyValueStore,
    readonly config: Pick<Config, "limits" | "media" | "localCache">,
    /** Tells the counter drainer (when this process runs one) that changes were just written. */
    readonly countersWritten: () => void,
    /** Publishes per user (RATE_LIMIT_PUBLISHES_PER_USER_PER_HOUR), shared by every process. */
    readonly publishes: Limiter,
  ) {}

  /** A video that exists and is not deleted, through the cache. */
  async requireVideo(videoId: number): Promise<VideoRecord> {
    const video = await this.caches.videos.load(videoId);
    if (!video) throw notFound(`video ${videoId} not found`);
    return video;
  }
}

const likeChanges = (video: VideoRecord, userId: number, delta: 1 | -1): CounterChange[] => [
  { entity: "video", id: String(video.id), field: "favoriteCount", delta },
  { entity: "user", id: String(userId), field: "favoriteCount", delta },
  { entity: "user", id: String(video.authorId), field: "totalFavorited", delta },
];

/** The rules as one request sees them (its viewer, its loaders, its log). */
export class VideoService {
  constructor(
    private readonly deps: VideoServiceDeps,
    private readonly viewer: Viewer,
    private readonly loaders: VideoLoaders,
    private readonly log: Logger,
  ) {}

  /**
   * Videos created strictly before `latestTime` (default now), newest first. Pages among the
   * newest videos come from memory (their rows, counts and likes from the caches); older pages
   * from one joined statement that primes every loader.
   */
  async feed(latestTime: Date | null | undefined, limit: number | null | undefined): Promise<FeedPageRecord> {
    const size = pageSize(limit, this.deps.config.limits);
    const before = latestTime ?? new Date();
    const { caches, store, config } = this.deps;
    const newest = (await caches.newest.load(NEWEST))!;
    const start = newest.findIndex((entry) => entry.createdAt < before);
    // Served from memory when the page and the one video beyond it are all among the newest, or
    // when the newest are all there is.
    if (start >= 0 && (start + size + 1 <= newest.length || newest.length < config.localCache.feedSize)) {
      const entries = feedPage(newest.slice(start, start + size + 1), size, (entry) => entry.createdAt);
      const videos = await this.loaders.videoById.loadMany(entries.map((entry) => entry.id));
      const found = videos.filter((video): video is VideoRecord => video !== null && !(video instanceof Error));
      return { videos: found, nextTime: entries.at(-1)?.createdAt ?? null };
    }
    if (start < 0 && newest.length < config.localCache.feedSize) return { videos: [], nextTime: null };
    const { rows, nextTime } = await store.feed(before, size, this.viewer.userId);
    this.loaders.primeFeedRows(rows);
    return { videos: rows.map((row) => row.video), nextTime };
  }

  video(id: string): Promise<VideoRecord | null> {
    return this.loaders.videoById.load(requireId(id, "video"));
  }

  /** An entity reference from another subgraph: null for an id that cannot exist. */
  videoReference(id: unknown): MaybePromise<VideoRecord | null> {
    const videoId = parseId(id);
    return videoId === undefined ? null : cachedOr(this.deps.caches.videos, videoId, (key) => this.loaders.videoById.load(key));
  }

  userReference(id: unknown): MaybePromise<UserRecord | null> {
    const userId = parseId(id);
    return userId === undefined ? null : this.user(userId);
  }

  user(userId: number | bigint): MaybePromise<UserRecord> {
    return cachedOr(this.deps.caches.users, Number(userId), (key) => this.loaders.userById.load(key));
  }

  /** Its like and comment counts (which may dip below zero for a moment while changes apply out of order). */
  counts(video: VideoRecord): MaybePromise<VideoCounts> {
    return then(
      cachedOr(this.deps.caches.counts, Number(video.id), (key) => this.loaders.countsOf.load(key)),
      (counts) => ({
        favoriteCount: Math.max(0, counts.favoriteCount),
        commentCount: Math.max(0, counts.commentCount),
      }),
    );
  }

  isFavorite(video: VideoRecord): MaybePromise<boolean> {
    const viewerId = this.viewer.userId;
    if (viewerId === null) return false;
    const liked = this.deps.caches.likedBy.get(viewerId);
    return liked ? liked.has(Number(video.id)) : this.loaders.isFavorite.load(Number(video.id));
  }

  playUrl(video: VideoRecord): string {
    return this.deps.storage.publicUrl(video.playKey);
  }

  coverUrl(video: VideoRecord): string {
    return this.deps.storage.publicUrl(video.coverKey);
  }

  videosOf(user: UserRecord, first: number | null | undefined, after: string | null | undefined): Promise<VideoConnectionRecord> {
    return this.deps.store.videosByAuthor(user.id, pageSize(first, this.deps.config.limits), readCursor(after));
  }

  likedVideosOf(user: UserRecord, first: number | null | undefined, after: string | null | undefined): Promise<VideoConnectionRecord> {
    return this.deps.store.likedVideos(user.id, pageSize(first, this.deps.config.limits), readCursor(after));
  }

  /**
   * A video's comments, newest first; first pages (what apps open) come from a cached page of the
   * largest size, later pages (legacy lists read whole) from the video's cached whole list.
   */
  async comments(video: VideoRecord, first: number | null | undefined, after: string | null | undefined): Promise<CommentConnectionRecord> {
    const { limits } = this.deps.config;
    const size = pageSize(first, limits);
    const cursor = readCursor(after);
    const videoId = Number(video.id);
    if (!cursor) {
      const page = await this.deps.caches.firstCommentPages.load(videoId);
      if (page) return firstPageOf(page, size, (comment) => comment);
      return this.deps.store.comments(videoId, size, cursor);
    }
    const list = await this.deps.caches.commentLists.load(videoId);
    return (list && pageAfter(list, cursor, size, (comment) => comment)) ?? this.deps.store.comments(videoId, size, cursor);
  }

  async likeVideo(videoId: string): Promise<VideoRecord> {
    const id = requireId(videoId, "video");
    const userId = this.viewer.require().userId;
    const video = await this.deps.requireVideo(id);
    if (await this.deps.store.insertLike(userId, id, likeChanges(video, userId, 1))) await this.likesChanged(userId);
    return video;
  }

  async unlikeVideo(videoId: string): Promise<VideoRecord> {
    const id = requireId(videoId, "video");
    const userId = this.viewer.require().userId;
    const video = await this.deps.requireVideo(id);
    if (await this.deps.store.deleteLike(userId, id, likeChanges(video, userId, -1))) await this.likesChanged(userId);
    return video;
  }

  /**
   * After a like or unlike committed: what the viewer likes is cached (answered only once every
   * replica dropped it), and a counter changed.
   */
  private async likesChanged(userId: number): Promise<void> {
    const dropped = this.deps.caches.likedBy.invalidate([userId]);
    this.loaders.isFavorite.clearAll();
    this.deps.countersWritten();
    await dropped;
  }

  async addComment(videoId: string, rawContent: string): Promise<CommentRecord> {
    const userId = this.viewer.require().userId;
    const id = requireId(videoId, "video");
    const { words, config, store, ids } = this.deps;
    const content = words.mask(checkUserText(rawContent, "comment_text", { max: config.limits.comment }));
    await this.deps.requireVideo(id);
    const comment = await store.insertComment({ id: ids.next(), videoId: id, userId, content }, [
      { entity: "video", id: String(id), field: "commentCount", delta: 1 },
    ]);
    const dropped = this.commentsChanged(id);
    this.deps.countersWritten();
    await dropped;
    return comment;
  }

  async deleteComment(commentId: string): Promise<boolean> {
    const userId = this.viewer.require().userId;
    const id = requireId(commentId, "comment");
    const comment = await this.deps.store.findComment(id);
    if (!comment) throw notFound(`comment ${id} not found`);
    if (Number(comment.userId) !== userId) throw forbidden("only the comment's author can delete it");
    const videoId = Number(comment.videoId);
    if (!(await this.deps.store.softDeleteComment(id, [{ entity: "video", id: String(videoId), field: "commentCount", delta: -1 }])))
      return true;
    const dropped = this.commentsChanged(videoId);
    this.deps.countersWritten();
    await dropped;
    return true;
  }

  /** After a comment was added or deleted: both cached forms of its video's list are dropped in every process. */
  private commentsChanged(videoId: number): Promise<unknown> {
    const { firstCommentPages, commentLists } = this.deps.caches;
    return Promise.all([firstCommentPages.invalidate([videoId]), commentLists.invalidate([videoId])]);
  }

  /**
   * Receives the upload onto disk (size-limited while it streams, hashed), stores it, and waits
   * for the media worker; answers with the video once it has its cover. The same file from the
   * same author within PUBLISH_DEDUPE_WINDOW_SECONDS is the same publish (a client retrying one
   * that outlived its wait): it answers the first one's video, or its rejection, whatever the
   * title; only a failure of ours lets a retry start afresh.
   */
  async publishVideo(upload: Promise<FileUpload>, rawTitle: string): Promise<VideoRecord> {
    const authorId = this.viewer.require().userId;
    const { config, words, ids, storage, queues, kv, caches, publishes } = this.deps;
    let file: FileUpload;
    try {
      file = await upload;
    } catch (error) {
      throw badInput(`the video file could not be read: ${(error as Error).message}`);
    }
    const stream = receivedFileStream(file, () => fileTooLarge(config.media.maxUploadBytes));
    let title: string;
    try {
      title = words.mask(checkUserText(rawTitle, "title", { max: config.limits.title }));
      // Counted before the file is received: a publish holds the media workers for a while.
      await publishes.consume(String(authorId));
    } catch (error) {
      stream.resume(); // drain the unread file so the request can finish
      throw error;
    }
    const spooled = await spoolToFile(stream, { dir: config.media.tmpDir, maxBytes: config.media.maxUploadBytes });
    const queue = queues.queue<MediaJob, MediaOutcome>(MEDIA_QUEUE);
    const claim = publishClaimKey(authorId, spooled.sha256);
    let videoId = ids.next();
    let stored = false;
    let outcome: MediaOutcome;
    try {
      try {
        const held = await kv.claim(claim, String(videoId), config.media.publishDedupeWindowSeconds);
        if (held !== null) {
          videoId = Number(held);
          const earlier = await caches.videos.load(videoId);
          if (earlier) {
            this.log.info({ videoId }, "the same file again from its author: answering the video it published");
            return earlier;
          }
          this.log.info({ videoId }, "the same file again from its author while its first publish runs: waiting for it");
        }
        // A repeat stores the file too when the first attempt's job is not there (not added yet,
        // or forgotten): whichever request adds the job, the worker must find the file.
        if (held === null || !(await queue.has(mediaJobId(videoId)))) {
          await storage.putFile(videoKey(videoId), spooled.file, /^video\//.test(file.mimetype) ? file.mimetype : "video/mp4");
          stored = true;
        }
      } finally {
        await fs.promises.rm(spooled.file, { force: true });
      }
      this.log.info({ videoId, size: spooled.size }, "video stored, waiting for the media worker");
      outcome = await queue.addAndWait(
        "publish",
        { videoId, authorId, title },
        { jobId: mediaJobId(videoId), timeoutMs: config.media.publishTimeoutMs },
      );
    } catch (error) {
      // Still running: the claim stays, so a retry waits for this same job.
      if (error instanceof JobTimeoutError) {
        // UNAVAILABLE (legacy 503): the app retries, and the retry is answered by this same publish.
        throw new AppError("UNAVAILABLE", "the video is still being processed; it will appear in your list shortly");
      }
      // A failure of ours (storage, queue, a job that failed for good): nothing was published, so
      // a retry must be able to start afresh, and the stored file is of no use to anyone.
      await kv.delete([claim]).catch(() => undefined);
      if (error instanceof JobFailedError) await storage.remove(videoKey(videoId)).catch(() => undefined);
      throw error;
    }
    if (!outcome.published) {
      // The worker removed the file when it refused it; a repeat may have stored it again since.
      if (stored) await storage.remove(videoKey(videoId));
      throw new AppError(outcome.error.code, outcome.error.message);
    }
    const video = await this.loaders.videoById.load(videoId);
    if (!video) throw new AppError("INTERNAL_SERVER_ERROR", "the published video could not be read back");
    return video;
  }
}

/** Who published which file lately (holding the video id), for recognising a retried publish. */
const publishClaimKey = (authorId: number, sha256: string) => `publish:${authorId}:${sha256}`;
