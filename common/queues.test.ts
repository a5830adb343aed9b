// The queue helpers against the real Redis server and real BullMQ workers.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { QueueEvents } from "bullmq";
import { deleteRedisKeys, TEST_REDIS_URL } from "../test/stack";
import { loadConfig } from "./config";
import { createLogger } from "./logger";
import { createQueue, createWorker } from "./queues";
import { connectRedis, RedisUnavailableError } from "./redis";

const prefix = `test-queues-${randomBytes(4).toString("hex")}`;
const config = loadConfig({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: "silent" });

describe("queues", () => {
  after(() => deleteRedisKeys(prefix));

  it("runs a job on a real worker and retries one that failed", async () => {
    const connection = await connectRedis(config, { forWorkers: true });
    const queue = createQueue<{ value: number }>(config, connection, "echo");
    const eventsConnection = connection.duplicate();
    const events = new QueueEvents("echo", { connection: eventsConnection, prefix: `{${prefix}}` });
    await events.waitUntilReady();
    const attempts = new Map<string, number>();
    const worker = createWorker<{ value: number }>(config, connection, "echo", async (job) => {
      const seen = (attempts.get(job.id!) ?? 0) + 1;
      attempts.set(job.id!, seen);
      if (job.data.value < 0 && seen === 1) throw new Error("first attempt fails");
      return job.data.value * 2;
    }, createLogger(config, "test"));
    try {
      const ok = await queue.add("double", { value: 21 });
      assert.equal(await ok.waitUntilFinished(events, 10_000), 42);
      const flaky = await queue.add("double", { value: -4 });
      assert.equal(await flaky.waitUntilFinished(events, 10_000), -8);
      assert.equal(attempts.get(flaky.id!), 2, "retried once after the failure");
      // Keys carry the hash-tagged prefix, so one queue lives in one Redis Cluster slot.
      assert.ok((await connection.keys(`{${prefix}}:echo:*`)).length > 0);
    } finally {
      await worker.close();
      await queue.close();
      await events.close();
      eventsConnection.disconnect();
      await connection.quit();
    }
  });

  it("explains clearly when Redis cannot be reached", async () => {
    const unreachable = loadConfig({ REDIS_URL: "redis://127.0.0.1:1", LOG_LEVEL: "silent" });
    await assert.rejects(connectRedis(unreachable), (error: Error) => error instanceof RedisUnavailableError && /REDIS_URL/.test(error.message));
  });
});
