// A worker that dies mid-job loses nothing: the job is taken back after its lock expires and
// another worker finishes it, once. Workers run as real processes here, killed for real.
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { queuePrefix } from "../platform/queues";
import { MEDIA_QUEUE } from "../subgraphs/video/jobs";
import { eventually, graphql, legacy, uniqueName } from "./client";
import { makeVideo, removeMedia } from "./media";
import { freePort, pendingCounterChanges, SERVER_ENTRY, startStack, withDatabase, type Stack } from "./stack";

const LOCK_MS = 1000;
let stack: Stack;

before(async () => {
  stack = await startStack({ WORKERS_IN_PROCESS: "false", QUEUE_LOCK_MS: String(LOCK_MS) });
});
after(async () => {
  await stack?.close();
  removeMedia();
});

function startWorkerProcess(metricsPort = 0): Promise<ChildProcess> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...stack.environment,
    METRICS_PORT: String(metricsPort),
  };
  const child = fork(SERVER_ENTRY, ["video-workers"], {
    env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

describe("media worker crash", () => {
  it("retries a job whose worker was killed mid-job, and publishing still succeeds", async () => {
    const video = makeVideo("crash.mp4", { seconds: 2 });
    const register = await legacy(stack, "/douyin/user/register/", { username: uniqueName("crash"), password: "pw" }, { method: "POST" });
    const { token, user_id: userId } = register.body;

    const connection = new Redis(stack.config.redis.url, { maxRetriesPerRequest: null });
    const eventsConnection = connection.duplicate();
    const events = new QueueEvents(MEDIA_QUEUE, { connection: eventsConnection, prefix: queuePrefix(stack.config) });
    const queue = new Queue(MEDIA_QUEUE, { connection, prefix: queuePrefix(stack.config) });
    await events.waitUntilReady();
    const doomed = await startWorkerProcess();
    let activeJobId: string | undefined;
    events.once("active", ({ jobId }) => {
      activeJobId = jobId;
      // Freeze the worker the moment it takes the job, then kill it: it dies mid-job for sure.
      doomed.kill("SIGSTOP");
      doomed.kill("SIGKILL");
    });

    const form = new FormData();
    form.set("token", token);
    form.set("title", "survives a crash");
    form.set("data", new Blob([fs.readFileSync(video)], { type: "video/mp4" }), "crash.mp4");
    const publishing = fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form }).then((r) => r.json());

    await new Promise<void>((resolve) =>
      doomed.exitCode !== null || doomed.signalCode !== null ? resolve() : doomed.once("exit", () => resolve()),
    );
    assert.ok(activeJobId, "the killed worker had taken the job");
    const probesPort = await freePort();
    const rescuer = await startWorkerProcess(probesPort);
    try {
      // A worker process answers its probes on its metrics port (it has no other).
      assert.equal((await fetch(`http://127.0.0.1:${probesPort}/healthz`)).status, 200);
      const readiness = await fetch(`http://127.0.0.1:${probesPort}/readyz`);
      const report = (await readiness.json()) as { checks: Record<string, string> };
      assert.equal(readiness.status, 200, JSON.stringify(report));
      assert.equal(report.checks.redis, "ok", JSON.stringify(report));
      assert.equal(report.checks["video-database"], "ok", JSON.stringify(report));
      const answer = (await publishing) as { status_code: number; status_msg: string };
      assert.equal(answer.status_code, 0, answer.status_msg);
      const job = await queue.getJob(activeJobId!);
      assert.ok((job?.stalledCounter ?? 0) >= 1 || (job?.attemptsStarted ?? 0) >= 2, "the job was taken back after the crash");
      const list = await legacy(stack, "/douyin/publish/list/", { user_id: userId });
      assert.equal(list.body.video_list.length, 1);
      assert.equal(list.body.video_list[0].title, "survives a crash");
    } finally {
      rescuer.kill("SIGTERM");
      await new Promise((resolve) => rescuer.once("exit", resolve));
      await events.close();
      await queue.close();
      eventsConnection.disconnect();
      connection.disconnect();
    }
  });
});

describe("counter drainer crash", () => {
  it("applies counter changes exactly once after the worker applying them was killed mid-batch", async () => {
    const owner = await legacy(stack, "/douyin/user/register/", { username: uniqueName("owner"), password: "pw" }, { method: "POST" });
    const fans = await Promise.all(
      Array.from({ length: 5 }, () =>
        legacy(stack, "/douyin/user/register/", { username: uniqueName("fan"), password: "pw" }, { method: "POST" }),
      ),
    );
    const videoId = 7_000_001;
    await withDatabase(stack, "video", (client) =>
      client.query(
        `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height) VALUES ($1, $2, 't', 'v', 'c', 1000, 320, 240)`,
        [videoId, owner.body.user_id],
      ),
    );
    // The workers run in processes of their own here: with none running, the changes wait (a
    // change an earlier test's killed worker left behind may be waiting too).
    const pendingBefore = await pendingCounterChanges(stack, "video");
    for (const fan of fans) {
      const liked = await legacy(
        stack,
        "/douyin/favorite/action/",
        { token: fan.body.token, video_id: videoId, action_type: 1 },
        { method: "POST" },
      );
      assert.equal(liked.body.status_code, 0);
    }
    assert.equal(await pendingCounterChanges(stack, "video"), pendingBefore + fans.length);

    // A lock on the counters stops the doomed worker inside its drain transaction...
    const blocker = new pg.Client({ connectionString: (stack.config.subgraphs.video!.database as { url: string }).url });
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query("LOCK TABLE user_stats IN ACCESS EXCLUSIVE MODE");
    const doomed = await startWorkerProcess();
    try {
      await eventually(
        async () =>
          (
            await blocker.query(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
            )
          ).rows[0].n > 0,
        "the worker to be waiting inside its drain",
      );
      // ...where it dies: its transaction is rolled back with its connection.
      doomed.kill("SIGSTOP");
      doomed.kill("SIGKILL");
      await new Promise((resolve) =>
        doomed.exitCode !== null || doomed.signalCode !== null ? resolve(undefined) : doomed.once("exit", resolve),
      );
    } finally {
      await blocker.query("COMMIT");
      await blocker.end();
    }
    await eventually(
      async () => (await pendingCounterChanges(stack, "video")) === pendingBefore + fans.length,
      "the killed drain to have applied nothing",
    );

    const rescuer = await startWorkerProcess();
    try {
      await eventually(async () => (await pendingCounterChanges(stack, "video")) === 0, "another worker to drain the outbox", 20_000);
      const count = async () =>
        (
          await graphql(
            stack.graphqlUrl,
            `
              query ($id: ID!) {
                video(id: $id) {
                  favoriteCount
                }
              }
            `,
            { id: String(videoId) },
          )
        ).data.video.favoriteCount;
      await eventually(async () => (await count()) === fans.length, `favorite_count to reach ${fans.length}`);
      const author = await legacy(stack, "/douyin/user/", { user_id: owner.body.user_id });
      assert.equal(author.body.user.total_favorited, fans.length, "applied once each: no loss, no double count");
    } finally {
      rescuer.kill("SIGTERM");
      await new Promise((resolve) => rescuer.once("exit", resolve));
    }
  });
});
