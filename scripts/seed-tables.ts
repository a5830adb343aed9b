// The seeder's bulk writers: many rows per statement straight into each subgraph's tables
// (skipping rows that exist, so seeding twice adds nothing), without counter changes — the
// seeder reconciles every counter afterwards. Only `npm run seed:demo` writes this way; the
// subgraphs' stores hold what the running system does.
import type { PrismaClient as RelationClient } from "../generated/prisma/relation/client";
import type { PrismaClient as UserClient } from "../generated/prisma/user/client";
import type { PrismaClient as VideoClient } from "../generated/prisma/video/client";
import type { NewVideo } from "../subgraphs/video/store";
import { conversationOf } from "../subgraphs/relation/store";

export class DemoTables {
  constructor(
    private readonly users: UserClient,
    private readonly videos: VideoClient,
    private readonly relations: RelationClient,
  ) {}

  async insertUsers(users: { id: number; username: string; passwordHash: string }[]): Promise<number> {
    const { count } = await this.users.user.createMany({
      data: users.map((user) => ({ ...user, id: BigInt(user.id) })),
      skipDuplicates: true,
    });
    return count;
  }

  /** What the relation subgraph's `user-registered` consumer records. */
  async rememberUsers(userIds: number[]): Promise<number> {
    const { count } = await this.relations.knownUser.createMany({
      data: userIds.map((id) => ({ userId: BigInt(id) })),
      skipDuplicates: true,
    });
    return count;
  }

  async insertVideos(videos: (NewVideo & { createdAt: Date })[]): Promise<number> {
    const { count } = await this.videos.video.createMany({
      data: videos.map((video) => ({ ...video, id: BigInt(video.id), authorId: BigInt(video.authorId) })),
      skipDuplicates: true,
    });
    return count;
  }

  async insertLikes(likes: { userId: number; videoId: number; createdAt: Date }[]): Promise<number> {
    const { count } = await this.videos.like.createMany({
      data: likes.map((like) => ({ userId: BigInt(like.userId), videoId: BigInt(like.videoId), createdAt: like.createdAt })),
      skipDuplicates: true,
    });
    return count;
  }

  async insertComments(comments: { id: number; videoId: number; userId: number; content: string; createdAt: Date }[]): Promise<number> {
    const { count } = await this.videos.comment.createMany({
      data: comments.map((c) => ({ ...c, id: BigInt(c.id), videoId: BigInt(c.videoId), userId: BigInt(c.userId) })),
      skipDuplicates: true,
    });
    return count;
  }

  async insertFollows(follows: { followerId: number; followeeId: number; createdAt: Date }[]): Promise<number> {
    const { count } = await this.relations.follow.createMany({
      data: follows.map((f) => ({ followerId: BigInt(f.followerId), followeeId: BigInt(f.followeeId), createdAt: f.createdAt })),
      skipDuplicates: true,
    });
    return count;
  }

  /** Times must already increase per conversation (chat polling relies on it). */
  async insertMessages(
    messages: { id: number; fromUserId: number; toUserId: number; content: string; createdAt: Date }[],
  ): Promise<number> {
    const { count } = await this.relations.message.createMany({
      data: messages.map((m) => {
        const [low, high] = conversationOf(m.fromUserId, m.toUserId);
        return {
          id: BigInt(m.id),
          fromUserId: BigInt(m.fromUserId),
          toUserId: BigInt(m.toUserId),
          userLow: BigInt(low),
          userHigh: BigInt(high),
          content: m.content,
          createdAt: m.createdAt,
        };
      }),
      skipDuplicates: true,
    });
    return count;
  }
}
