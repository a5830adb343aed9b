// The invalidation bus on a real Redis: a writer's invalidation resolves only once every other
// process listening has dropped the keys (so it may answer its client then), and a process
// that never answers delays a writer by the bus's deadline, no longer.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { LocalCache, RedisInvalidationBus } from "../platform/local-cache";
import { createLogger } from "../platform/logger";
import { TEST_REDIS_URL } from "./stack";

const log = createLogger({ logLevel: "silent" }, "bus-test");
const prefix = `test-bus-${randomBytes(4).toString("hex")}`;
const connections: Redis[] = [];
const connect = () => {
  const redis = new Redis(TEST_REDIS_URL);
  connections.push(redis);
  return redis;
};
after(() => connections.forEach((redis) => redis.disconnect()));

async function startProcess(ackTimeoutMs = 2_000) {
  const outcomes: boolean[] = [];
  const bus = new RedisInvalidationBus(connect(), connect(), prefix, log, {
    ackTimeoutMs,
    observe: (_seconds, complete) => outcomes.push(complete),
  });
  await bus.start();
  const rows = new Map([[1, "old"]]);
  const cache = new LocalCache<number, string>("profiles", { maxEntries: 10, ttlMs: 60_000 }, bus, async (keys) =>
    keys.map((key) => rows.get(key)),
  );
  return { bus, cache, rows, outcomes };
}

describe("invalidations over Redis", () => {
  it("resolve once every other process has dropped the keys", async () => {
    const writer = await startProcess();
    const readers = [await startProcess(), await startProcess()];
    for (const reader of readers) assert.equal(await reader.cache.load(1), "old");
    for (const reader of readers) reader.rows.set(1, "new");
    writer.rows.set(1, "new");
    await writer.cache.invalidate([1]);
    for (const [index, reader] of readers.entries()) {
      assert.equal(reader.cache.get(1), undefined, `reader ${index} dropped the key before the writer went on`);
      assert.equal(await reader.cache.load(1), "new");
    }
    assert.deepEqual(writer.outcomes, [true], "acknowledged by both");
    await Promise.all([writer, ...readers].map(({ bus }) => bus.close()));
  });

  it("wait no longer than the deadline for a process that does not answer", async () => {
    const writer = await startProcess(300);
    // A process that hears invalidations and never acknowledges them (frozen, say).
    const deaf = connect();
    await deaf.subscribe(`${prefix}:cache-invalidation`);
    const started = Date.now();
    await writer.cache.invalidate([1]);
    const waited = Date.now() - started;
    assert.ok(waited >= 290 && waited < 2_000, `waited ${waited} ms`);
    assert.deepEqual(writer.outcomes, [false], "counted as a timeout");
    await deaf.unsubscribe();
    await writer.bus.close();
  });

  it("do not wait at all when no other process listens", async () => {
    const writer = await startProcess();
    await writer.cache.invalidate([1]);
    assert.deepEqual(writer.outcomes, [true]);
    await writer.bus.close();
  });
});
