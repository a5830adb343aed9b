// The relation subgraph's store: the only code that touches its tables (follows, counters,
// known users, messages), no rules.
import { applyOnce, pruneLedger } from "../../platform/counters";
import { afterCursor, pageOf, type Cursor, type Page } from "../../lib/pagination";
import type { PrismaClient } from "../../generated/prisma/relation/client";
import type { CounterChange, CounterJob } from "./jobs";

/**
 * A user as the relation subgraph's resolvers receive it: the id only. Its counters are
 * loaded per field, so a reference that asks only for a list costs no counter query, and the
 * counters of every user in a response come in one batch.
 */
export interface UserRecord {
  id: number;
}

/** What the relation subgraph knows about a user, seen by one viewer. */
export interface UserRelation {
  id: number;
  followCount: number;
  followerCount: number;
  isFollow: boolean;
}

/** Ids only: the User fields come from each subgraph's loaders. */
export type UserConnectionRecord = Page<UserRecord>;

export interface FriendRecord {
  id: number;
}

export type FriendConnectionRecord = Page<FriendRecord>;

export interface MessageRecord {
  id: bigint;
  fromUserId: bigint;
  toUserId: bigint;
  content: string;
  createdAt: Date;
}

export type FollowDirection = "following" | "followers";

const COUNTER_COLUMNS: Record<CounterChange["field"], string> = { followCount: "follow_count", followerCount: "follower_count" };

/** Both users of a conversation, lower id first: how a conversation is keyed. */
export const conversationOf = (a: number, b: number) => (a < b ? [a, b] : [b, a]) as [number, number];

export class RelationStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Counters of many users and whether `viewerId` follows each, in one statement. Users
   * without a counter row have zero counts.
   */
  async findRelations(viewerId: number | null, userIds: readonly number[]): Promise<UserRelation[]> {
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

  async isKnownUser(userId: number): Promise<boolean> {
    return (await this.prisma.knownUser.findUnique({ where: { userId: BigInt(userId) } })) !== null;
  }

  /** Inserts the follow; false when it was there already. */
  async insertFollow(followerId: number, followeeId: number): Promise<boolean> {
    const { count } = await this.prisma.follow.createMany({
      data: [{ followerId: BigInt(followerId), followeeId: BigInt(followeeId) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** Removes the follow; false when there was none. */
  async deleteFollow(followerId: number, followeeId: number): Promise<boolean> {
    const { count } = await this.prisma.follow.deleteMany({ where: { followerId: BigInt(followerId), followeeId: BigInt(followeeId) } });
    return count === 1;
  }

  /** Whom `userId` follows (`following`) or who follows them (`followers`), most recent first. */
  async follows(direction: FollowDirection, userId: number, first: number, after: Cursor | null): Promise<UserConnectionRecord> {
    const own = direction === "following" ? "followerId" : "followeeId";
    const other = direction === "following" ? "followeeId" : "followerId";
    const rows = await this.prisma.follow.findMany({
      where: { [own]: BigInt(userId), ...afterCursor(after, other) },
      orderBy: [{ createdAt: "desc" }, { [other]: "desc" }],
      take: first + 1,
    });
    return pageOf(
      rows,
      first,
      (row) => ({ createdAt: row.createdAt, id: row[other] }),
      (row) => ({ id: Number(row[other]) }),
    );
  }

  /** Users who follow `userId` back, most recently followed first. */
  async friends(userId: number, first: number, after: Cursor | null): Promise<FriendConnectionRecord> {
    const rows = await this.prisma.$queryRaw<{ friend_id: bigint; created_at: Date }[]>`
      SELECT f1.followee_id AS friend_id, f1.created_at
      FROM follows f1
      JOIN follows f2 ON f2.follower_id = f1.followee_id AND f2.followee_id = f1.follower_id
      WHERE f1.follower_id = ${BigInt(userId)}
        AND (${after === null} OR (f1.created_at, f1.followee_id) < (${after?.createdAt ?? new Date(0)}, ${after?.id ?? 0n}))
      ORDER BY f1.created_at DESC, f1.followee_id DESC
      LIMIT ${first + 1}`;
    return pageOf(
      rows,
      first,
      (row) => ({ createdAt: row.created_at, id: row.friend_id }),
      (row) => ({ id: Number(row.friend_id) }),
    );
  }

  /**
   * Inserts a message. Sends within one conversation take turns (a transaction-scoped
   * advisory lock), and each gets a creation time after the last one's: commit order equals
   * time order, so a poll with the last time seen misses nothing.
   */
  async insertMessage(message: { id: number; fromUserId: number; toUserId: number; content: string }): Promise<MessageRecord> {
    const [low, high] = conversationOf(message.fromUserId, message.toUserId);
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`chat:${low}:${high}`}))`;
      const [last] = await tx.$queryRaw<{ created_at: Date | null }[]>`
        SELECT max(created_at) AS created_at FROM messages WHERE user_low = ${BigInt(low)} AND user_high = ${BigInt(high)}`;
      const createdAt = new Date(Math.max(Date.now(), (last?.created_at?.getTime() ?? 0) + 1));
      return tx.message.create({
        data: {
          id: BigInt(message.id),
          fromUserId: BigInt(message.fromUserId),
          toUserId: BigInt(message.toUserId),
          userLow: BigInt(low),
          userHigh: BigInt(high),
          content: message.content,
          createdAt,
        },
      });
    });
  }

  /** The newest `limit` messages between two users (after `after` when given), newest first. */
  messages(a: number, b: number, after: Date | null, limit: number): Promise<MessageRecord[]> {
    const [low, high] = conversationOf(a, b);
    return this.prisma.message.findMany({
      where: { userLow: BigInt(low), userHigh: BigInt(high), ...(after && { createdAt: { gt: after } }) },
      orderBy: { createdAt: "desc" },
      take: limit,
    });
  }

  /** The latest message between `viewerId` and each of `otherIds` (null where none), one statement. */
  async latestMessages(viewerId: number, otherIds: readonly number[]): Promise<(MessageRecord | null)[]> {
    const rows = await this.prisma.$queryRaw<
      { other: bigint; id: bigint | null; from_user_id: bigint; to_user_id: bigint; content: string; created_at: Date }[]
    >`
      SELECT o.id AS other, m.id, m.from_user_id, m.to_user_id, m.content, m.created_at
      FROM unnest(${otherIds.map(BigInt)}::bigint[]) AS o(id)
      LEFT JOIN LATERAL (
        SELECT * FROM messages
        WHERE user_low = LEAST(o.id, ${BigInt(viewerId)}) AND user_high = GREATEST(o.id, ${BigInt(viewerId)})
        ORDER BY created_at DESC LIMIT 1
      ) m ON true`;
    const byOther = new Map(
      rows
        .filter((row) => row.id !== null)
        .map((row) => [
          Number(row.other),
          { id: row.id!, fromUserId: row.from_user_id, toUserId: row.to_user_id, content: row.content, createdAt: row.created_at },
        ]),
    );
    return otherIds.map((id) => byOther.get(id) ?? null);
  }

  /** Applies a counter event atomically and at most once (see platform/counters.ts). */
  applyCounterEvent(event: CounterJob): Promise<boolean> {
    return applyOnce(this.prisma, event.eventId, async (tx) => {
      for (const change of event.changes) {
        const column = COUNTER_COLUMNS[change.field];
        await tx.$executeRawUnsafe(
          `INSERT INTO user_stats (user_id, ${column}, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (user_id) DO UPDATE SET ${column} = user_stats.${column} + $2, updated_at = now()`,
          BigInt(change.userId),
          change.delta,
        );
      }
    });
  }

  pruneCounterEvents(appliedBefore: Date): Promise<number> {
    return pruneLedger(this.prisma, appliedBefore);
  }

  /**
   * Recomputes follow_count and follower_count from the follows; returns how many users'
   * counters were wrong (and are now right).
   */
  reconcileFollowCounts(): Promise<number> {
    return this.prisma.$executeRaw`
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
}
