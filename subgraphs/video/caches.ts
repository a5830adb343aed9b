// The video subgraph's in-process caches (platform/local-cache.ts): video rows, videos'
// counts, users' counters, the videos each viewer likes, each video's first comment page, the
// whole comment lists read past their first page, and the newest videos the feed starts from.
// Writers invalidate them after their commit; the counter drainer invalidates the counts it
// changed (a video's row never changes with them).
import type { SubgraphDeps } from "../../framework/subgraph";
import type { LocalCache } from "../../platform/local-cache";
import type { Config } from "../../platform/config";
import type { CommentConnectionRecord, FeedEntry, UserRecord, VideoCounts, VideoRecord, VideoStore } from "./store";

/** The newest videos are one entry under this key. */
export const NEWEST = "newest";

/** Videos whose first page of comments is kept in memory. */
const FIRST_COMMENT_PAGES_KEPT = 2_000;
/** Videos whose whole comment list (up to LEGACY_LIST_MAX) is kept: each can be thousands of comments. */
const COMMENT_LISTS_KEPT = 200;

export class VideoCaches {
  readonly videos: LocalCache<number, VideoRecord>;
  readonly counts: LocalCache<number, VideoCounts>;
  readonly users: LocalCache<number, UserRecord>;
  /** What each viewer likes: isFavorite for any video is a set lookup. */
  readonly likedBy: LocalCache<number, Set<number>>;
  readonly firstCommentPages: LocalCache<number, CommentConnectionRecord>;
  /** The newest LEGACY_LIST_MAX comments of a video, as one page: the later pages of a whole legacy list. */
  readonly commentLists: LocalCache<number, CommentConnectionRecord>;
  readonly newest: LocalCache<string, FeedEntry[]>;

  constructor(deps: Pick<SubgraphDeps, "cache">, store: VideoStore, config: Pick<Config, "limits" | "localCache">) {
    this.videos = deps.cache("videos", async (ids) => (await store.findVideos(ids)).map((video) => video ?? undefined));
    this.counts = deps.cache("video-counts", (ids) => store.findVideoCounts(ids));
    this.users = deps.cache("user-counters", (ids) => store.findUserStats(ids));
    this.likedBy = deps.cache("liked-by", (ids) => store.likedVideoIds(ids));
    // Pages are large (LIST_LIMIT_MAX comments): only the videos whose comments are read most stay.
    this.firstCommentPages = deps.cache(
      "first-comment-pages",
      (ids) => Promise.all(ids.map((id) => store.comments(id, config.limits.listMax, null))),
      { maxEntries: Math.min(config.localCache.maxEntries, FIRST_COMMENT_PAGES_KEPT) },
    );
    // A legacy list is read whole, page after page, and repeated (apps poll, scrapers loop):
    // its later pages come from one read of the whole list instead of a query each.
    this.commentLists = deps.cache(
      "comment-lists",
      (ids) => Promise.all(ids.map((id) => store.comments(id, config.limits.legacyListMax, null))),
      { maxEntries: Math.min(config.localCache.maxEntries, COMMENT_LISTS_KEPT) },
    );
    this.newest = deps.cache("newest-videos", (keys) => Promise.all(keys.map(() => store.newestVideos(config.localCache.feedSize))));
  }
}
