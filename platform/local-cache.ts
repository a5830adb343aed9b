// In-process caches of hot entities (user profiles, counters, video rows, what a viewer likes
// or follows), so a hot read costs no query at all. Exact, not merely fresh-ish:
// - a writer invalidates after its commit, in its own process at once and in every other
//   process through the invalidation bus (Redis pub/sub);
// - a read that was loading while an invalidation came in does not store what it loaded
//   (it may predate the write), so no stale value outlives an invalidation;
// - entries also expire after a TTL, and a process that lost its bus connection drops
//   everything, so a missed message cannot keep a value stale for long.
import type { Redis } from "ioredis";
import type { Counter } from "prom-client";
import type { Logger } from "./logger";

/** A cache name or key meaning "all of them". */
export const EVERYTHING = "*";

export interface InvalidationBus {
  /** Tells every process (this one included) that these keys of `cache` changed (`*` for all caches, or all keys). */
  publish(cache: string, keys: readonly (string | number)[]): void;
  /** Hands this process's invalidations of `cache` to `drop` ("all" after a lost connection). */
  subscribe(cache: string, drop: (keys: string[] | "all") => void): void;
  close(): Promise<void>;
}

/** A bus within one process (the fast tests, tools): nobody else holds a copy. */
export class LocalInvalidationBus implements InvalidationBus {
  private readonly subscribers = new Map<string, ((keys: string[] | "all") => void)[]>();

  /** Every cache forgets everything. */
  protected dropEverything(): void {
    for (const drops of this.subscribers.values()) for (const drop of drops) drop("all");
  }

  publish(cache: string, keys: readonly (string | number)[]): void {
    if (cache === EVERYTHING) return this.dropEverything();
    const list = keys.map(String);
    for (const drop of this.subscribers.get(cache) ?? []) drop(list.includes(EVERYTHING) ? "all" : list);
  }

  subscribe(cache: string, drop: (keys: string[] | "all") => void): void {
    this.subscribers.set(cache, [...(this.subscribers.get(cache) ?? []), drop]);
  }

  async close(): Promise<void> {}
}

interface BusMessage {
  origin: string;
  cache: string;
  keys: string[];
}

/**
 * Invalidations over Redis pub/sub on one channel per deployment. `subscriber` is a connection
 * of its own (a subscribed connection can do nothing else).
 */
export class RedisInvalidationBus extends LocalInvalidationBus {
  private readonly channel: string;
  private readonly origin = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  private connectedBefore = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly log: Logger,
  ) {
    super();
    this.channel = `${prefix}:cache-invalidation`;
    subscriber.on("message", (channel: string, text: string) => {
      if (channel !== this.channel) return;
      let message: BusMessage;
      try {
        message = JSON.parse(text) as BusMessage;
      } catch {
        return;
      }
      // This process applied its own invalidations when it published them.
      if (message.origin !== this.origin) super.publish(message.cache, message.keys);
    });
    // Messages sent while the connection was down are gone: forget everything instead.
    subscriber.on("ready", () => {
      if (this.connectedBefore) {
        this.log.warn("cache invalidation bus reconnected; dropping every local cache entry");
        this.dropEverything();
      }
      this.connectedBefore = true;
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
    this.connectedBefore = true;
  }

  override publish(cache: string, keys: readonly (string | number)[]): void {
    super.publish(cache, keys);
    const message: BusMessage = { origin: this.origin, cache, keys: keys.map(String) };
    this.publisher.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      // Other processes keep the old value until its TTL: say so.
      this.log.error({ err: error, cache }, "could not publish a cache invalidation");
    });
  }

  override async close(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

export interface LocalCacheOptions {
  maxEntries: number;
  ttlMs: number;
}

/**
 * One named cache: values by key, loaded in batches for the keys that are missing. A loader
 * answers `undefined` for a key that has no value; that is not cached (a later read asks again).
 */
export class LocalCache<Key extends string | number, Value> {
  private readonly entries = new Map<Key, { value: Value; expiresAt: number }>();
  /** Loads in flight, by key: an invalidation marks them, and marked ones are not stored. */
  private readonly loading = new Map<Key, { stale: boolean }[]>();
  private readonly hits: { inc(count: number): void } | undefined;
  private readonly misses: { inc(count: number): void } | undefined;

  constructor(
    readonly name: string,
    private readonly options: LocalCacheOptions,
    private readonly bus: InvalidationBus,
    lookups?: Counter<"cache" | "result">,
  ) {
    bus.subscribe(name, (keys) => this.drop(keys));
    this.hits = lookups?.labels({ cache: name, result: "hit" });
    this.misses = lookups?.labels({ cache: name, result: "miss" });
  }

  private fresh(key: Key, now: number): Value | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  get(key: Key): Value | undefined {
    return this.fresh(key, Date.now());
  }

  /** Values in the order asked (undefined where none): cached ones at once, the rest from `load`. */
  async loadMany(keys: readonly Key[], load: (missing: Key[]) => Promise<(Value | undefined)[]>): Promise<(Value | undefined)[]> {
    const now = Date.now();
    const values = keys.map((key) => this.fresh(key, now));
    const missing = keys.filter((_, i) => values[i] === undefined);
    if (keys.length > missing.length) this.hits?.inc(keys.length - missing.length);
    if (missing.length === 0) return values;
    this.misses?.inc(missing.length);
    const tokens = missing.map((key) => {
      const token = { stale: false };
      this.loading.set(key, [...(this.loading.get(key) ?? []), token]);
      return token;
    });
    let loaded: (Value | undefined)[];
    try {
      loaded = await load(missing);
    } finally {
      missing.forEach((key, i) => {
        const pending = (this.loading.get(key) ?? []).filter((token) => token !== tokens[i]);
        if (pending.length > 0) this.loading.set(key, pending);
        else this.loading.delete(key);
      });
    }
    const byKey = new Map<Key, Value | undefined>();
    missing.forEach((key, i) => {
      const value = loaded[i];
      byKey.set(key, value);
      if (value !== undefined && !tokens[i]!.stale) this.store(key, value, now);
    });
    return keys.map((key, i) => values[i] ?? byKey.get(key));
  }

  async load(key: Key, load: (key: Key) => Promise<Value | undefined>): Promise<Value | undefined> {
    const [value] = await this.loadMany([key], async ([missing]) => [await load(missing!)]);
    return value;
  }

  private store(key: Key, value: Value, now: number): void {
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= this.options.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
  }

  /** After a commit: drop these keys here and in every other process. */
  invalidate(keys: readonly Key[]): void {
    if (keys.length > 0) this.bus.publish(this.name, keys);
  }

  /** After a change to many entries at once (reconciliation): drop everything, everywhere. */
  invalidateAll(): void {
    this.bus.publish(this.name, [EVERYTHING]);
  }

  private drop(keys: string[] | "all"): void {
    if (keys === "all") {
      this.entries.clear();
      for (const tokens of this.loading.values()) for (const token of tokens) token.stale = true;
      return;
    }
    for (const text of keys) {
      // Keys travel as text; numeric ids are stored as numbers.
      for (const candidate of (/^\d+$/.test(text) ? [Number(text), text] : [text]) as Key[]) {
        this.entries.delete(candidate);
        for (const token of this.loading.get(candidate) ?? []) token.stale = true;
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
