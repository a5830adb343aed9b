// The user subgraph's data module: the only code that touches its Prisma client and sessions.
import argon2 from "argon2";
import type { Config } from "../../common/config";
import type { Queue } from "bullmq";
import { isUniqueViolation } from "../../common/database";
import { userRegisteredJobId, type UserRegisteredEvent } from "../../common/events";
import { badInput, unauthenticated } from "../../common/errors";
import type { IdGenerator } from "../../common/ids";
import type { Viewer } from "../../common/subgraph-host";
import { checkText } from "../../common/text";
import type { SessionStore } from "../../common/tokens";
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

export class UserData {
  /** Verified against when the username is unknown, so a miss costs as long as a wrong password. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly sessions: SessionStore,
    private readonly ids: IdGenerator,
    private readonly config: Pick<Config, "limits" | "auth">,
    private readonly userEvents: Queue<UserRegisteredEvent>,
  ) {
    this.decoyHash = this.hash("decoy-password-for-unknown-users");
  }

  private hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.config.auth.argon2 });
  }

  private checkCredentials(username: string, password: string): void {
    checkText(username, "username", { max: this.config.limits.username, singleLine: true });
    checkText(password, "password", { max: this.config.limits.password, singleLine: true });
  }

  async register(username: string, password: string): Promise<{ token: string; user: UserRecord }> {
    this.checkCredentials(username, password);
    const passwordHash = await this.hash(password);
    let user: UserRecord;
    try {
      user = await this.prisma.user.create({
        data: { id: BigInt(this.ids.next()), username, passwordHash },
        select: PUBLIC_COLUMNS,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw badInput("username is already taken");
      throw error;
    }
    await this.userEvents.add("registered", { userId: Number(user.id) }, { jobId: userRegisteredJobId(Number(user.id)) });
    const { token } = await this.sessions.open(Number(user.id));
    return { token, user };
  }

  async login(username: string, password: string): Promise<{ token: string; user: UserRecord }> {
    this.checkCredentials(username, password);
    const row = await this.prisma.user.findUnique({ where: { username } });
    const passwordMatches = await argon2.verify(row?.passwordHash ?? (await this.decoyHash), password);
    if (!row || !passwordMatches) throw unauthenticated("wrong username or password");
    const { passwordHash: _, ...user } = row;
    const { token } = await this.sessions.open(Number(user.id));
    return { token, user };
  }

  async logout(viewer: Viewer): Promise<boolean> {
    return this.sessions.revoke(viewer.sessionId);
  }

  /** One statement for any number of ids; the result lines up with `ids` (null where none). */
  async findByIds(ids: readonly number[]): Promise<(UserRecord | null)[]> {
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids.map(BigInt) } }, select: PUBLIC_COLUMNS });
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
