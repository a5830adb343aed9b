// BullMQ queues on the real Redis server with real workers keep the queue contract, and a
// Redis that cannot be reached is explained.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { loadConfig } from "../platform/config";
import { createLogger } from "../platform/logger";
import { BullQueues } from "../platform/queues";
import { connectRedis, RedisUnavailableError } from "../platform/redis";
import { queueContract } from "./queue-contract";
import { deleteRedisKeys, TEST_REDIS_URL } from "./stack";

const prefix = `test-queues-${randomBytes(4).toString("hex")}`;
const config = loadConfig({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: "silent" });
const log = createLogger(config, "test");

queueContract("BullMQ queues on Redis", async () => {
  const connection = await connectRedis(config);
  const workerConnection = await connectRedis(config, { forWorkers: true });
  const queues = new BullQueues(config, connection, workerConnection, log);
  return {
    queues,
    close: async () => {
      await queues.close();
      // Keys carry the hash-tagged prefix, so one queue lives in one Redis Cluster slot.
      assert.ok((await connection.keys(`{${prefix}}:*`)).length > 0);
      await workerConnection.quit();
      await connection.quit();
      await deleteRedisKeys(prefix);
    },
  };
});

describe("Redis connections", () => {
  after(() => deleteRedisKeys(prefix));

  it("explain clearly when Redis cannot be reached", async () => {
    const unreachable = loadConfig({ REDIS_URL: "redis://127.0.0.1:1", LOG_LEVEL: "silent" });
    await assert.rejects(
      connectRedis(unreachable),
      (error: Error) => error instanceof RedisUnavailableError && /REDIS_URL/.test(error.message),
    );
  });
});
