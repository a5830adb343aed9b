// Read-through caching for hot reads: TTLs with random jitter, negative entries for ids that
// do not exist, and invalidation that deletes at once and again a moment later (a delayed job),
// which closes the window in which a reader that loaded the old row before a write stores it
// after the first delete. A failing or flushed store only costs a database read: the cache
// never decides an answer on its own.
import type { Config } from "./config";
import type { KeyValueStore } from "./kv";
import type { Logger } from "./logger";
import type { Queues } from "./queues";

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
    private readonly store: KeyValueStore,
    private readonly config: Pick<Config, "cache">,
    readonly namespace: string,
    private readonly log: Logger,
  ) {}

  key(id: Key): string {
    return `${this.namespace}:${id}`;
  }

  private ttl(negative: boolean): number {
    const base = negative ? this.config.cache.negativeTtlSeconds : this.config.cache.ttlSeconds;
    return Math.round(base * (1 + Math.random() * this.config.cache.ttlJitter));
  }

  /** Values for `ids` in order: cached ones from the store, the rest from `load` (then cached). */
  async loadMany(ids: readonly Key[], load: (missing: Key[]) => Promise<(Value | null)[]>): Promise<(Value | null)[]> {
    let cached: (string | null)[];
    try {
      cached = await this.store.get(ids.map((id) => this.key(id)));
    } catch (error) {
      this.log.warn({ err: error, cache: this.namespace }, "cache unreadable; using the database");
      return load([...ids]);
    }
    const missing = ids.filter((_, i) => cached[i] === null);
    const loaded = missing.length > 0 ? await load(missing) : [];
    if (missing.length > 0) {
      const entries = missing.map((id, i) => {
        const value = loaded[i] ?? null;
        return { key: this.key(id), value: value === null ? NEGATIVE : encode(value), ttlSeconds: this.ttl(value === null) };
      });
      await this.store.set(entries).catch((error: unknown) => this.log.warn({ err: error, cache: this.namespace }, "cache write failed"));
    }
    const fresh = new Map(missing.map((id, i) => [id, loaded[i] ?? null]));
    return ids.map((id, i) => {
      const text = cached[i];
      if (text === null || text === undefined) return fresh.get(id) ?? null;
      return text === NEGATIVE ? null : decode<Value>(text);
    });
  }

  async load(id: Key, load: (id: Key) => Promise<Value | null>): Promise<Value | null> {
    const [value] = await this.loadMany([id], async ([missing]) => [await load(missing!)]);
    return value ?? null;
  }
}

interface SecondDeleteJob {
  keys: string[];
}

/**
 * Deletes cache entries after a commit, at once and again CACHE_SECOND_DELETE_MS later. The
 * delayed deletes run on the queue named `queue`, consumed where `work()` is called.
 */
export class CacheInvalidation {
  constructor(
    private readonly store: KeyValueStore,
    private readonly queues: Queues,
    private readonly queue: string,
    private readonly config: Pick<Config, "cache">,
    private readonly log: Logger,
  ) {}

  private async deleteNow(keys: string[]): Promise<void> {
    try {
      await this.store.delete(keys);
    } catch (error) {
      this.log.error({ err: error, keys }, "cache invalidation failed; entries may be stale until their TTL");
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.deleteNow(keys);
    try {
      await this.queues.queue<SecondDeleteJob>(this.queue).add("delete", { keys }, { delayMs: this.config.cache.secondDeleteMs });
    } catch (error) {
      this.log.error({ err: error, keys }, "could not schedule the second cache delete");
    }
  }

  work(): void {
    this.queues.work<SecondDeleteJob, void>(this.queue, (job) => this.deleteNow(job.data.keys), { concurrency: 4 });
  }
}
