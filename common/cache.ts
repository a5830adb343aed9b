// Read-through caching in Redis for hot reads: TTLs with random jitter, negative entries for
// ids that do not exist, and invalidation that deletes at once and again a moment later (the
// second delete, scheduled by the caller, closes the window in which a reader that loaded the
// old row before the write stores it after the first delete). Redis failing or flushed only
// costs a database read: the cache never decides an answer on its own.
import type { Redis } from "ioredis";
import type { Config } from "./config";
import type { Logger } from "./logger";
import { redisKey } from "./redis";

const NEGATIVE = "null";

/** JSON that keeps bigint and Date values. */
function encode(value: unknown): string {
  return JSON.stringify(value, function (key, item) {
    const raw = (this as Record<string, unknown>)[key];
    if (typeof item === "bigint") return { $bigint: item.toString() };
    if (raw instanceof Date) return { $date: raw.getTime() };
    return item;
  });
}

function decode<V>(text: string): V {
  return JSON.parse(text, (_key, item) => {
    if (item && typeof item === "object" && "$bigint" in item) return BigInt(item.$bigint);
    if (item && typeof item === "object" && "$date" in item) return new Date(item.$date);
    return item;
  }) as V;
}

export class ReadThroughCache<Key extends string | number, Value> {
  constructor(
    private readonly redis: Redis,
    private readonly config: Pick<Config, "redis" | "cache">,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {}

  key(id: Key): string {
    return redisKey(this.config, this.namespace, id);
  }

  private ttl(negative: boolean): number {
    const base = negative ? this.config.cache.negativeTtlSeconds : this.config.cache.ttlSeconds;
    return Math.round(base * (1 + Math.random() * this.config.cache.ttlJitter));
  }

  /** Values for `ids` in order: cached ones from Redis, the rest from `load` (then cached). */
  async loadMany(ids: readonly Key[], load: (missing: Key[]) => Promise<(Value | null)[]>): Promise<(Value | null)[]> {
    let cached: (string | null)[];
    try {
      cached = ids.length > 0 ? await this.redis.mget(ids.map((id) => this.key(id))) : [];
    } catch (error) {
      this.log.warn({ err: error, cache: this.namespace }, "cache unreadable; using the database");
      return load([...ids]);
    }
    const missing = ids.filter((_, i) => cached[i] === null);
    const loaded = missing.length > 0 ? await load(missing) : [];
    if (missing.length > 0) {
      const write = this.redis.pipeline();
      missing.forEach((id, i) => {
        const value = loaded[i] ?? null;
        write.set(this.key(id), value === null ? NEGATIVE : encode(value), "EX", this.ttl(value === null));
      });
      await write.exec().catch((error) => this.log.warn({ err: error, cache: this.namespace }, "cache write failed"));
    }
    const fresh = new Map(missing.map((id, i) => [id, loaded[i] ?? null]));
    return ids.map((id, i) => {
      const text = cached[i];
      if (text === null || text === undefined) return fresh.get(id) ?? null;
      return text === NEGATIVE ? null : decode<Value>(text);
    });
  }

  /** Deletes the entries now; returns their keys for the caller's delayed second delete. */
  async invalidate(ids: readonly Key[]): Promise<string[]> {
    const keys = ids.map((id) => this.key(id));
    if (keys.length > 0) await deleteKeys(this.redis, keys, this.log);
    return keys;
  }
}

export async function deleteKeys(redis: Redis, keys: string[], log: Logger): Promise<void> {
  try {
    await redis.del(...keys);
  } catch (error) {
    log.error({ err: error, keys }, "cache invalidation failed; entries may be stale until their TTL");
  }
}
