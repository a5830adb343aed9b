// The key-value operations that caches and sessions need, on Redis (every process of a
// deployment sees the same keys) or in process memory (the fast test tier, which runs with no
// Redis at all). Keys are given without the deployment prefix; the store adds it.
import type { Redis } from "ioredis";
import { inCluster } from "./redis";

export interface KeyValueEntry {
  key: string;
  value: string;
  ttlSeconds: number;
}

export interface KeyValueStore {
  /** Values in the order asked; null where a key is absent or expired. */
  get(keys: readonly string[]): Promise<(string | null)[]>;
  set(entries: readonly KeyValueEntry[]): Promise<void>;
  /** Reads a value and restarts its TTL (sliding expiry); null when absent. */
  getAndTouch(key: string, ttlSeconds: number): Promise<string | null>;
  /** Removes the keys; returns how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /**
   * Sets `key` to `value` for `ttlSeconds` unless it holds a value already, atomically across
   * processes: null when this call set it, else the value it held (which is left as it was).
   */
  claim(key: string, value: string, ttlSeconds: number): Promise<string | null>;
}

// GET then SET NX in one step: Redis 7's SET NX GET would do, but 6.2 refuses NX with GET.
const CLAIM_SCRIPT = `local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false`;

export class RedisKeyValueStore implements KeyValueStore {
  /** A cluster spreads keys over nodes: reads and writes of several keys go key by key (auto-pipelined per node). */
  private readonly cluster: boolean;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.cluster = inCluster(redis);
  }

  private full(key: string): string {
    return `${this.prefix}:${key}`;
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    if (this.cluster) return Promise.all(keys.map((key) => this.redis.get(this.full(key))));
    return this.redis.mget(keys.map((key) => this.full(key)));
  }

  async set(entries: readonly KeyValueEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (entries.length === 1) {
      const [entry] = entries as [KeyValueEntry];
      await this.redis.set(this.full(entry.key), entry.value, "EX", entry.ttlSeconds);
      return;
    }
    if (this.cluster) {
      await Promise.all(entries.map((entry) => this.redis.set(this.full(entry.key), entry.value, "EX", entry.ttlSeconds)));
      return;
    }
    const write = this.redis.pipeline();
    for (const entry of entries) write.set(this.full(entry.key), entry.value, "EX", entry.ttlSeconds);
    const results = (await write.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  getAndTouch(key: string, ttlSeconds: number): Promise<string | null> {
    return this.redis.getex(this.full(key), "EX", ttlSeconds);
  }

  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (this.cluster) return (await Promise.all(keys.map((key) => this.redis.del(this.full(key))))).reduce((sum, n) => sum + n, 0);
    return this.redis.del(...keys.map((key) => this.full(key)));
  }

  async claim(key: string, value: string, ttlSeconds: number): Promise<string | null> {
    return (await this.redis.eval(CLAIM_SCRIPT, 1, this.full(key), value, ttlSeconds)) as string | null;
  }
}

/** One process's keys with expiry, for tests and tools that run without Redis. */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  private read(key: string): string | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.read(key));
  }

  async set(entries: readonly KeyValueEntry[]): Promise<void> {
    for (const { key, value, ttlSeconds } of entries) this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async getAndTouch(key: string, ttlSeconds: number): Promise<string | null> {
    const value = this.read(key);
    if (value !== null) this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    return value;
  }

  async delete(keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) if (this.read(key) !== null && this.entries.delete(key)) removed += 1;
    return removed;
  }

  async claim(key: string, value: string, ttlSeconds: number): Promise<string | null> {
    const held = this.read(key);
    if (held !== null) return held;
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    return null;
  }
}
