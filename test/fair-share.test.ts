// The fair share of workers on the real Redis server: an owner gets at most its slots across
// every process, other owners are not affected, a finished job gives its slot back, and a
// holder that vanished (its process killed: it renews nothing any more) loses its slot once its
// lease runs out, instead of keeping the owner out for good. And the same in memory.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { createFairShare, type FairShare } from "../platform/fair-share";
import { loadConfig } from "../platform/config";
import { createLogger } from "../platform/logger";
import { deleteRedisKeys, TEST_REDIS_URL } from "./stack";

const prefix = `test-fair-${randomBytes(4).toString("hex")}`;
const log = createLogger(loadConfig({ LOG_LEVEL: "silent" }), "test");
const LEASE_MS = 600;
const options = { name: "media", perOwner: 1, leaseMs: LEASE_MS };
const connections: Redis[] = [];
after(async () => {
  connections.forEach((connection) => connection.disconnect());
  await deleteRedisKeys(prefix);
});

/** A process's view of the share: a connection of its own. */
function processShare(): { share: FairShare; connection: Redis } {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  connections.push(connection);
  return { share: createFairShare(connection, prefix, options, log), connection };
}

/** Work that runs until `finish` is called; `started` settles once it holds its slot and runs. */
function held(): { work: () => Promise<string>; finish: () => void; started: Promise<void> } {
  let finish!: () => void;
  let begin!: () => void;
  const done = new Promise<string>((resolve) => (finish = () => resolve("done")));
  const started = new Promise<void>((resolve) => (begin = resolve));
  return {
    work: () => {
      begin();
      return done;
    },
    finish,
    started,
  };
}

describe("fair share on Redis", () => {
  it("gives an owner one slot across processes, leaves other owners alone, and frees the slot after the work", async () => {
    const first = processShare().share;
    const second = processShare().share;
    const job = held();
    const running = first.tryRun("author-1", job.work);
    await job.started;
    assert.equal(await second.tryRun("author-1", async () => "ran"), undefined, "the owner's one slot is taken, seen from another process");
    assert.deepEqual(await second.tryRun("author-2", async () => "ran"), { value: "ran" }, "another owner goes ahead");
    job.finish();
    assert.deepEqual(await running, { value: "done" });
    assert.deepEqual(await second.tryRun("author-1", async () => "ran"), { value: "ran" }, "the slot is free again");
  });

  it("keeps the slot of a holder at work past its lease, and frees that of a vanished holder after it", async () => {
    const doomed = processShare();
    const survivor = processShare().share;
    const slowJob = held();
    const slow = survivor.tryRun("author-3", slowJob.work);
    await slowJob.started;
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
    assert.equal(await doomed.share.tryRun("author-3", async () => "ran"), undefined, "a holder at work renews its lease");
    slowJob.finish();
    await slow;

    const orphan = held();
    void doomed.share.tryRun("author-4", orphan.work);
    await orphan.started;
    // The process dies mid-job: nothing renews its lease any more.
    doomed.connection.disconnect();
    assert.equal(await survivor.tryRun("author-4", async () => "ran"), undefined, "taken while the lease runs");
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    assert.deepEqual(await survivor.tryRun("author-4", async () => "ran"), { value: "ran" }, "free once the lease ran out");
  });
});

describe("fair share in memory", () => {
  it("gives an owner its slots, and frees one after the work", async () => {
    const share = createFairShare(null, prefix, { ...options, perOwner: 2 }, log);
    const jobs = [held(), held()];
    const running = jobs.map((job) => share.tryRun("author-1", job.work));
    assert.equal(await share.tryRun("author-1", async () => "ran"), undefined);
    assert.deepEqual(await share.tryRun("author-2", async () => "ran"), { value: "ran" });
    jobs[0]!.finish();
    await running[0];
    assert.deepEqual(await share.tryRun("author-1", async () => "ran"), { value: "ran" });
    jobs[1]!.finish();
    await running[1];
  });
});
