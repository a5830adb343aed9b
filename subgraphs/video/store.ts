// The video subgraph's store: the only code that touches its tables (videos, likes,
// comments, counters and their outbox), no rules. Every write that changes a counter writes
// the change to the counter outbox in the same statement (see framework/counters.ts).
import { drainCounterOutbox, type CounterChange as AnyCounterChange, type DrainResult } from "../../framework/counters";
import { WriteBatcher } from "../../platform/write-batch";
import { afterCursor, pageOf, type Cursor, type Page } from "../../lib/pagination";
import type { Comment, PrismaClient, Video } from "../../generated/prisma/video/client";

export type CounterChange =
  AnyCounterChange<"user", "workCount" | "favoriteCount" | "totalFavorited"> | AnyCounterChange<"video", "favoriteCount" | "commentCount">;

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

interface LikeWrite {
  kind: "like" | "unlike";
  key: string;
  userId: number;
  videoId: number;
  changes: CounterChange[];
}

/** A video's counts: they change with every like and comment, its row otherwise never. */
export interface VideoCounts {
  favoriteCount: number;
  commentCount: number;
}

/** A video's place in the feed: what the newest-videos cache keeps. */
export interface FeedEntry {
  id: number;
  createdAt: Date;
}

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

  /** Counters of the most recently active users, up to `limit` (to warm their cache). */
  async recentUserStats(limit: number): Promise<UserRecord[]> {
    const rows = await this.prisma.userStats.findMany({ orderBy: { updatedAt: "desc" }, take: limit });
    return rows.map((row) => ({
      id: Number(row.userId),
      workCount: Math.max(0, row.workCount),
      favoriteCount: Math.max(0, row.favoriteCount),
      totalFavorited: Math.max(0, Number(row.totalFavorited)),
    }));
  }

  /** The newest videos, whole rows, up to `limit` (to warm their cache). */
  recentVideos(limit: number): Promise<VideoRecord[]> {
    return this.prisma.video.findMany({ where: { isDeleted: false }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limit });
  }

  /** Videos by id in the order asked; null for ids that do not exist or were deleted. */
  async findVideos(videoIds: readonly number[]): Promise<(VideoRecord | null)[]> {
    const rows = await this.prisma.video.findMany({ where: { id: { in: videoIds.map(BigInt) }, isDeleted: false } });
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    return videoIds.map((id) => byId.get(id) ?? null);
  }

  /** The counts of videos by id, in the order asked (undefined for ids that do not exist). */
  async findVideoCounts(videoIds: readonly number[]): Promise<(VideoCounts | undefined)[]> {
    const rows = await this.prisma.video.findMany({
      where: { id: { in: videoIds.map(BigInt) } },
      select: { id: true, favoriteCount: true, commentCount: true },
    });
    const byId = new Map(rows.map((row) => [Number(row.id), { favoriteCount: row.favoriteCount, commentCount: row.commentCount }]));
    return videoIds.map((id) => byId.get(id));
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
   * A feed page: videos created strictly before `before`, newest first, at most `limit`, with
   * what the feed shows about them, in one statement (see `feedPage` for where a page ends).
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
    const rows = feedPage(raw.map(toFeedRow), limit, (row) => row.video.createdAt);
    return { rows, nextTime: rows.at(-1)?.video.createdAt ?? null };
  }

  /** The newest videos (ids and times), newest first: what the feed serves from memory. */
  async newestVideos(count: number): Promise<FeedEntry[]> {
    const rows = await this.prisma.video.findMany({
      where: { isDeleted: false },
      select: { id: true, createdAt: true },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: count,
    });
    return rows.map((row) => ({ id: Number(row.id), createdAt: row.createdAt }));
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

  /** Inserts the like with its counter changes; false (and nothing written) when it was there already. */
  insertLike(userId: number, videoId: number, changes: CounterChange[]): Promise<boolean> {
    return this.likeWrites.write({ kind: "like", key: `${userId}:${videoId}`, userId, videoId, changes });
  }

  /** Removes the like with its counter changes; false (and nothing written) when there was none. */
  deleteLike(userId: number, videoId: number, changes: CounterChange[]): Promise<boolean> {
    return this.likeWrites.write({ kind: "unlike", key: `${userId}:${videoId}`, userId, videoId, changes });
  }

  /** Likes and unlikes requested together, one statement per run of one kind (platform/write-batch.ts). */
  private readonly likeWrites = new WriteBatcher<LikeWrite, boolean>(async (kind, writes) => {
    const users = writes.map((write) => BigInt(write.userId));
    const videos = writes.map((write) => BigInt(write.videoId));
    const changes = writes.map((write) => JSON.stringify(write.changes));
    // Pairs are distinct within a run (the batcher keeps repeats for later rounds); the counter
    // changes of every row that really changed go to the outbox as one row.
    const changed =
      kind === "like"
        ? await this.prisma.$queryRaw<{ user_id: bigint; video_id: bigint }[]>`
            WITH input AS (
              SELECT * FROM unnest(${users}::bigint[], ${videos}::bigint[], ${changes}::text[]) WITH ORDINALITY AS t(user_id, video_id, changes, n)
            ), first AS (
              SELECT DISTINCT ON (user_id, video_id) user_id, video_id, changes FROM input ORDER BY user_id, video_id, n
            ), written AS (
              INSERT INTO likes (user_id, video_id) SELECT user_id, video_id FROM first ON CONFLICT DO NOTHING RETURNING user_id, video_id
            ), counted AS (
              INSERT INTO counter_outbox (changes)
              SELECT jsonb_agg(change) FROM written JOIN first USING (user_id, video_id), jsonb_array_elements(first.changes::jsonb) AS change
              HAVING count(*) > 0
            )
            SELECT user_id, video_id FROM written`
        : await this.prisma.$queryRaw<{ user_id: bigint; video_id: bigint }[]>`
            WITH input AS (
              SELECT * FROM unnest(${users}::bigint[], ${videos}::bigint[], ${changes}::text[]) WITH ORDINALITY AS t(user_id, video_id, changes, n)
            ), first AS (
              SELECT DISTINCT ON (user_id, video_id) user_id, video_id, changes FROM input ORDER BY user_id, video_id, n
            ), written AS (
              DELETE FROM likes USING first WHERE likes.user_id = first.user_id AND likes.video_id = first.video_id
              RETURNING likes.user_id, likes.video_id
            ), counted AS (
              INSERT INTO counter_outbox (changes)
              SELECT jsonb_agg(change) FROM written JOIN first USING (user_id, video_id), jsonb_array_elements(first.changes::jsonb) AS change
              HAVING count(*) > 0
            )
            SELECT user_id, video_id FROM written`;
    const done = new Set(changed.map((row) => `${row.user_id}:${row.video_id}`));
    return writes.map((write) => done.delete(`${write.userId}:${write.videoId}`));
  });

  /** Every video each of these users likes (what isFavorite is answered from), in one statement. */
  async likedVideoIds(userIds: readonly number[]): Promise<Set<number>[]> {
    const rows = await this.prisma.like.findMany({
      where: { userId: { in: userIds.map(BigInt) } },
      select: { userId: true, videoId: true },
    });
    const sets = new Map(userIds.map((id) => [id, new Set<number>()]));
    for (const row of rows) sets.get(Number(row.userId))?.add(Number(row.videoId));
    return userIds.map((id) => sets.get(id)!);
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

  /** Inserts the comment with its counter changes, in one transaction. */
  async insertComment(
    comment: { id: number; videoId: number; userId: number; content: string },
    changes: CounterChange[],
  ): Promise<CommentRecord> {
    const [created] = await this.prisma.$transaction([
      this.prisma.comment.create({
        data: { id: BigInt(comment.id), videoId: BigInt(comment.videoId), userId: BigInt(comment.userId), content: comment.content },
      }),
      this.prisma.$executeRaw`INSERT INTO counter_outbox (changes) VALUES (${JSON.stringify(changes)}::jsonb)`,
    ]);
    return created;
  }

  async findComment(commentId: number): Promise<CommentRecord | null> {
    return this.prisma.comment.findFirst({ where: { id: BigInt(commentId), isDeleted: false } });
  }

  /** Soft-deletes with its counter changes; false (and nothing written) when it was deleted already. */
  async softDeleteComment(commentId: number, changes: CounterChange[]): Promise<boolean> {
    const written = await this.prisma.$executeRaw`
      WITH deleted AS (
        UPDATE comments SET is_deleted = true WHERE id = ${BigInt(commentId)} AND is_deleted = false RETURNING id
      )
      INSERT INTO counter_outbox (changes) SELECT ${JSON.stringify(changes)}::jsonb FROM deleted`;
    return written === 1;
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

  /** Inserts a processed video and counts it for its author; false (and nothing written) when it exists (a retried media job). */
  async insertVideo(video: NewVideo): Promise<boolean> {
    const changes: CounterChange[] = [{ entity: "user", id: String(video.authorId), field: "workCount", delta: 1 }];
    const written = await this.prisma.$executeRaw`
      WITH inserted AS (
        INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height)
        VALUES (${BigInt(video.id)}, ${BigInt(video.authorId)}, ${video.title}, ${video.playKey}, ${video.coverKey},
                ${video.durationMs}, ${video.width}, ${video.height})
        ON CONFLICT DO NOTHING RETURNING id
      )
      INSERT INTO counter_outbox (changes) SELECT ${JSON.stringify(changes)}::jsonb FROM inserted`;
    return written === 1;
  }

  /**
   * Applies up to `limit` pending counter changes: sums them per counter, applies the sums and
   * deletes the rows, in one transaction (see framework/counters.ts).
   */
  drainCounterChanges(limit: number): Promise<DrainResult<CounterChange>> {
    return this.prisma.$transaction((tx) =>
      drainCounterOutbox<CounterChange>(tx, limit, async (changes) => {
        const videos = new Map<string, { favoriteCount: number; commentCount: number }>();
        const users = new Map<string, { workCount: number; favoriteCount: number; totalFavorited: number }>();
        for (const change of changes) {
          if (change.entity === "video") {
            const sums = videos.get(change.id) ?? { favoriteCount: 0, commentCount: 0 };
            sums[change.field] += change.delta;
            videos.set(change.id, sums);
          } else {
            const sums = users.get(change.id) ?? { workCount: 0, favoriteCount: 0, totalFavorited: 0 };
            sums[change.field] += change.delta;
            users.set(change.id, sums);
          }
        }
        if (videos.size > 0) {
          await tx.$executeRaw`
          UPDATE videos v SET favorite_count = v.favorite_count + d.favorites, comment_count = v.comment_count + d.comments, updated_at = now()
          FROM unnest(${[...videos.keys()].map(BigInt)}::bigint[], ${[...videos.values()].map((d) => d.favoriteCount)}::int[],
                      ${[...videos.values()].map((d) => d.commentCount)}::int[]) AS d(id, favorites, comments)
          WHERE v.id = d.id`;
        }
        if (users.size > 0) {
          await tx.$executeRaw`
          INSERT INTO user_stats (user_id, work_count, favorite_count, total_favorited, updated_at)
          SELECT d.id, d.works, d.favorites, d.received, now()
          FROM unnest(${[...users.keys()].map(BigInt)}::bigint[], ${[...users.values()].map((d) => d.workCount)}::int[],
                      ${[...users.values()].map((d) => d.favoriteCount)}::int[], ${[...users.values()].map((d) => BigInt(d.totalFavorited))}::bigint[])
               AS d(id, works, favorites, received)
          ON CONFLICT (user_id) DO UPDATE SET work_count = user_stats.work_count + excluded.work_count,
            favorite_count = user_stats.favorite_count + excluded.favorite_count,
            total_favorited = user_stats.total_favorited + excluded.total_favorited, updated_at = now()`;
        }
      }),
    );
  }

  /**
   * Recomputes every counter from the rows it counts and drops the pending changes they
   * already include, in one transaction that holds writers of new changes off meanwhile.
   * Returns how many rows were wrong, by counter.
   */
  reconcile(): Promise<{ workCount: number; videoCounts: number; likeCounts: number }> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`LOCK TABLE counter_outbox IN EXCLUSIVE MODE`;
      const workCount = await reconcileWorkCounts(tx);
      const { videos, users } = await reconcileInteractionCounts(tx);
      await tx.$executeRaw`DELETE FROM counter_outbox`;
      return { workCount, videoCounts: videos, likeCounts: users };
    });
  }
}

/** The raw-SQL part of a Prisma client or transaction. */
type RawSql = Pick<PrismaClient, "$executeRaw">;

/**
 * Where a feed page ends, given `rows` (newest first, `limit + 1` of them when more exist).
 *
 * A page never ends inside a second that has more videos beyond the page, so a client that
 * passes the oldest creation time back (in seconds or in milliseconds) sees every video
 * exactly once. Only when a whole page falls within one second does it end at a millisecond
 * boundary instead (exact for millisecond clients).
 */
export function feedPage<Row>(rows: Row[], limit: number, createdAt: (row: Row) => Date): Row[] {
  const page = rows.slice(0, limit);
  const beyond = rows[limit];
  if (!beyond) return page;
  const beyondMs = createdAt(beyond).getTime();
  const sameSecond = (row: Row) => Math.floor(createdAt(row).getTime() / SECOND_MS) === Math.floor(beyondMs / SECOND_MS);
  const wholeSeconds = page.filter((row) => !sameSecond(row));
  const wholeMilliseconds = page.filter((row) => createdAt(row).getTime() !== beyondMs);
  return wholeSeconds.length > 0 ? wholeSeconds : wholeMilliseconds.length > 0 ? wholeMilliseconds : page;
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
async function reconcileWorkCounts(prisma: RawSql): Promise<number> {
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
async function reconcileInteractionCounts(prisma: RawSql): Promise<{ videos: number; users: number }> {
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
