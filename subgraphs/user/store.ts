// The user subgraph's store: the only code that touches its tables (Prisma), no rules.
import type { PrismaClient, User } from "../../generated/prisma/user/client";
import type { OutboxEvent } from "../../framework/outbox";

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

  /**
   * Inserts the user and the event announcing it in one transaction; a taken username fails
   * with a unique violation (see isUniqueViolation) and leaves neither.
   */
  async createUser(user: { id: number; username: string; passwordHash: string }, announce: OutboxEvent): Promise<UserRecord> {
    const [created] = await this.prisma.$transaction([
      this.prisma.user.create({ data: { ...user, id: BigInt(user.id) }, select: PUBLIC_COLUMNS }),
      this.prisma.eventOutbox.create({ data: { queue: announce.queue, jobId: announce.jobId, payload: announce.payload as object } }),
    ]);
    return created;
  }

  async relayEvents(limit: number, send: (events: OutboxEvent[]) => Promise<void>): Promise<number> {
    return this.prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<{ id: bigint; queue: string; job_id: string; payload: unknown }[]>`
          SELECT id, queue, job_id, payload FROM event_outbox ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return 0;
        await send(rows.map((row) => ({ queue: row.queue, jobId: row.job_id, payload: row.payload })));
        await tx.$executeRaw`DELETE FROM event_outbox WHERE id = ANY(${rows.map((row) => row.id)}::bigint[])`;
        return rows.length;
      },
      // Sending waits on Redis; past this the transaction rolls back and the rows wait.
      { timeout: 15_000, maxWait: 15_000 },
    );
  }

  /**
   * Announces every user again, in events of `batch` ids (the repair for a consumer that missed
   * some): written to the outbox in one statement, relayed like any other event.
   */
  async announceAllUsers(queue: string, batch: number, jobIdPrefix: string): Promise<number> {
    return this.prisma.$executeRaw`
      INSERT INTO event_outbox (queue, job_id, payload)
      SELECT ${queue}, ${jobIdPrefix} || '-' || g, jsonb_build_object('userIds', jsonb_agg(id ORDER BY id))
      FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / ${batch} AS g FROM users) numbered
      GROUP BY g`;
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
}
