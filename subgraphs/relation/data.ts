// The relation subgraph's data module: the only code that touches its Prisma client.
import type { PrismaClient } from "../../generated/prisma/relation/client";

/** What the relation subgraph knows about a user, seen by one viewer. */
export interface UserRelationRecord {
  id: number;
  followCount: number;
  followerCount: number;
  isFollow: boolean;
}

export class RelationData {
  constructor(private readonly prisma: PrismaClient) {}

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
}
