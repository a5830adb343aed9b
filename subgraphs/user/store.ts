// The user subgraph's store: the only code that touches its tables (Prisma), no rules.
import type { PrismaClient, User } from "../../generated/prisma/user/client";

/** A user row as resolvers see it: never the password hash. */
export type UserRecord = Omit<User, "passwordHash">;

const PUBLIC_COLUMNS = {
  id: true,
  username: true,
  avatar: true,
  backgroundImage: true,
  signature: true,
  createdAt: true,
  updatedAt: true,
} as const;

export class UserStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Inserts the user; a taken username fails with a unique violation (see isUniqueViolation). */
  createUser(user: { id: number; username: string; passwordHash: string }): Promise<UserRecord> {
    return this.prisma.user.create({ data: { ...user, id: BigInt(user.id) }, select: PUBLIC_COLUMNS });
  }

  /** The row with its password hash, for checking a login. */
  findCredentials(username: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { username } });
  }

  /** The newest users, up to `limit` (to warm the cache of profiles). */
  recentUsers(limit: number): Promise<UserRecord[]> {
    return this.prisma.user.findMany({ select: PUBLIC_COLUMNS, orderBy: { id: "desc" }, take: limit });
  }

  /** One statement for any number of ids; the result lines up with `ids` (null where none). */
  async findByIds(ids: readonly number[]): Promise<(UserRecord | null)[]> {
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids.map(BigInt) } }, select: PUBLIC_COLUMNS });
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Inserts many users at once, skipping ids or usernames that exist (bulk loads, e.g. demo data). */
  async insertUsers(users: { id: number; username: string; passwordHash: string }[]): Promise<number> {
    const { count } = await this.prisma.user.createMany({
      data: users.map((user) => ({ ...user, id: BigInt(user.id) })),
      skipDuplicates: true,
    });
    return count;
  }
}
