// The relation subgraph's data module: the only code that touches its Prisma client and queues.
import type { Queue } from "bullmq";
import { userRegisteredJobId, type UserRegisteredEvent } from "../../common/events";
import { badInput, notFound } from "../../common/errors";
import type { IdGenerator } from "../../common/ids";
import { addToUserStat, applyOnce, pruneLedger, type LedgerClient } from "../../common/counters";
import { afterCursor, decodeCursor, pageOf, type Cursor, type Page } from "../../common/pagination";
import type { PrismaClient } from "../../generated/prisma/relation/client";
import type { CounterJob } from "./queues";

/** What the relation subgraph knows about a user, seen by one viewer. */
export interface UserRelationRecord {
  id: number;
  followCount: number;
  followerCount: number;
  isFollow: boolean;
}

/** Ids only: the User fields come from each subgraph's loaders. */
export type UserConnectionRecord = Page<{ id: number }>;

export interface FriendRecord {
  id: number;
}

export type FriendConnectionRecord = Page<FriendRecord>;

const COUNTER_COLUMNS = { followCount: "follow_count", followerCount: "follower_count" } as const;

export class RelationData {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly ids: IdGenerator,
    private readonly counters: Queue<CounterJob>,
    private readonly userEvents: Queue<UserRegisteredEvent>,
  ) {}

  /**
   * Counters of many users and whether `viewerId` follows each, in one statement. Users
   * without a counter row have zero counts.
   */
  async findUserRelations(viewerId: number | null, userIds: readonly number[]): Promise<UserRelationRecord[]> {
    const rows = await this.prisma.$queryRaw<
      { user_id: bigint; follow_count: number | null; follower_count: number | null; is_follow: boolean }[]
    >`
      SELECT ids.id AS user_id, s.follow_count, s.follower_count,
             EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${BigInt(viewerId ?? 0)} AND f.followee_id = ids.id) AS is_follow
      FROM unnest(${userIds.map(BigInt)}::bigint[]) AS ids(id)
      LEFT JOIN user_stats s ON s.user_id = ids.id`;
    const byId = new Map(rows.map((row) => [Number(row.user_id), row]));
    return userIds.map((id) => {
      const row = byId.get(id);
      return {
        id,
        // Counters may dip below zero for a moment while events apply out of order.
        followCount: Math.max(0, row?.follow_count ?? 0),
        followerCount: Math.max(0, row?.follower_count ?? 0),
        isFollow: row?.is_follow ?? false,
      };
    });
  }

  /** Records a user the user subgraph announced (idempotent). */
  async rememberUser(userId: number): Promise<void> {
    await this.prisma.knownUser.createMany({ data: [{ userId: BigInt(userId) }], skipDuplicates: true });
  }

  /**
   * Whether the user exists: announced and recorded, or announced and still in the queue (the
   * event is published only after the registration committed), so a user can be followed the
   * moment registration answers.
   */
  async userExists(userId: number): Promise<boolean> {
    if (await this.prisma.knownUser.findUnique({ where: { userId: BigInt(userId) } })) return true;
    return (await this.userEvents.getJob(userRegisteredJobId(userId))) !== undefined;
  }

  async follow(followerId: number, followeeId: number): Promise<void> {
    if (followerId === followeeId) throw badInput("you cannot follow yourself");
    if (!(await this.userExists(followeeId))) throw notFound(`user ${followeeId} not found`);
    const { count } = await this.prisma.follow.createMany({
      data: [{ followerId: BigInt(followerId), followeeId: BigInt(followeeId) }],
      skipDuplicates: true,
    });
    if (count === 1) await this.countFollow(followerId, followeeId, 1);
  }

  async unfollow(followerId: number, followeeId: number): Promise<void> {
    if (followerId === followeeId) throw badInput("you cannot unfollow yourself");
    const { count } = await this.prisma.follow.deleteMany({ where: { followerId: BigInt(followerId), followeeId: BigInt(followeeId) } });
    if (count === 1) await this.countFollow(followerId, followeeId, -1);
  }

  /** Enqueued only when a row really changed; the event id is unique to this change. */
  private async countFollow(followerId: number, followeeId: number, delta: 1 | -1): Promise<void> {
    const eventId = `follow-${this.ids.next()}`;
    await this.counters.add(
      "follow",
      {
        eventId,
        changes: [
          { userId: String(followerId), field: "followCount", delta },
          { userId: String(followeeId), field: "followerCount", delta },
        ],
      },
      { jobId: eventId },
    );
  }

  /** Whom `userId` follows (`direction: "following"`) or who follows them, most recent first. */
  async listFollows(direction: "following" | "followers", userId: number, first: number, after: string | null): Promise<UserConnectionRecord> {
    const cursor = readCursor(after);
    const own = direction === "following" ? "followerId" : "followeeId";
    const other = direction === "following" ? "followeeId" : "followerId";
    const rows = await this.prisma.follow.findMany({
      where: { [own]: BigInt(userId), ...afterCursor(cursor, other) },
      orderBy: [{ createdAt: "desc" }, { [other]: "desc" }],
      take: first + 1,
    });
    return pageOf(rows, first, (row) => ({ createdAt: row.createdAt, id: row[other] }), (row) => ({ id: Number(row[other]) }));
  }

  /** Users who follow `userId` back, most recently followed first. */
  async listFriends(userId: number, first: number, after: string | null): Promise<FriendConnectionRecord> {
    const cursor = readCursor(after);
    const rows = await this.prisma.$queryRaw<{ friend_id: bigint; created_at: Date }[]>`
      SELECT f1.followee_id AS friend_id, f1.created_at
      FROM follows f1
      JOIN follows f2 ON f2.follower_id = f1.followee_id AND f2.followee_id = f1.follower_id
      WHERE f1.follower_id = ${BigInt(userId)}
        AND (${cursor === null} OR (f1.created_at, f1.followee_id) < (${cursor?.createdAt ?? new Date(0)}, ${cursor?.id ?? 0n}))
      ORDER BY f1.created_at DESC, f1.followee_id DESC
      LIMIT ${first + 1}`;
    return pageOf(rows, first, (row) => ({ createdAt: row.created_at, id: row.friend_id }), (row) => ({ id: Number(row.friend_id) }));
  }

  async pruneCounterEvents(appliedBefore: Date): Promise<number> {
    return pruneLedger(this.ledger, appliedBefore);
  }

  /** Applies a counter event atomically and at most once (see common/counters.ts). */
  async applyCounterEvent(event: CounterJob): Promise<boolean> {
    return applyOnce(this.ledger, event.eventId, async (tx) => {
      for (const change of event.changes) await addToUserStat(tx, COUNTER_COLUMNS[change.field], BigInt(change.userId), change.delta);
    });
  }

  private get ledger(): LedgerClient {
    return this.prisma as unknown as LedgerClient;
  }
}

function readCursor(after: string | null): Cursor | null {
  if (after === null) return null;
  const cursor = decodeCursor(after);
  if (!cursor) throw badInput("invalid cursor");
  return cursor;
}

/**
 * Recomputes follow_count and follower_count from the follows; returns how many users'
 * counters were wrong (and are now right).
 */
export async function reconcileFollowCounts(prisma: PrismaClient): Promise<number> {
return prisma.$executeRaw`
    WITH truth AS (
      SELECT coalesce(a.user_id, b.user_id) AS user_id, coalesce(a.n, 0) AS follow_count, coalesce(b.n, 0) AS follower_count
      FROM (SELECT follower_id AS user_id, count(*)::int AS n FROM follows GROUP BY follower_id) a
      FULL JOIN (SELECT followee_id AS user_id, count(*)::int AS n FROM follows GROUP BY followee_id) b ON a.user_id = b.user_id
    ), wrong AS (
      SELECT coalesce(t.user_id, s.user_id) AS user_id, coalesce(t.follow_count, 0) AS follow_count, coalesce(t.follower_count, 0) AS follower_count
      FROM truth t FULL JOIN user_stats s ON s.user_id = t.user_id
      WHERE coalesce(t.follow_count, 0) <> coalesce(s.follow_count, 0) OR coalesce(t.follower_count, 0) <> coalesce(s.follower_count, 0)
    )
    INSERT INTO user_stats (user_id, follow_count, follower_count, updated_at)
    SELECT user_id, follow_count, follower_count, now() FROM wrong
    ON CONFLICT (user_id) DO UPDATE SET follow_count = excluded.follow_count, follower_count = excluded.follower_count, updated_at = now()`;
}
