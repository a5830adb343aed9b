// Redis behind Sentinel (REDIS_SENTINELS): a real redis-server in sentinel mode watches the
// test Redis as master "douyin-test"; the platform, given only the sentinel's address (and a
// REDIS_URL whose host does not exist), finds the master through it and works: keys, the
// invalidation bus and a BullMQ job round trip.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../platform/config";
import { createLogger } from "../platform/logger";
import { connectRedis, RedisUnavailableError } from "../platform/redis";
import { openPlatform, type OpenPlatform } from "../server/runtime";
import { eventually } from "./client";
import { deleteRedisKeys, freePort, TEST_REDIS_URL } from "./stack";

const MASTER = "douyin-test";

describe("Redis behind Sentinel", () => {
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let dir: string;
  const prefix = `test-sentinel-${randomBytes(4).toString("hex")}`;
  const master = new URL(TEST_REDIS_URL);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-sentinel-"));
    sentinelPort = await freePort();
    const conf = path.join(dir, "sentinel.conf");
    fs.writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${MASTER} ${master.hostname} ${master.port || 6379} 1`,
        `sentinel down-after-milliseconds ${MASTER} 60000`,
        "",
      ].join("\n"),
    );
    sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    // Ready once it listens and names the master.
    const sentinelUrl = loadConfig({ REDIS_URL: `redis://127.0.0.1:${sentinelPort}` });
    await eventually(async () => {
      const probe = await connectRedis(sentinelUrl).catch(() => undefined);
      if (!probe) return false;
      try {
        const answer = (await probe.call("SENTINEL", "get-master-addr-by-name", MASTER).catch(() => null)) as string[] | null;
        return answer?.length === 2;
      } finally {
        probe.disconnect();
      }
    }, "the sentinel to name its master");
  });

  after(async () => {
    sentinel?.kill("SIGTERM");
    await deleteRedisKeys(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const sentinelConfig = (name = MASTER) =>
    loadConfig({
      // The host here does not exist: the master's address comes from the sentinel.
      REDIS_URL: "redis://no-such-host.invalid:6379/0",
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: name,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: "silent",
    });

  it("reads the sentinels from the configuration and refuses a malformed list", () => {
    assert.deepEqual(sentinelConfig().redis.sentinel, { name: MASTER, nodes: [{ host: "127.0.0.1", port: sentinelPort }] });
    assert.throws(() => loadConfig({ REDIS_SENTINELS: "127.0.0.1" }), /REDIS_SENTINELS.*host:port/);
    assert.equal(loadConfig({}).redis.sentinel, undefined);
  });

  it("finds the master through the sentinel and runs the platform on it: keys, the bus and a queued job", async () => {
    const config = sentinelConfig();
    const platform: OpenPlatform = await openPlatform(config, createLogger(config, "sentinel-test"), "sentinel-test");
    try {
      await platform.redis!.set(`${prefix}:probe`, "through the sentinel");
      const direct = await connectRedis(loadConfig({ REDIS_URL: TEST_REDIS_URL }));
      assert.equal(await direct.get(`${prefix}:probe`), "through the sentinel", "the key landed on the master");
      direct.disconnect();

      const heard = new Promise<string[] | "all">((resolve) => platform.bus.subscribe("sentinel-cache", resolve));
      platform.bus.publish("sentinel-cache", ["k1"]);
      assert.deepEqual(await heard, ["k1"]);

      platform.queues.work<{ n: number }, number>("sentinel-jobs", async (job) => job.data.n * 2, { concurrency: 1 });
      const result = await platform.queues
        .queue<{ n: number }, number>("sentinel-jobs")
        .addAndWait("double", { n: 21 }, { timeoutMs: 10_000 });
      assert.equal(result, 42);
    } finally {
      await platform.close();
    }
  });

  it("says which sentinels it asked when they know no such master", async () => {
    await assert.rejects(
      connectRedis(sentinelConfig("no-such-master")),
      (error: Error) => error instanceof RedisUnavailableError && /no-such-master.*127\.0\.0\.1:\d+/.test(error.message),
    );
  });
});
