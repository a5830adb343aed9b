// The video subgraph's data module: the only code that touches its Prisma client.
import type { PrismaClient } from "../../generated/prisma/video/client";

/** What the video subgraph knows about a user: counters computed from its own rows. */
export interface UserStatsRecord {
  id: number;
  workCount: number;
  favoriteCount: number;
  totalFavorited: number;
}

export class VideoData {
  constructor(private readonly prisma: PrismaClient) {}

  /** One statement for any number of users; users without a row have all counters at zero. */
  async findUserStats(userIds: readonly number[]): Promise<UserStatsRecord[]> {
    const rows = await this.prisma.userStats.findMany({ where: { userId: { in: userIds.map(BigInt) } } });
    const byId = new Map(rows.map((row) => [Number(row.userId), row]));
    return userIds.map((id) => {
      const row = byId.get(id);
      return {
        id,
        workCount: row?.workCount ?? 0,
        favoriteCount: row?.favoriteCount ?? 0,
        totalFavorited: Number(row?.totalFavorited ?? 0),
      };
    });
  }
}
