// The relation subgraph's store: the only code that touches its tables (follows, counters and
// their outbox, known users, messages), no rules. A follow or unfollow writes its counter
// changes to the counter outbox in the same statement (see framework/counters.ts).
import { drainCounterOutbox, type CounterChange as AnyCounterChange, type DrainResult } from "../../framework/counters";
import { afterCursor, pageOf, type Cursor, type Page } from "../../lib/pagination";
import { WriteBatcher } from "../../platform/write-batch";
import type { PrismaClient } from "../../generated/prisma/relation/client";

export type CounterChange = AnyCounterChange<"user", "followCount" | "followerCount">;

/** A user's follow counters. */
export interface UserCounters {
  followCount: number;
  followerCount: number;
}

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

/** A message waiting for its run of inserts: `key` is its conversation. */
interface MessageWrite {
  kind: "message";
  key: string;
  id: number;
  fromUserId: number;
  toUserId: number;
  low: number;
  high: number;
  content: string;
}

export interface MessageRecord {
  id: bigint;
  fromUserId: bigint;
  toUserId: bigint;
  content: string;
  createdAt: Date;
}

export type FollowDirection = "following" | "followers";

const followChanges = (followerId: number, followeeId: number, delta: 1 | -1): CounterChange[] => [
  { entity: "user", id: String(followerId), field: "followCount", delta },
  { entity: "user", id: String(followeeId), field: "followerCount", delta },
];

/** Both users of a conversation, lower id first: how a conversation is keyed. */
export const conversationOf = (a: number, b: number) => (a < b ? [a, b] : [b, a]) as [number, number];

export class RelationStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Counters of many users, in the order asked, in one statement; users without a row have zeros. */
  async findCounters(userIds: readonly number[]): Promise<UserCounters[]> {
    const rows = await this.prisma.userStats.findMany({ where: { userId: { in: userIds.map(BigInt) } } });
    const byId = new Map(rows.map((row) => [Number(row.userId), row]));
    return userIds.map((id) => ({ followCount: byId.get(id)?.followCount ?? 0, followerCount: byId.get(id)?.followerCount ?? 0 }));
  }

  /** Counters of the most recently active users, up to `limit` (to warm their cache). */
  async recentCounters(limit: number): Promise<[number, UserCounters][]> {
    const rows = await this.prisma.userStats.findMany({ orderBy: { updatedAt: "desc" }, take: limit });
    return rows.map((row) => [Number(row.userId), { followCount: row.followCount, followerCount: row.followerCount }]);
  }

  /** Everyone each of these users follows (what isFollow is answered from), in one statement. */
  async followeeIds(userIds: readonly number[]): Promise<Set<number>[]> {
    const rows = await this.prisma.follow.findMany({
      where: { followerId: { in: userIds.map(BigInt) } },
      select: { followerId: true, followeeId: true },
    });
    const sets = new Map(userIds.map((id) => [id, new Set<number>()]));
    for (const row of rows) sets.get(Number(row.followerId))?.add(Number(row.followeeId));
    return userIds.map((id) => sets.get(id)!);
  }

  /** Records many announced users at once (bulk loads); idempotent. */
  async rememberUsers(userIds: number[]): Promise<number> {
    const { count } = await this.prisma.knownUser.createMany({ data: userIds.map((id) => ({ userId: BigInt(id) })), skipDuplicates: true });
    return count;
  }

  /** Which of these users were announced: true, or undefined (not known yet), in the order asked. */
  async knownUsers(userIds: readonly number[]): Promise<(true | undefined)[]> {
    const rows = await this.prisma.knownUser.findMany({ where: { userId: { in: userIds.map(BigInt) } }, select: { userId: true } });
    const known = new Set(rows.map((row) => Number(row.userId)));
    return userIds.map((id) => (known.has(id) ? true : undefined));
  }

  /** Inserts the follow with its counter changes; false (and nothing written) when it was there already. */
  async insertFollow(followerId: number, followeeId: number): Promise<boolean> {
    const written = await this.prisma.$executeRaw`
      WITH inserted AS (
        INSERT INTO follows (follower_id, followee_id) VALUES (${BigInt(followerId)}, ${BigInt(followeeId)}) ON CONFLICT DO NOTHING RETURNING follower_id
      )
      INSERT INTO counter_outbox (changes) SELECT ${JSON.stringify(followChanges(followerId, followeeId, 1))}::jsonb FROM inserted`;
    return written === 1;
  }

  /** Removes the follow with its counter changes; false (and nothing written) when there was none. */
  async deleteFollow(followerId: number, followeeId: number): Promise<boolean> {
    const written = await this.prisma.$executeRaw`
      WITH deleted AS (
        DELETE FROM follows WHERE follower_id = ${BigInt(followerId)} AND followee_id = ${BigInt(followeeId)} RETURNING follower_id
      )
      INSERT INTO counter_outbox (changes) SELECT ${JSON.stringify(followChanges(followerId, followeeId, -1))}::jsonb FROM deleted`;
    return written === 1;
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
   * Inserts a message. Sends within one conversation take turns (the lock on its row of
   * conversation_clocks, held until the insert commits), and each gets a creation time after
   * the last one's: commit order equals time order, so a poll with the last time seen misses
   * nothing. A conversation without a clock yet (new, or written in bulk by a seed) starts
   * after its newest message. Messages sent together go in one statement (group commit).
   */
  insertMessage(message: { id: number; fromUserId: number; toUserId: number; content: string }): Promise<MessageRecord> {
    const [low, high] = conversationOf(message.fromUserId, message.toUserId);
    return this.messageWrites.write({ kind: "message", key: `${low}:${high}`, ...message, low, high });
  }

  /** Messages sent together: one statement per run (platform/write-batch.ts keeps each conversation's in order, one per run). */
  private readonly messageWrites = new WriteBatcher<MessageWrite, MessageRecord>(async (_kind, writes) => {
    const now = new Date();
    // Clocks are locked in (low, high) order, so two runs in different processes cannot deadlock.
    const rows = await this.prisma.$queryRaw<{ id: bigint; from_user_id: bigint; to_user_id: bigint; content: string; created_at: Date }[]>`
      WITH input AS (
        SELECT * FROM unnest(${writes.map((w) => BigInt(w.id))}::bigint[], ${writes.map((w) => BigInt(w.fromUserId))}::bigint[],
                             ${writes.map((w) => BigInt(w.toUserId))}::bigint[], ${writes.map((w) => BigInt(w.low))}::bigint[],
                             ${writes.map((w) => BigInt(w.high))}::bigint[], ${writes.map((w) => w.content)}::text[])
          AS t(id, from_user_id, to_user_id, user_low, user_high, content)
      ), clock AS (
        INSERT INTO conversation_clocks (user_low, user_high, last_at)
        SELECT user_low, user_high, GREATEST(${now}::timestamptz, (
          SELECT max(m.created_at) + interval '1 millisecond' FROM messages m WHERE m.user_low = input.user_low AND m.user_high = input.user_high))
        FROM input ORDER BY user_low, user_high
        ON CONFLICT (user_low, user_high)
          DO UPDATE SET last_at = GREATEST(excluded.last_at, conversation_clocks.last_at + interval '1 millisecond')
        RETURNING user_low, user_high, last_at
      )
      INSERT INTO messages (id, from_user_id, to_user_id, user_low, user_high, content, created_at)
      SELECT input.id, input.from_user_id, input.to_user_id, input.user_low, input.user_high, input.content, clock.last_at
      FROM input JOIN clock USING (user_low, user_high)
      RETURNING id, from_user_id, to_user_id, content, created_at`;
    const byId = new Map(rows.map((row) => [row.id, row]));
    return writes.map((write) => {
      const row = byId.get(BigInt(write.id));
      if (!row) throw new Error(`message ${write.id} was not inserted`);
      return { id: row.id, fromUserId: row.from_user_id, toUserId: row.to_user_id, content: row.content, createdAt: row.created_at };
    });
  });

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

  /** Applies up to `limit` pending counter changes, summed, and deletes them, in one transaction. */
  drainCounterChanges(limit: number): Promise<DrainResult<CounterChange>> {
    return this.prisma.$transaction((tx) =>
      drainCounterOutbox<CounterChange>(tx, limit, async (changes) => {
        const sums = new Map<string, UserCounters>();
        for (const change of changes) {
          const counters = sums.get(change.id) ?? { followCount: 0, followerCount: 0 };
          counters[change.field] += change.delta;
          sums.set(change.id, counters);
        }
        if (sums.size > 0) {
          await tx.$executeRaw`
          INSERT INTO user_stats (user_id, follow_count, follower_count, updated_at)
          SELECT d.id, d.follows, d.followers, now()
          FROM unnest(${[...sums.keys()].map(BigInt)}::bigint[], ${[...sums.values()].map((d) => d.followCount)}::int[],
                      ${[...sums.values()].map((d) => d.followerCount)}::int[]) AS d(id, follows, followers)
          ON CONFLICT (user_id) DO UPDATE SET follow_count = user_stats.follow_count + excluded.follow_count,
            follower_count = user_stats.follower_count + excluded.follower_count, updated_at = now()`;
        }
      }),
    );
  }

  /**
   * Recomputes follow_count and follower_count from the follows; returns how many users'
   * counters were wrong (and are now right).
   */
  reconcileFollowCounts(): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      // Writers of new changes wait; pending ones are included in the rows counted here.
      await tx.$executeRaw`LOCK TABLE counter_outbox IN EXCLUSIVE MODE`;
      const fixed = await tx.$executeRaw`
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
      await tx.$executeRaw`DELETE FROM counter_outbox`;
      return fixed;
    });
  }
}
