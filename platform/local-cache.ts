// In-process caches of hot entities (user profiles, counters, video rows, what a viewer likes
// or follows), so a hot read costs no query at all. Exact, not merely fresh-ish:
// - a writer invalidates after its commit, in its own process at once and in every other
//   process through the invalidation bus (Redis pub/sub), and answers its client only once
//   every other process has said it dropped the keys (or a short deadline passed), so a read
//   on any replica right after a write never finds what the write changed;
// - a read that was loading while an invalidation came in does not store what it loaded
//   (it may predate the write), so no stale value outlives an invalidation;
// - entries also expire after a TTL, and a process that lost its bus connection drops
//   everything, so a missed message cannot keep a value stale for long.
import type { Redis } from "ioredis";
import type { Counter } from "prom-client";
import type { MaybePromise } from "../lib/maybe";
import type { Logger } from "./logger";

/** A cache name or key meaning "all of them". */
export const EVERYTHING = "*";

export interface InvalidationBus {
  /** Tells every process (this one included) that these keys of `cache` changed (`*` for all caches, or all keys); nobody waits. */
  publish(cache: string, keys: readonly (string | number)[]): void;
  /**
   * Drops these keys of `cache` here at once and in every other process; resolves once every
   * other process listening has acknowledged it, or after the bus's deadline (then logged and
   * counted). What a writer awaits before it answers.
   */
  invalidate(cache: string, keys: readonly (string | number)[]): Promise<void>;
  /** Hands this process's invalidations of `cache` to `drop` ("all" after a lost connection). */
  subscribe(cache: string, drop: (keys: string[] | "all") => void): void;
  /** Calls `then` after every cache dropped everything (to fill them again). */
  afterDropEverything(then: () => void): void;
  close(): Promise<void>;
}

/** A bus within one process (the fast tests, tools): nobody else holds a copy. */
export class LocalInvalidationBus implements InvalidationBus {
  private readonly subscribers = new Map<string, ((keys: string[] | "all") => void)[]>();
  private readonly refills: (() => void)[] = [];

  /** Every cache forgets everything. */
  protected dropEverything(): void {
    for (const drops of this.subscribers.values()) for (const drop of drops) drop("all");
    for (const refill of this.refills) refill();
  }

  afterDropEverything(then: () => void): void {
    this.refills.push(then);
  }

  publish(cache: string, keys: readonly (string | number)[]): void {
    if (cache === EVERYTHING) return this.dropEverything();
    const list = keys.map(String);
    for (const drop of this.subscribers.get(cache) ?? []) drop(list.includes(EVERYTHING) ? "all" : list);
  }

  async invalidate(cache: string, keys: readonly (string | number)[]): Promise<void> {
    this.publish(cache, keys);
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
  /** Set when the sender waits: receivers answer it on the sender's acknowledgement channel. */
  ack?: string;
}

export interface InvalidationOptions {
  /** Longest a writer waits for the other processes' acknowledgements. */
  ackTimeoutMs: number;
  /** Called with how long an acknowledged invalidation took, and whether every process answered in time. */
  observe?(seconds: number, complete: boolean): void;
}

interface AwaitedInvalidation {
  remaining: number;
  started: number;
  timer: NodeJS.Timeout;
  resolve(): void;
}

/**
 * Invalidations over Redis pub/sub on one channel per deployment. `subscriber` is a connection
 * of its own (a subscribed connection can do nothing else).
 */
export class RedisInvalidationBus extends LocalInvalidationBus {
  private readonly channel: string;
  private readonly origin = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  /** Where other processes acknowledge this one's invalidations. */
  private readonly ackChannel: string;
  private readonly awaited = new Map<string, AwaitedInvalidation>();
  private sequence = 0;
  private connectedBefore = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly log: Logger,
    private readonly options: InvalidationOptions = { ackTimeoutMs: 500 },
  ) {
    super();
    this.channel = `${prefix}:cache-invalidation`;
    this.ackChannel = `${this.channel}:ack:${this.origin}`;
    subscriber.on("message", (channel: string, text: string) => {
      if (channel === this.ackChannel) return this.acknowledged(text);
      if (channel !== this.channel) return;
      let message: BusMessage;
      try {
        message = JSON.parse(text) as BusMessage;
      } catch {
        return;
      }
      // This process applied its own invalidations when it published them.
      if (message.origin === this.origin) return;
      super.publish(message.cache, message.keys);
      if (message.ack) {
        this.publisher.publish(`${this.channel}:ack:${message.origin}`, message.ack).catch((error: unknown) => {
          this.log.warn({ err: error }, "could not acknowledge a cache invalidation; its writer waits out its deadline");
        });
      }
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
    await this.subscriber.subscribe(this.channel, this.ackChannel);
    this.connectedBefore = true;
  }

  override async invalidate(cache: string, keys: readonly (string | number)[]): Promise<void> {
    super.publish(cache, keys);
    const ack = `${this.origin}:${++this.sequence}`;
    const message: BusMessage = { origin: this.origin, cache, keys: keys.map(String), ack };
    const started = performance.now();
    let receivers: number;
    try {
      receivers = await this.publisher.publish(this.channel, JSON.stringify(message));
    } catch (error) {
      // Other processes keep the old value until they reconnect (which drops everything) or its TTL.
      this.log.error({ err: error, cache }, "could not publish a cache invalidation");
      this.options.observe?.((performance.now() - started) / 1000, false);
      return;
    }
    // Every subscriber heard it, this process's own among them: wait for the others to drop the keys.
    const remaining = receivers - 1;
    if (remaining <= 0) return this.options.observe?.((performance.now() - started) / 1000, true);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const waiting = this.awaited.get(ack);
        this.awaited.delete(ack);
        this.log.warn(
          { cache, unanswered: waiting?.remaining, ms: this.options.ackTimeoutMs },
          "processes did not acknowledge a cache invalidation in time; a read there may be stale until they do",
        );
        this.options.observe?.((performance.now() - started) / 1000, false);
        resolve();
      }, this.options.ackTimeoutMs);
      this.awaited.set(ack, { remaining, started, timer, resolve });
    });
  }

  private acknowledged(ack: string): void {
    const waiting = this.awaited.get(ack);
    if (!waiting || --waiting.remaining > 0) return;
    this.awaited.delete(ack);
    clearTimeout(waiting.timer);
    this.options.observe?.((performance.now() - waiting.started) / 1000, true);
    waiting.resolve();
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
    for (const [ack, waiting] of this.awaited) {
      clearTimeout(waiting.timer);
      waiting.resolve();
      this.awaited.delete(ack);
    }
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

export interface LocalCacheOptions {
  maxEntries: number;
  ttlMs: number;
}

/** Loads values for keys, in the order asked; `undefined` for a key that has no value (not cached). */
export type BatchLoader<Key, Value> = (keys: Key[]) => Promise<(Value | undefined)[]>;

interface Waiting<Value> {
  resolve(value: Value | undefined): void;
  reject(error: unknown): void;
}

/**
 * One named cache: values by key. Misses are loaded in batches across every request in flight
 * (the keys missed during one turn of the event loop go to the loader together, and a key
 * already being loaded is waited for, not loaded twice), so under load a miss costs a share
 * of one query, not a query.
 */
export class LocalCache<Key extends string | number, Value> {
  private readonly entries = new Map<Key, { value: Value; expiresAt: number }>();
  /** Loads in flight, by key: an invalidation marks them, and marked ones are not stored. */
  private readonly loading = new Map<Key, { stale: boolean; waiters: Waiting<Value>[] }>();
  private readonly waiting = new Map<Key, Waiting<Value>[]>();
  private queued: Key[] = [];
  /** While warming: keys invalidated since it started (or every key), which it must not store. */
  private invalidatedWhileWarming: Set<Key> | "all" | undefined;
  private readonly hits: { inc(count: number): void } | undefined;
  private readonly misses: { inc(count: number): void } | undefined;

  constructor(
    readonly name: string,
    private readonly options: LocalCacheOptions,
    private readonly bus: InvalidationBus,
    private readonly loader: BatchLoader<Key, Value>,
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

  /** Values in the order asked (undefined where none): cached ones at once, the rest loaded. */
  async loadMany(keys: readonly Key[]): Promise<(Value | undefined)[]> {
    const now = Date.now();
    const values = keys.map((key) => this.fresh(key, now));
    let missing = 0;
    const loads = keys.map((key, i) => {
      if (values[i] !== undefined) return values[i];
      missing += 1;
      return this.enqueue(key);
    });
    if (keys.length > missing) this.hits?.inc(keys.length - missing);
    if (missing === 0) return values;
    this.misses?.inc(missing);
    return Promise.all(loads);
  }

  async load(key: Key): Promise<Value | undefined> {
    const cached = this.fresh(key, Date.now());
    if (cached === undefined) return (await this.loadMany([key]))[0];
    // Counted as loadMany counts its hits, or cache_lookups_total would show only misses here.
    this.hits?.inc(1);
    return cached;
  }

  private enqueue(key: Key): Promise<Value | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.waiting.get(key);
      if (waiting) return void waiting.push({ resolve, reject });
      this.waiting.set(key, [{ resolve, reject }]);
      if (this.queued.length === 0) setImmediate(() => void this.flush());
      this.queued.push(key);
    });
  }

  private async flush(): Promise<void> {
    const keys = this.queued;
    this.queued = [];
    // Requests for a key being loaded join its waiters, until an invalidation: then the load
    // may predate the write, and later requests start a load of their own.
    const tokens = keys.map((key) => {
      const token = { stale: false, waiters: this.waiting.get(key) ?? [] };
      this.loading.set(key, token);
      return token;
    });
    const now = Date.now();
    let loaded: (Value | undefined)[] | undefined;
    let failure: unknown;
    try {
      loaded = await this.loader(keys);
    } catch (error) {
      failure = error;
    }
    keys.forEach((key, i) => {
      const token = tokens[i]!;
      if (this.loading.get(key) === token) this.loading.delete(key);
      if (this.waiting.get(key) === token.waiters) this.waiting.delete(key);
      if (!loaded) return token.waiters.forEach((waiter) => waiter.reject(failure));
      const value = loaded[i];
      if (value !== undefined && !token.stale) this.store(key, value, now);
      token.waiters.forEach((waiter) => waiter.resolve(value));
    });
  }

  private store(key: Key, value: Value, now: number): void {
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= this.options.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
  }

  /** After a commit: drop these keys here and in every other process; resolves once they all have (answer the writer then). */
  async invalidate(keys: readonly Key[]): Promise<void> {
    if (keys.length > 0) await this.bus.invalidate(this.name, keys);
  }

  /** After a change to many entries at once (reconciliation): drop everything, everywhere. */
  invalidateAll(): Promise<void> {
    return this.bus.invalidate(this.name, [EVERYTHING]);
  }

  /**
   * Fills the cache in bulk (at start, so the first requests find what they need): `load`
   * answers entries read from the database; any key invalidated while it ran is left out.
   */
  async warm(load: () => Promise<[Key, Value][]>): Promise<number> {
    this.invalidatedWhileWarming = new Set();
    try {
      const entries = await load();
      // Changed by drop() while the load ran (TypeScript cannot see that across the await).
      const invalidated = this.invalidatedWhileWarming as Set<Key> | "all" | undefined;
      if (invalidated === "all" || invalidated === undefined) return 0;
      const now = Date.now();
      let stored = 0;
      for (const [key, value] of entries) {
        if (invalidated.has(key) || this.entries.has(key) || stored >= this.options.maxEntries) continue;
        this.store(key, value, now);
        stored += 1;
      }
      return stored;
    } finally {
      this.invalidatedWhileWarming = undefined;
    }
  }

  private markStale(key: Key): void {
    if (this.invalidatedWhileWarming instanceof Set) this.invalidatedWhileWarming.add(key);
    const token = this.loading.get(key);
    if (!token) return;
    token.stale = true;
    if (this.waiting.get(key) === token.waiters) this.waiting.delete(key);
  }

  private drop(keys: string[] | "all"): void {
    if (keys === "all") {
      if (this.invalidatedWhileWarming) this.invalidatedWhileWarming = "all";
      this.entries.clear();
      for (const key of this.loading.keys()) this.markStale(key);
      return;
    }
    for (const text of keys) {
      // Keys travel as text; numeric ids are stored as numbers.
      for (const candidate of (/^\d+$/.test(text) ? [Number(text), text] : [text]) as Key[]) {
        this.entries.delete(candidate);
        this.markStale(candidate);
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The cached value at once (no promise for GraphQL to wait on), or `load`'s when it is not cached. */
export function cachedOr<Key extends string | number, Value>(
  cache: LocalCache<Key, Value>,
  key: Key,
  load: (key: Key) => Promise<Value>,
): MaybePromise<Value> {
  const value = cache.get(key);
  return value !== undefined ? value : load(key);
}
