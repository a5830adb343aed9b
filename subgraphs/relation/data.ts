// The relation subgraph's data module: the only code that touches its Prisma client and queues.
import type { Queue } from "bullmq";
import { userRegisteredJobId, type UserRegisteredEvent } from "../../common/events";
import { badInput, notFound } from "../../common/errors";
import type { IdGenerator } from "../../common/ids";
import type { PrismaClient } from "../../generated/prisma/relation/client";
import type { CounterJob } from "./queues";

/** What the relation subgraph knows about a user, seen by one viewer. */
export interface UserRelationRecord {
  id: number;
  followCount: number;
  followerCount: number;
  isFollow: boolean;
}

export interface UserConnectionRecord {
  /** Ids only: the User fields come from each subgraph's loaders. */
  nodes: { id: number }[];
  nextCursor: string | null;
  hasMore: boolean;
}

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
        followCount: row?.follow_count ?? 0,
        followerCount: row?.follower_count ?? 0,
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
    const cursor = after === null ? null : decodeFollowCursor(after);
    if (cursor === undefined) throw badInput("invalid cursor");
    const own = direction === "following" ? "followerId" : "followeeId";
    const other = direction === "following" ? "followeeId" : "followerId";
    const rows = await this.prisma.follow.findMany({
      where: {
        [own]: BigInt(userId),
        ...(cursor && {
          OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, [other]: { lt: cursor.id } }],
        }),
      },
      orderBy: [{ createdAt: "desc" }, { [other]: "desc" }],
      take: first + 1,
    });
    const page = rows.slice(0, first);
    const last = page.at(-1);
    const hasMore = rows.length > first;
    return {
      nodes: page.map((row) => ({ id: Number(row[other]) })),
      hasMore,
      nextCursor: hasMore && last ? Buffer.from(`${last.createdAt.getTime()}:${last[other]}`).toString("base64url") : null,
    };
  }

  /** Applies a counter event atomically and at most once (its id is recorded in the same transaction). */
  async applyCounterEvent(event: CounterJob): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const recorded = await tx.$executeRaw`INSERT INTO counter_events (event_id) VALUES (${event.eventId}) ON CONFLICT DO NOTHING`;
      if (recorded === 0) return false;
      for (const change of event.changes) {
        const column = COUNTER_COLUMNS[change.field];
        await tx.$executeRawUnsafe(
          `INSERT INTO user_stats (user_id, ${column}, updated_at) VALUES ($1, GREATEST($2, 0), now())
           ON CONFLICT (user_id) DO UPDATE SET ${column} = GREATEST(user_stats.${column} + $2, 0), updated_at = now()`,
          BigInt(change.userId),
          change.delta,
        );
      }
      return true;
    });
  }
}

function decodeFollowCursor(cursor: string): { createdAt: Date; id: bigint } | undefined {
  const match = /^(\d{1,15}):(\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString());
  return match ? { createdAt: new Date(Number(match[1])), id: BigInt(match[2]!) } : undefined;
}
