// The in-memory key-value store keeps the contract the Redis one keeps (the end-to-end tier
// exercises that one): here, claims.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryKeyValueStore } from "./kv";

describe("claim", () => {
  it("sets a free key and hands back what a held key holds, leaving it, until it expires", async () => {
    let now = 1_000_000;
    const store = new MemoryKeyValueStore(() => now);
    assert.equal(await store.claim("publish:1:abc", "first", 10), null);
    assert.equal(await store.claim("publish:1:abc", "second", 10), "first");
    assert.deepEqual(await store.get(["publish:1:abc"]), ["first"]);
    assert.equal(await store.claim("publish:2:abc", "other", 10), null, "keys are independent");
    now += 10_000;
    assert.equal(await store.claim("publish:1:abc", "third", 10), null, "an expired claim is free again");
    assert.deepEqual(await store.get(["publish:1:abc"]), ["third"]);
    await store.delete(["publish:1:abc"]);
    assert.equal(await store.claim("publish:1:abc", "fourth", 10), null, "a deleted claim is free again");
  });
});
