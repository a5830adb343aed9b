// Redis Cluster (REDIS_CLUSTER_NODES): three real redis-server nodes in cluster mode, slots
// created with redis-cli, and the whole co-located stack on them: sessions, caches, rate
// limits, worker-id leases, the invalidation bus, BullMQ's media jobs and the counters, through
// the legacy routes. Keys spread over the nodes; nothing may send one command across slots.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Cluster } from "ioredis";
import { loadConfig } from "../platform/config";
import { connectRedis } from "../platform/redis";
import { eventually, legacy, uniqueName } from "./client";
import { makeVideo, removeMedia } from "./media";
import { freePort, startStack, type Stack } from "./stack";

describe("Redis Cluster", () => {
  const nodes: ChildProcess[] = [];
  const ports: number[] = [];
  let dir: string;

  /** Starts (or restarts: nodes.conf keeps each node's identity and slots) every node and waits for it. */
  async function startNodes(): Promise<void> {
    nodes.splice(0);
    for (const port of ports) {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--save", "", "--appendonly", "no"];
      nodes.push(spawn("redis-server", [...args, "--dir", path.join(dir, String(port))], { stdio: "ignore" }));
    }
    for (const port of ports) {
      const node = loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
      await eventually(
        () =>
          connectRedis(node).then(
            (redis) => (redis.disconnect(), true),
            () => false,
          ),
        `redis-server on ${port}`,
      );
    }
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-cluster-"));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      fs.mkdirSync(path.join(dir, String(port)));
      ports.push(port);
    }
    await startNodes();
    execFileSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
      {
        stdio: "ignore",
      },
    );
    const probe = new Cluster(ports.map((port) => ({ host: "127.0.0.1", port })));
    await eventually(async () => String(await probe.cluster("INFO")).includes("cluster_state:ok"), "the cluster to be ok");
    probe.disconnect();
  });

  after(async () => {
    for (const node of nodes) node.kill("SIGTERM");
    removeMedia();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads the nodes from the configuration, and refuses Sentinel and Cluster together", () => {
    assert.deepEqual(loadConfig({ REDIS_CLUSTER_NODES: "a:1,b:2" }).redis.clusterNodes, [
      { host: "a", port: 1 },
      { host: "b", port: 2 },
    ]);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: "a:1", REDIS_SENTINELS: "b:2" }), /not both/);
  });

  describe("the stack on it", () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({ REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(",") });
    });
    // Closed before the outage below: its workers' blocking reads are not what that test is about.
    after(() => stack?.close());

    it("runs the stack on the cluster: sign-up, publish through the media queue, follow, like, counters", async () => {
      const register = async () => {
        const answer = await legacy(
          stack,
          "/douyin/user/register/",
          { username: uniqueName("c"), password: "pw-cluster" },
          { method: "POST" },
        );
        assert.equal(answer.body.status_code, 0, answer.text);
        return { userId: answer.body.user_id as number, token: answer.body.token as string };
      };
      const author = await register();
      const fan = await register();

      const form = new FormData();
      form.set("token", author.token);
      form.set("title", "on a cluster");
      form.set("data", new Blob([fs.readFileSync(makeVideo("cluster.mp4"))], { type: "video/mp4" }), "cluster.mp4");
      const published = (await (await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form })).json()) as {
        status_code: number;
        status_msg: string;
      };
      assert.equal(published.status_code, 0, published.status_msg);

      const follow = await legacy(
        stack,
        "/douyin/relation/action/",
        { token: fan.token, to_user_id: author.userId, action_type: 1 },
        { method: "POST" },
      );
      assert.equal(follow.body.status_code, 0, follow.text);
      const feed = await legacy(stack, "/douyin/feed/", { token: fan.token });
      const video = (feed.body.video_list as { id: number; title: string }[]).find((v) => v.title === "on a cluster");
      assert.ok(video, feed.text);
      const like = await legacy(
        stack,
        "/douyin/favorite/action/",
        { token: fan.token, video_id: video.id, action_type: 1 },
        { method: "POST" },
      );
      assert.equal(like.body.status_code, 0, like.text);

      await eventually(async () => {
        const info = await legacy(stack, "/douyin/user/", { user_id: author.userId, token: fan.token });
        const user = info.body.user as { follower_count: number; total_favorited: string | number; is_follow: boolean; work_count: number };
        return user.follower_count === 1 && Number(user.total_favorited) === 1 && user.is_follow && user.work_count === 1;
      }, "the author's counters to count the follow, the like and the work");

      // The keys really are spread over the nodes (not all in one slot).
      const perNode = ports.map((port) =>
        Number(
          execFileSync("redis-cli", ["-p", String(port), "DBSIZE"])
            .toString()
            .trim(),
        ),
      );
      assert.ok(perNode.filter((n) => n > 0).length >= 2, `keys on several nodes: ${perNode.join(", ")}`);
    });
  });

  it("keeps reconnecting after every node was down longer than the start-up retries", async () => {
    const client = await connectRedis(
      loadConfig({ REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(","), REDIS_PREFIX: "test-cluster-outage" }),
    );
    try {
      await client.set("test-cluster-outage:probe", "before");
      await Promise.all(nodes.map((node) => new Promise((resolve) => node.once("exit", resolve).kill("SIGTERM"))));
      // Five start-up rounds take about 3 s: wait well past them.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      await startNodes();
      await eventually(
        () =>
          client.set("test-cluster-outage:probe", "after").then(
            () => true,
            () => false,
          ),
        "the client to reach the cluster again",
        20_000,
      );
    } finally {
      client.disconnect();
    }
  });
});
