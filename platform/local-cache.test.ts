// The in-process caches (fast tier): misses batched across callers, invalidation reaching
// every copy, and a load that raced a write never stored nor handed to later readers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalCache, LocalInvalidationBus } from "./local-cache";

const OPTIONS = { maxEntries: 3, ttlMs: 60_000 };

/** A loader over a mutable "table", recording its calls; `gate` holds a load until released. */
function table(rows: Map<number, string>) {
  const calls: number[][] = [];
  let gate: Promise<void> | undefined;
  const load = async (keys: number[]) => {
    calls.push([...keys]);
    const snapshot = keys.map((key) => rows.get(key));
    await gate;
    return snapshot;
  };
  return { calls, load, hold: (until: Promise<void>) => (gate = until) };
}

describe("LocalCache", () => {
  it("loads the misses of concurrent callers in one batch, and each key once", async () => {
    const rows = new Map([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
    const { calls, load } = table(rows);
    const cache = new LocalCache<number, string>("t", OPTIONS, new LocalInvalidationBus(), load);
    const answers = await Promise.all([cache.loadMany([1, 2]), cache.load(2), cache.loadMany([3, 9])]);
    assert.deepEqual(answers, [["one", "two"], "two", ["three", undefined]]);
    assert.deepEqual(calls, [[1, 2, 3, 9]], "one load for everyone, key 2 once");
    assert.deepEqual(await cache.loadMany([1, 2, 3]), ["one", "two", "three"]);
    assert.equal(calls.length, 1, "then from memory");
    await cache.load(9);
    assert.equal(calls.length, 2, "a key without a value is asked again");
  });

  it("keeps at most maxEntries, dropping the oldest first", async () => {
    const rows = new Map([1, 2, 3, 4].map((key) => [key, `v${key}`]));
    const { calls, load } = table(rows);
    const cache = new LocalCache<number, string>("t", OPTIONS, new LocalInvalidationBus(), load);
    await cache.loadMany([1, 2, 3]);
    await cache.load(4);
    assert.equal(cache.size, 3);
    assert.equal(cache.get(1), undefined);
    assert.equal(cache.get(4), "v4");
    assert.equal(calls.length, 2);
  });

  it("drops an invalidated key in every copy sharing the bus", async () => {
    const rows = new Map([[1, "old"]]);
    const bus = new LocalInvalidationBus();
    const here = new LocalCache<number, string>("shared", OPTIONS, bus, table(rows).load);
    const there = new LocalCache<number, string>("shared", OPTIONS, bus, table(rows).load);
    assert.equal(await here.load(1), "old");
    assert.equal(await there.load(1), "old");
    rows.set(1, "new");
    here.invalidate([1]);
    assert.equal(there.get(1), undefined, "the other copy forgot it too");
    assert.equal(await there.load(1), "new");
    there.invalidateAll();
    assert.equal(here.get(1), undefined);
  });

  it("never stores, nor hands to later readers, a load that raced an invalidation", async () => {
    const rows = new Map([[1, "before the write"]]);
    const { calls, load, hold } = table(rows);
    const cache = new LocalCache<number, string>("race", OPTIONS, new LocalInvalidationBus(), load);
    let release!: () => void;
    hold(new Promise<void>((resolve) => (release = resolve)));
    const early = cache.load(1); // reads the row before the write...
    await new Promise((resolve) => setImmediate(resolve));
    rows.set(1, "after the write");
    cache.invalidate([1]); // ...which commits and invalidates while that load is in flight
    hold(Promise.resolve());
    const late = cache.load(1); // a reader after the write
    release();
    assert.equal(await early, "before the write", "the early reader gets what it read");
    assert.equal(await late, "after the write", "the late reader does not join the stale load");
    assert.equal(cache.get(1), "after the write", "and the stale value was never stored");
    assert.equal(calls.length, 2);
  });

  it("passes a failed load on to every waiter, and caches nothing", async () => {
    let fail = true;
    const cache = new LocalCache<number, string>("failing", OPTIONS, new LocalInvalidationBus(), async (keys) => {
      if (fail) throw new Error("database down");
      return keys.map((key) => `v${key}`);
    });
    await assert.rejects(Promise.all([cache.load(1), cache.load(1)]), /database down/);
    fail = false;
    assert.equal(await cache.load(1), "v1");
  });
});

describe("LocalCache.warm", () => {
  it("fills the cache in bulk, leaving out what was invalidated while it read", async () => {
    const rows = new Map([1, 2, 3].map((key) => [key, `v${key}`]));
    const { calls, load } = table(rows);
    const cache = new LocalCache<number, string>("warm", { maxEntries: 10, ttlMs: 60_000 }, new LocalInvalidationBus(), load);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const warming = cache.warm(async () => {
      const snapshot = [...rows.entries()];
      await gate;
      return snapshot;
    });
    rows.set(2, "v2 changed");
    cache.invalidate([2]);
    release();
    assert.equal(await warming, 2);
    assert.equal(cache.get(1), "v1");
    assert.equal(cache.get(2), undefined, "read before the change: not stored");
    assert.equal(await cache.load(2), "v2 changed");
    assert.equal(calls.length, 1);
  });
});
