// Id-generator worker ids leased from the real Redis: processes of one deployment never share
// one, a released id is taken again, and a process whose lease Redis forgot takes a free one.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { createLogger } from "../platform/logger";
import { WorkerIdLease, WorkerIdUnavailableError } from "../platform/worker-id";
import { deleteRedisKeys, TEST_REDIS_URL } from "./stack";

const prefix = `test-ids-${randomBytes(4).toString("hex")}`;
const log = createLogger({ logLevel: "silent" }, "worker-ids");
let redis: Redis;

before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  await deleteRedisKeys(prefix);
  redis.disconnect();
});

describe("worker id leases", () => {
  it("gives 32 processes 32 distinct ids, refuses a 33rd, and hands a released id on", async () => {
    const leases = await Promise.all(Array.from({ length: 32 }, () => WorkerIdLease.acquire(redis, prefix, log)));
    assert.deepEqual(
      leases.map((lease) => lease.current).sort((a, b) => a - b),
      Array.from({ length: 32 }, (_, i) => i),
    );
    await assert.rejects(WorkerIdLease.acquire(redis, prefix, log), WorkerIdUnavailableError);
    const freed = leases[5]!.current;
    await leases[5]!.release();
    const next = await WorkerIdLease.acquire(redis, prefix, log);
    assert.equal(next.current, freed);
    for (const lease of [...leases.slice(0, 5), ...leases.slice(6), next]) await lease.release();
    assert.equal((await redis.keys(`${prefix}:id-worker:*`)).length, 0, "released leases leave no key");
  });

  it("takes another free id when its own was taken over after Redis forgot it", async () => {
    const lease = await WorkerIdLease.acquire(redis, prefix, log);
    const lost = lease.current;
    // Redis forgot the lease and another process took the id meanwhile.
    await redis.set(`${prefix}:id-worker:${lost}`, "someone-else", "PX", 60_000);
    await (lease as unknown as { renew(): Promise<void> }).renew();
    assert.notEqual(lease.current, lost);
    assert.equal(await redis.get(`${prefix}:id-worker:${lost}`), "someone-else", "the other process keeps its id");
    await lease.release();
    await redis.del(`${prefix}:id-worker:${lost}`);
  });
});
