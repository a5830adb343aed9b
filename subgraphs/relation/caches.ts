// The relation subgraph's caches: users' follow counters and whom each viewer follows, in
// process (platform/local-cache.ts, invalidated after each commit and by the counter drainer),
// and the most recent messages of each conversation in a Redis sorted set (score = creation
// time in ms) that chat polls read. The chat cache only ever answers what it holds
// completely; anything else goes to the database, so a flushed or partial cache never changes
// an answer. Without Redis (the in-memory platform) there is no chat cache at all.
import type { Redis } from "ioredis";
import type { Config } from "../../platform/config";
import type { LocalCache } from "../../platform/local-cache";
import type { Logger } from "../../platform/logger";
import type { SubgraphDeps } from "../../framework/subgraph";
import { conversationOf, type MessageRecord, type RelationStore, type UserCounters } from "./store";

export class RelationCaches {
  readonly counters: LocalCache<number, UserCounters>;
  /** Whom each viewer follows: isFollow for any user is a set lookup. */
  readonly followeesOf: LocalCache<number, Set<number>>;
  /** Users known to exist (a user never stops existing, so only "known" is kept; misses ask again). */
  readonly knownUsers: LocalCache<number, true>;

  constructor(
    deps: Pick<SubgraphDeps, "cache">,
    store: RelationStore,
    readonly chat: ChatCache,
  ) {
    this.counters = deps.cache("follow-counters", (ids) => store.findCounters(ids));
    this.followeesOf = deps.cache("followees", (ids) => store.followeeIds(ids));
    this.knownUsers = deps.cache("known-users", (ids) => store.knownUsers(ids));
  }
}

export interface ChatCache {
  /** Every message after `afterMs`, oldest first, when the cache holds them all; undefined otherwise. */
  after(a: number, b: number, afterMs: number): Promise<MessageRecord[] | undefined>;
  /** Adds messages just written. */
  append(a: number, b: number, messages: MessageRecord[]): Promise<void>;
  /** Fills the cache from the newest rows of the database (`rows` newest first, as many as were asked). */
  fill(a: number, b: number, rows: MessageRecord[]): Promise<void>;
}

export const noChatCache: ChatCache = {
  after: async () => undefined,
  append: async () => undefined,
  fill: async () => undefined,
};

interface CachedMessage {
  id: string;
  from: string;
  to: string;
  content: string;
  t: number;
}

/** A member below every message: present while the set holds the whole conversation. */
const COMPLETE_MARKER = "~complete";
const COMPLETE_SCORE = -1;

function serialize(m: MessageRecord): string {
  const cached: CachedMessage = {
    id: String(m.id),
    from: String(m.fromUserId),
    to: String(m.toUserId),
    content: m.content,
    t: m.createdAt.getTime(),
  };
  return JSON.stringify(cached);
}

export class RedisChatCache implements ChatCache {
  constructor(
    private readonly redis: Redis,
    private readonly config: Pick<Config, "redis" | "chat">,
    private readonly log: Logger,
  ) {}

  private key(a: number, b: number): string {
    const [low, high] = conversationOf(a, b);
    return `${this.config.redis.prefix}:chat:${low}:${high}`;
  }

  async after(a: number, b: number, afterMs: number): Promise<MessageRecord[] | undefined> {
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
        return {
          id: BigInt(cached.id),
          fromUserId: BigInt(cached.from),
          toUserId: BigInt(cached.to),
          content: cached.content,
          createdAt: new Date(cached.t),
        };
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
  async append(a: number, b: number, messages: MessageRecord[], complete = false): Promise<void> {
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

  async fill(a: number, b: number, rows: MessageRecord[]): Promise<void> {
    const newest = rows.slice(0, this.config.chat.cacheSize);
    // Fewer rows than the set can hold: it holds the whole conversation.
    if (newest.length > 0) await this.append(a, b, newest, rows.length < this.config.chat.cacheSize);
  }
}
