// Read-through caching (fast tier): what is cached, for how long, what a failing store does,
// and the second delete that closes the stale-read window.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CacheInvalidation, ReadThroughCache } from "./cache";
import { fastConfig } from "../test/in-process";
import { MemoryKeyValueStore, type KeyValueEntry, type KeyValueStore } from "./kv";
import { createLogger } from "./logger";
import { MemoryQueues } from "./queues";

const config = fastConfig({
  CACHE_TTL_SECONDS: "100",
  CACHE_NEGATIVE_TTL_SECONDS: "10",
  CACHE_TTL_JITTER: "0.2",
  CACHE_SECOND_DELETE_MS: "30",
});
const log = createLogger(config, "cache-test");

/** A store that records what it was given. */
class RecordingStore extends MemoryKeyValueStore {
  readonly written: KeyValueEntry[] = [];
  override async set(entries: readonly KeyValueEntry[]): Promise<void> {
    this.written.push(...entries);
    return super.set(entries);
  }
}

describe("ReadThroughCache", () => {
  it("loads only what is missing, in the order asked, keeping bigint and Date values", async () => {
    const store = new RecordingStore();
    const cache = new ReadThroughCache<number, { id: bigint; at: Date }>(store, config, "thing", log);
    const loads: number[][] = [];
    const load = async (ids: number[]) => {
      loads.push(ids);
      return ids.map((id) => (id === 404 ? null : { id: BigInt(id), at: new Date(id) }));
    };
    assert.deepEqual(await cache.loadMany([1, 2], load), [
      { id: 1n, at: new Date(1) },
      { id: 2n, at: new Date(2) },
    ]);
    assert.deepEqual(await cache.loadMany([2, 404, 3, 1], load), [
      { id: 2n, at: new Date(2) },
      null,
      { id: 3n, at: new Date(3) },
      { id: 1n, at: new Date(1) },
    ]);
    assert.deepEqual(await cache.loadMany([404], load), [null], "a missing id is remembered too");
    assert.deepEqual(loads, [
      [1, 2],
      [404, 3],
    ]);
  });

  it("stretches each TTL by up to the jitter, and keeps negative entries shorter", async () => {
    const store = new RecordingStore();
    const cache = new ReadThroughCache<number, string>(store, config, "ttl", log);
    await cache.loadMany(
      [...Array(50).keys()].map((i) => i + 1),
      async (ids) => ids.map((id) => (id % 2 === 0 ? null : `v${id}`)),
    );
    const positive = store.written.filter((entry) => entry.value !== "null").map((entry) => entry.ttlSeconds);
    const negative = store.written.filter((entry) => entry.value === "null").map((entry) => entry.ttlSeconds);
    assert.ok(
      positive.every((ttl) => ttl >= 100 && ttl <= 120),
      `positive TTLs in [100, 120]: ${positive}`,
    );
    assert.ok(
      negative.every((ttl) => ttl >= 10 && ttl <= 12),
      `negative TTLs in [10, 12]: ${negative}`,
    );
    assert.ok(new Set(positive).size > 1, "keys set together expire apart");
  });

  it("answers from the loader when the store fails", async () => {
    const broken: KeyValueStore = {
      get: async () => {
        throw new Error("store down");
      },
      set: async () => {
        throw new Error("store down");
      },
      getAndTouch: async () => null,
      delete: async () => 0,
    };
    const cache = new ReadThroughCache<number, string>(broken, config, "broken", log);
    assert.deepEqual(await cache.loadMany([7], async (ids) => ids.map((id) => `fresh ${id}`)), ["fresh 7"]);
  });
});

describe("CacheInvalidation", () => {
  it("deletes at once, and again after the delay (a stale value written in between is gone)", async () => {
    const store = new MemoryKeyValueStore();
    const queues = new MemoryQueues(log);
    const invalidation = new CacheInvalidation(store, queues, "cache-test", config, log);
    invalidation.work();
    try {
      await store.set([{ key: "thing:1", value: "old", ttlSeconds: 100 }]);
      await invalidation.delete(["thing:1"]);
      assert.deepEqual(await store.get(["thing:1"]), [null], "deleted at once");
      // A reader that loaded the row before the write stores it after the first delete...
      await store.set([{ key: "thing:1", value: "stale", ttlSeconds: 100 }]);
      await queues.idle();
      assert.deepEqual(await store.get(["thing:1"]), [null], "...and the second delete removes it");
    } finally {
      await queues.close();
    }
  });
});
