// A worker that dies mid-job loses nothing: the job is taken back after its lock expires and
// another worker finishes it, once. Workers run as real processes here, killed for real.
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { projectRoot } from "../platform/config";
import { queuePrefix } from "../platform/queues";
import { COUNTER_QUEUE, MEDIA_QUEUE } from "../subgraphs/video/jobs";
import { eventually, graphql, legacy, uniqueName } from "./client";
import { makeVideo, removeMedia } from "./media";
import { startStack, type Stack } from "./stack";

const LOCK_MS = 1000;
let stack: Stack;

before(async () => {
  stack = await startStack({ WORKERS_IN_PROCESS: "false", QUEUE_LOCK_MS: String(LOCK_MS) });
});
after(async () => {
  await stack?.close();
  removeMedia();
});

function startWorkerProcess(): Promise<ChildProcess> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...stack.environment };
  const child = fork(path.join(projectRoot, "dist", "scripts", "start.js"), ["video-workers"], {
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
    const rescuer = await startWorkerProcess();
    try {
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

describe("counter worker crash", () => {
  it("applies a like's counter event exactly once after its worker was killed mid-job", async () => {
    const owner = await legacy(stack, "/douyin/user/register/", { username: uniqueName("owner"), password: "pw" }, { method: "POST" });
    const fans = await Promise.all(
      Array.from({ length: 5 }, () =>
        legacy(stack, "/douyin/user/register/", { username: uniqueName("fan"), password: "pw" }, { method: "POST" }),
      ),
    );
    const rescuerForPublish = await startWorkerProcess();
    const form = new FormData();
    form.set("token", owner.body.token);
    form.set("title", "to be liked");
    form.set("data", new Blob([fs.readFileSync(makeVideo("liked.mp4"))], { type: "video/mp4" }), "liked.mp4");
    const published = (await (await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form })).json()) as {
      status_code: number;
    };
    assert.equal(published.status_code, 0);
    rescuerForPublish.kill("SIGTERM");
    await new Promise((resolve) => rescuerForPublish.once("exit", resolve));
    const videoId = (await legacy(stack, "/douyin/publish/list/", { user_id: owner.body.user_id })).body.video_list[0].id;

    const connection = new Redis(stack.config.redis.url, { maxRetriesPerRequest: null });
    const eventsConnection = connection.duplicate();
    const events = new QueueEvents(COUNTER_QUEUE, { connection: eventsConnection, prefix: queuePrefix(stack.config) });
    await events.waitUntilReady();
    const doomed = await startWorkerProcess();
    let killedJob: string | undefined;
    events.on("active", ({ jobId }) => {
      if (killedJob || !jobId.startsWith("like-")) return;
      killedJob = jobId;
      doomed.kill("SIGSTOP");
      doomed.kill("SIGKILL");
    });
    for (const fan of fans) {
      const liked = await legacy(
        stack,
        "/douyin/favorite/action/",
        { token: fan.body.token, video_id: videoId, action_type: 1 },
        { method: "POST" },
      );
      assert.equal(liked.body.status_code, 0);
    }
    // It may be gone already: the kill happens while the likes are still being sent.
    await new Promise<void>((resolve) =>
      doomed.exitCode !== null || doomed.signalCode !== null ? resolve() : doomed.once("exit", () => resolve()),
    );
    const rescuer = await startWorkerProcess();
    try {
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
      await eventually(async () => (await count()) === fans.length, `favorite_count to reach ${fans.length}`, 20_000);
      const owner_ = await legacy(stack, "/douyin/user/", { user_id: owner.body.user_id });
      assert.equal(owner_.body.user.total_favorited, fans.length, "applied once each: no loss, no double count");
      assert.ok(killedJob, "a worker was killed holding a counter job");
    } finally {
      rescuer.kill("SIGTERM");
      await new Promise((resolve) => rescuer.once("exit", resolve));
      await events.close();
      eventsConnection.disconnect();
      connection.disconnect();
    }
  });
});
