// The relation subgraph's message store: rows in its database, and the most recent messages of
// each conversation in a Redis sorted set (score = creation time in ms) that chat polls read.
// The cache only ever answers what it holds completely; anything else goes to the database,
// so a flushed or partial cache never changes an answer.
import type { Redis } from "ioredis";
import type { Config } from "../../common/config";
import { badInput, notFound } from "../../common/errors";
import type { IdGenerator } from "../../common/ids";
import type { Logger } from "../../common/logger";
import { redisKey } from "../../common/redis";
import { checkText } from "../../common/text";
import type { SensitiveWordFilter } from "../../common/text-filter";
import type { PrismaClient } from "../../generated/prisma/relation/client";

export interface MessageRecord {
  id: bigint;
  fromUserId: bigint;
  toUserId: bigint;
  content: string;
  createdAt: Date;
}

interface CachedMessage {
  id: string;
  from: string;
  to: string;
  content: string;
  t: number;
}

const pair = (a: number, b: number) => (a < b ? [a, b] : [b, a]) as [number, number];

export class MessageData {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly redis: Redis,
    private readonly config: Pick<Config, "redis" | "chat" | "limits">,
    private readonly ids: IdGenerator,
    private readonly words: SensitiveWordFilter,
    private readonly userExists: (userId: number) => Promise<boolean>,
    private readonly log: Logger,
  ) {}

  private key(a: number, b: number): string {
    const [low, high] = pair(a, b);
    return redisKey(this.config, "chat", low, high);
  }

  async send(fromUserId: number, toUserId: number, rawContent: string): Promise<MessageRecord> {
    if (fromUserId === toUserId) throw badInput("you cannot send a message to yourself");
    const content = this.words.mask(checkText(rawContent, "content", { max: this.config.limits.message }));
    if (!(await this.userExists(toUserId))) throw notFound(`user ${toUserId} not found`);
    const [low, high] = pair(fromUserId, toUserId);
    const id = BigInt(this.ids.next());
    // Sends within one conversation take turns, and each gets a creation time after the last
    // one's: commit order equals time order, so a poll with the last time seen misses nothing.
    const message = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`chat:${low}:${high}`}))`;
      const [last] = await tx.$queryRaw<{ created_at: Date | null }[]>`
        SELECT max(created_at) AS created_at FROM messages WHERE user_low = ${BigInt(low)} AND user_high = ${BigInt(high)}`;
      const createdAt = new Date(Math.max(Date.now(), (last?.created_at?.getTime() ?? 0) + 1));
      return tx.message.create({
        data: { id, fromUserId: BigInt(fromUserId), toUserId: BigInt(toUserId), userLow: BigInt(low), userHigh: BigInt(high), content, createdAt },
      });
    });
    await this.cacheAdd(fromUserId, toUserId, [message]);
    return message;
  }

  /** Messages between two users, oldest first; only those created after `after` when given. */
  async chat(viewerId: number, otherId: number, after: Date | null): Promise<MessageRecord[]> {
    if (after) {
      const cached = await this.fromCache(viewerId, otherId, after.getTime());
      if (cached) return cached;
    }
    const [low, high] = pair(viewerId, otherId);
    const rows = await this.prisma.message.findMany({
      where: { userLow: BigInt(low), userHigh: BigInt(high), ...(after && { createdAt: { gt: after } }) },
      orderBy: { createdAt: "desc" },
      take: this.config.chat.pageMax,
    });
    if (!after) await this.cacheFill(viewerId, otherId, rows);
    return rows.reverse();
  }

  /** The latest message between `viewerId` and each of `otherIds` (null where none), one statement. */
  async latestWith(viewerId: number, otherIds: readonly number[]): Promise<(MessageRecord | null)[]> {
    const rows = await this.prisma.$queryRaw<{ other: bigint; id: bigint | null; from_user_id: bigint; to_user_id: bigint; content: string; created_at: Date }[]>`
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

  private async fromCache(a: number, b: number, afterMs: number): Promise<MessageRecord[] | undefined> {
    const key = this.key(a, b);
    try {
      const oldest = await this.redis.zrange(key, 0, 0, "WITHSCORES");
      if (oldest.length === 0) return undefined;
      // The set holds every message from its oldest one on (all of them, when it starts with
      // the marker): usable when that is at or before `after`.
      if (oldest[0] !== COMPLETE_MARKER && Number(oldest[1]) > afterMs) return undefined;
      const members = await this.redis.zrangebyscore(key, `(${afterMs}`, "+inf");
      return members.slice(-this.config.chat.pageMax).map((member) => {
        const cached = JSON.parse(member) as CachedMessage;
        return { id: BigInt(cached.id), fromUserId: BigInt(cached.from), toUserId: BigInt(cached.to), content: cached.content, createdAt: new Date(cached.t) };
      });
    } catch (error) {
      this.log.warn({ err: error }, "chat cache unreadable; reading the database");
      return undefined;
    }
  }

  /**
   * Adds messages; the set stays a suffix of the conversation, trimmed to the newest N (the
   * trim removes the lowest members first, the completeness marker among them).
   */
  private async cacheAdd(a: number, b: number, messages: MessageRecord[], complete = false): Promise<void> {
    const key = this.key(a, b);
    try {
      const transaction = this.redis.multi();
      for (const m of messages) transaction.zadd(key, m.createdAt.getTime(), serialize(m));
      if (complete) transaction.zadd(key, COMPLETE_SCORE, COMPLETE_MARKER);
      transaction.zremrangebyrank(key, 0, -(this.config.chat.cacheSize + 2));
      transaction.expire(key, this.config.chat.cacheTtlSeconds);
      await transaction.exec();
    } catch (error) {
      // A set missing a message must not answer polls: drop it (reads then use the database).
      this.log.warn({ err: error }, "chat cache write failed; dropping the conversation's cache");
      await this.redis.del(key).catch(() => undefined);
    }
  }

  /** Fills the set from the newest rows of the database (`rows` newest first). */
  private async cacheFill(a: number, b: number, rows: MessageRecord[]): Promise<void> {
    const newest = rows.slice(0, this.config.chat.cacheSize);
    // Fewer rows than the set can hold: it holds the whole conversation.
    if (newest.length > 0) await this.cacheAdd(a, b, newest, rows.length < this.config.chat.cacheSize);
  }
}

/** A member below every message: present while the set holds the whole conversation. */
const COMPLETE_MARKER = "~complete";
const COMPLETE_SCORE = -1;

function serialize(m: MessageRecord): string {
  const cached: CachedMessage = { id: String(m.id), from: String(m.fromUserId), to: String(m.toUserId), content: m.content, t: m.createdAt.getTime() };
  return JSON.stringify(cached);
}
