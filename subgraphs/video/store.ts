// The video subgraph's store: the only code that touches its tables (videos, likes,
// comments, counters), no rules.
import { applyOnce, pruneLedger } from "../../platform/counters";
import { afterCursor, pageOf, type Cursor, type Page } from "../../lib/pagination";
import type { Comment, PrismaClient, Video } from "../../generated/prisma/video/client";
import type { CounterChange, CounterJob } from "./jobs";

/** What the video subgraph knows about a user: counters computed from its own rows. */
export interface UserRecord {
  id: number;
  workCount: number;
  favoriteCount: number;
  totalFavorited: number;
}

export type VideoRecord = Video;

export interface FeedPageRecord {
  videos: VideoRecord[];
  nextTime: Date | null;
}

export type VideoConnectionRecord = Page<VideoRecord>;

export type CommentRecord = Comment;

export type CommentConnectionRecord = Page<CommentRecord>;

export interface NewVideo {
  id: number;
  authorId: number;
  title: string;
  playKey: string;
  coverKey: string;
  durationMs: number;
  width: number;
  height: number;
}

/** Counter columns a counter event may change, by the name used in events. */
const USER_COUNTER_COLUMNS: Record<Extract<CounterChange, { entity: "user" }>["field"], string> = {
  workCount: "work_count",
  favoriteCount: "favorite_count",
  totalFavorited: "total_favorited",
};
const VIDEO_COUNTER_COLUMNS: Record<Extract<CounterChange, { entity: "video" }>["field"], string> = {
  favoriteCount: "favorite_count",
  commentCount: "comment_count",
};

/** Feed rows joined with what the feed shows about them, so one statement serves a whole page. */
export interface FeedRow {
  video: VideoRecord;
  authorStats: UserRecord;
  isFavorite: boolean;
}

type RawFeedRow = {
  id: bigint;
  author_id: bigint;
  title: string;
  play_key: string;
  cover_key: string;
  duration_ms: number;
  width: number;
  height: number;
  favorite_count: number;
  comment_count: number;
  is_deleted: boolean;
  created_at: Date;
  updated_at: Date;
  work_count: number | null;
  author_favorite_count: number | null;
  total_favorited: bigint | null;
  is_favorite: boolean;
};

const SECOND_MS = 1000;

export class VideoStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** One statement for any number of users; users without a row have all counters at zero. */
  async findUserStats(userIds: readonly number[]): Promise<UserRecord[]> {
    const rows = await this.prisma.userStats.findMany({ where: { userId: { in: userIds.map(BigInt) } } });
    const byId = new Map(rows.map((row) => [Number(row.userId), row]));
    return userIds.map((id) => {
      const row = byId.get(id);
      return {
        id,
        workCount: Math.max(0, row?.workCount ?? 0),
        favoriteCount: Math.max(0, row?.favoriteCount ?? 0),
        totalFavorited: Math.max(0, Number(row?.totalFavorited ?? 0)),
      };
    });
  }

  /** Videos by id in the order asked; null for ids that do not exist or were deleted. */
  async findVideos(videoIds: readonly number[]): Promise<(VideoRecord | null)[]> {
    const rows = await this.prisma.video.findMany({ where: { id: { in: videoIds.map(BigInt) }, isDeleted: false } });
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    return videoIds.map((id) => byId.get(id) ?? null);
  }

  /** Which of these videos `userId` likes, in the order asked. */
  async findLikes(userId: number, videoIds: readonly number[]): Promise<boolean[]> {
    const rows = await this.prisma.like.findMany({
      where: { userId: BigInt(userId), videoId: { in: videoIds.map(BigInt) } },
      select: { videoId: true },
    });
    const liked = new Set(rows.map((row) => Number(row.videoId)));
    return videoIds.map((id) => liked.has(id));
  }

  /**
   * A feed page: videos created strictly before `before`, newest first, at most `limit`.
   *
   * A page never ends inside a second that has more videos beyond the page, so a client that
   * passes the oldest creation time back (in seconds or in milliseconds) sees every video
   * exactly once. Only when a whole page falls within one second does it end at a millisecond
   * boundary instead (exact for millisecond clients).
   */
  async feed(before: Date, limit: number, viewerId: number | null): Promise<{ rows: FeedRow[]; nextTime: Date | null }> {
    const raw = await this.prisma.$queryRaw<RawFeedRow[]>`
      SELECT v.*, s.work_count, s.favorite_count AS author_favorite_count, s.total_favorited,
             (l.user_id IS NOT NULL) AS is_favorite
      FROM videos v
      LEFT JOIN user_stats s ON s.user_id = v.author_id
      LEFT JOIN likes l ON l.video_id = v.id AND l.user_id = ${BigInt(viewerId ?? 0)}
      WHERE v.is_deleted = false AND v.created_at < ${before}
      ORDER BY v.created_at DESC, v.id DESC
      LIMIT ${limit + 1}`;
    const rows = raw.map(toFeedRow);
    let page = rows.slice(0, limit);
    const beyond = rows[limit];
    if (beyond) {
      const beyondMs = beyond.video.createdAt.getTime();
      const sameSecond = (row: FeedRow) => Math.floor(row.video.createdAt.getTime() / SECOND_MS) === Math.floor(beyondMs / SECOND_MS);
      const wholeSeconds = page.filter((row) => !sameSecond(row));
      const wholeMilliseconds = page.filter((row) => row.video.createdAt.getTime() !== beyondMs);
      page = wholeSeconds.length > 0 ? wholeSeconds : wholeMilliseconds.length > 0 ? wholeMilliseconds : page;
    }
    return { rows: page, nextTime: page.at(-1)?.video.createdAt ?? null };
  }

  /** One author's videos, newest first, after an opaque cursor. */
  async videosByAuthor(authorId: number, first: number, after: Cursor | null): Promise<VideoConnectionRecord> {
    const rows = await this.prisma.video.findMany({
      where: { authorId: BigInt(authorId), isDeleted: false, ...afterCursor(after, "id") },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: first + 1,
    });
    return pageOf(rows, first, (row) => row);
  }

  /** Inserts the like; false when it was there already. */
  async insertLike(userId: number, videoId: number): Promise<boolean> {
    const { count } = await this.prisma.like.createMany({
      data: [{ userId: BigInt(userId), videoId: BigInt(videoId) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** Removes the like; false when there was none. */
  async deleteLike(userId: number, videoId: number): Promise<boolean> {
    const { count } = await this.prisma.like.deleteMany({ where: { userId: BigInt(userId), videoId: BigInt(videoId) } });
    return count === 1;
  }

  /** Videos `userId` likes, most recently liked first (deleted videos left out). */
  async likedVideos(userId: number, first: number, after: Cursor | null): Promise<VideoConnectionRecord> {
    const likes = await this.prisma.like.findMany({
      where: { userId: BigInt(userId), ...afterCursor(after, "videoId") },
      orderBy: [{ createdAt: "desc" }, { videoId: "desc" }],
      take: first + 1,
    });
    const page = pageOf(likes, first, (like) => ({ createdAt: like.createdAt, id: like.videoId }));
    const videos = await this.findVideos(page.nodes.map((like) => Number(like.videoId)));
    return { ...page, nodes: videos.filter((video): video is VideoRecord => video !== null) };
  }

  async insertComment(comment: { id: number; videoId: number; userId: number; content: string }): Promise<CommentRecord> {
    return this.prisma.comment.create({
      data: { id: BigInt(comment.id), videoId: BigInt(comment.videoId), userId: BigInt(comment.userId), content: comment.content },
    });
  }

  async findComment(commentId: number): Promise<CommentRecord | null> {
    return this.prisma.comment.findFirst({ where: { id: BigInt(commentId), isDeleted: false } });
  }

  /** Soft-deletes; false when it was deleted already. */
  async softDeleteComment(commentId: number): Promise<boolean> {
    const { count } = await this.prisma.comment.updateMany({
      where: { id: BigInt(commentId), isDeleted: false },
      data: { isDeleted: true },
    });
    return count === 1;
  }

  /** A video's comments, newest first, after an opaque cursor. */
  async comments(videoId: number, first: number, after: Cursor | null): Promise<CommentConnectionRecord> {
    const rows = await this.prisma.comment.findMany({
      where: { videoId: BigInt(videoId), isDeleted: false, ...afterCursor(after, "id") },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: first + 1,
    });
    return pageOf(rows, first, (row) => row);
  }

  /** Inserts a processed video; false when it already exists (a retried media job). */
  async insertVideo(video: NewVideo): Promise<boolean> {
    const { count } = await this.prisma.video.createMany({
      data: [{ ...video, id: BigInt(video.id), authorId: BigInt(video.authorId) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  pruneCounterEvents(appliedBefore: Date): Promise<number> {
    return pruneLedger(this.prisma, appliedBefore);
  }

  /** Applies a counter event atomically and at most once (see platform/counters.ts). */
  applyCounterEvent(event: CounterJob): Promise<boolean> {
    return applyOnce(this.prisma, event.eventId, async (tx) => {
      for (const change of event.changes) {
        const id = BigInt(change.id);
        if (change.entity === "user") {
          const column = USER_COUNTER_COLUMNS[change.field];
          await tx.$executeRawUnsafe(
            `INSERT INTO user_stats (user_id, ${column}, updated_at) VALUES ($1, $2, now())
             ON CONFLICT (user_id) DO UPDATE SET ${column} = user_stats.${column} + $2, updated_at = now()`,
            id,
            change.delta,
          );
        } else {
          const column = VIDEO_COUNTER_COLUMNS[change.field];
          await tx.$executeRawUnsafe(`UPDATE videos SET ${column} = ${column} + $2, updated_at = now() WHERE id = $1`, id, change.delta);
        }
      }
    });
  }

  /** Recomputes work_count from the videos; returns how many users' counters were wrong. */
  reconcileWorkCounts(): Promise<number> {
    return reconcileWorkCounts(this.prisma);
  }

  /** Recomputes the like and comment counters from the rows; how many rows were wrong. */
  reconcileInteractionCounts(): Promise<{ videos: number; users: number }> {
    return reconcileInteractionCounts(this.prisma);
  }
}

function toFeedRow(row: RawFeedRow): FeedRow {
  return {
    video: {
      id: row.id,
      authorId: row.author_id,
      title: row.title,
      playKey: row.play_key,
      coverKey: row.cover_key,
      durationMs: row.duration_ms,
      width: row.width,
      height: row.height,
      favoriteCount: row.favorite_count,
      commentCount: row.comment_count,
      isDeleted: row.is_deleted,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    },
    authorStats: {
      id: Number(row.author_id),
      workCount: Math.max(0, row.work_count ?? 0),
      favoriteCount: Math.max(0, row.author_favorite_count ?? 0),
      totalFavorited: Math.max(0, Number(row.total_favorited ?? 0)),
    },
    isFavorite: row.is_favorite,
  };
}

/** Recomputes work_count from the videos; returns how many users' counters were wrong. */
async function reconcileWorkCounts(prisma: PrismaClient): Promise<number> {
  return prisma.$executeRaw`
    WITH truth AS (
      SELECT author_id AS user_id, count(*)::int AS work_count FROM videos WHERE is_deleted = false GROUP BY author_id
    ), wrong AS (
      SELECT coalesce(t.user_id, s.user_id) AS user_id, coalesce(t.work_count, 0) AS work_count
      FROM truth t FULL JOIN user_stats s ON s.user_id = t.user_id
      WHERE coalesce(t.work_count, 0) <> coalesce(s.work_count, 0)
    )
    INSERT INTO user_stats (user_id, work_count, updated_at)
    SELECT user_id, work_count, now() FROM wrong
    ON CONFLICT (user_id) DO UPDATE SET work_count = excluded.work_count, updated_at = now()`;
}

/**
 * Recomputes the like and comment counters from the rows: each video's favorite_count and
 * comment_count, each user's favorite_count (likes given) and total_favorited (likes received).
 * Returns how many rows were wrong.
 */
async function reconcileInteractionCounts(prisma: PrismaClient): Promise<{ videos: number; users: number }> {
  const videos = await prisma.$executeRaw`
    UPDATE videos v SET favorite_count = t.favorites, comment_count = t.comments, updated_at = now()
    FROM (
      SELECT v2.id,
             (SELECT count(*)::int FROM likes l WHERE l.video_id = v2.id) AS favorites,
             (SELECT count(*)::int FROM comments c WHERE c.video_id = v2.id AND NOT c.is_deleted) AS comments
      FROM videos v2
    ) t
    WHERE v.id = t.id AND (v.favorite_count <> t.favorites OR v.comment_count <> t.comments)`;
  const users = await prisma.$executeRaw`
    WITH given AS (SELECT user_id, count(*)::int AS n FROM likes GROUP BY user_id),
    received AS (SELECT v.author_id AS user_id, count(*)::bigint AS n FROM likes l JOIN videos v ON v.id = l.video_id GROUP BY v.author_id),
    truth AS (
      SELECT coalesce(g.user_id, r.user_id) AS user_id, coalesce(g.n, 0) AS favorite_count, coalesce(r.n, 0) AS total_favorited
      FROM given g FULL JOIN received r ON r.user_id = g.user_id
    ),
    wrong AS (
      SELECT coalesce(t.user_id, s.user_id) AS user_id, coalesce(t.favorite_count, 0) AS favorite_count, coalesce(t.total_favorited, 0) AS total_favorited
      FROM truth t FULL JOIN user_stats s ON s.user_id = t.user_id
      WHERE coalesce(t.favorite_count, 0) <> coalesce(s.favorite_count, 0) OR coalesce(t.total_favorited, 0) <> coalesce(s.total_favorited, 0)
    )
    INSERT INTO user_stats (user_id, favorite_count, total_favorited, updated_at)
    SELECT user_id, favorite_count, total_favorited, now() FROM wrong
    ON CONFLICT (user_id) DO UPDATE SET favorite_count = excluded.favorite_count, total_favorited = excluded.total_favorited, updated_at = now()`;
  return { videos, users };
}
