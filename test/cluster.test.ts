// The production shape on this machine under load: two cells behind HAProxy (scripts/cluster.ts),
// workers and storage apart, production mode. A rolling restart loses no request; a replica
// killed outright fails only what it had in flight, every acknowledged write is in the
// database and the counters equal their rows once drained; a publish whose replica and media
// worker both die is finished by another worker, and the app's retry answers the same video.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { BENCH_FRIENDLY_LIMITS, startCluster, type Cluster } from "../scripts/cluster";
import { freePort } from "../scripts/ports";
import { drained, insertVideos, missingWrites, registerUsers, steadyLoad, wrongCounters, type LoadUser } from "../scripts/cluster-load";
import { MEDIA_QUEUE, mediaJobId } from "../subgraphs/video/jobs";
import { legacy, publishLegacy } from "./client";
import { makeVideo, removeMedia } from "./media";
import { deleteRedisKeys, TEST_POSTGRES_URL, TEST_REDIS_URL } from "./stack";

/** A media job whose worker died is taken back after this (production waits QUEUE_LOCK_MS, 30 s). */
const LOCK_MS = 2_000;
/** Lanes of the steady load: enough to keep every replica busy on two cores, few enough to stay bounded. */
const LANES = 6;

const prefix = `test-cluster-${randomBytes(4).toString("hex")}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-cluster-"));
let cluster: Cluster;
let users: LoadUser[];
let videoIds: number[];

before(async () => {
  cluster = await startCluster({
    replicas: 2,
    shape: "cells",
    workers: 1,
    ports: { rest: await freePort(), gateway: await freePort(), storage: await freePort(), stats: await freePort() },
    postgresUrl: TEST_POSTGRES_URL,
    redisUrl: TEST_REDIS_URL,
    prefix,
    env: { ...BENCH_FRIENDLY_LIMITS, QUEUE_LOCK_MS: String(LOCK_MS), COUNTER_DRAIN_INTERVAL_MS: "1000" },
    dataDir,
  });
  users = await registerUsers(cluster.restUrl, 12, "cl");
  videoIds = await insertVideos(cluster.databases.video!, users[0]!.userId, 4);
  // Rows written behind the cells' backs: every process forgets what it cached.
  const redis = new Redis(TEST_REDIS_URL);
  await redis.publish(`${prefix}:cache-invalidation`, JSON.stringify({ origin: "test", cache: "*", keys: [] }));
  redis.disconnect();
});

after(async () => {
  await cluster?.stop();
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  for (const url of Object.values(cluster?.databases ?? {}))
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  await admin.end();
  await deleteRedisKeys(prefix);
  fs.rmSync(dataDir, { recursive: true, force: true });
  removeMedia();
});

const databases = () => ({ video: cluster.databases.video!, relation: cluster.databases.relation! });

describe("two cells behind HAProxy, under a steady load", () => {
  it("restarts every replica one after another without a failed request", async (t) => {
    const load = steadyLoad(cluster.restUrl, users, videoIds, LANES);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const replica of cluster.replicas) {
      // SIGTERM: unready at once, serving what it was sent while the balancer routes around it, then gone.
      await replica.restart();
      await cluster.waitUntilUp(replica.index);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const report = await load.stop();
    t.diagnostic(`rolling restart: ${report.requests} requests in ${report.seconds.toFixed(1)} s, ${report.failures.length} failed`);
    assert.ok(report.requests > 100, `a load worth the name: ${report.requests} requests`);
    assert.deepEqual(report.failures, [], `${report.failures.length} of ${report.requests} requests failed`);
    assert.deepEqual(await missingWrites(report, databases()), []);
  });

  it("loses only what a killed replica had in flight; acknowledged writes are kept, counters end exact", async (t) => {
    const load = steadyLoad(cluster.restUrl, users, videoIds, LANES);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const victim = cluster.replicas[0]!;
    // Every request in flight anywhere: more than the victim had, the bound its failures must stay within.
    const inFlight = load.inFlight();
    const killedAt = Date.now();
    await victim.kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const report = await load.stop();
    t.diagnostic(`kill -9: ${report.requests} requests, ${report.failures.length} failed, ${inFlight} in flight at the kill`);
    assert.ok(
      report.failures.length <= inFlight,
      `${report.failures.length} failures, more than the ${inFlight} requests in flight at the kill: ${JSON.stringify(report.failures.slice(0, 5))}`,
    );
    for (const failure of report.failures) assert.ok(failure.at - killedAt < 1_000, `a failure long after the kill: ${failure.what}`);
    assert.ok(report.requests - report.failures.length > 100, "the other replica kept answering");
    assert.deepEqual(await missingWrites(report, databases()), [], "every acknowledged write is in the database");
    await drained(databases());
    assert.deepEqual(await wrongCounters(databases()), [], "counters equal their rows");
    await victim.processes[0]!.start();
    await cluster.waitUntilUp(victim.index);
  });

  it("finishes a publish whose replica and media worker died, and the app's retry answers the same video", async () => {
    const [author] = await registerUsers(cluster.restUrl, 1, "pub");
    const file = makeVideo("cluster-publish.mp4", { seconds: 2 });
    const victim = cluster.replicas[1]!;
    const worker = cluster.workers.find((candidate) => candidate.name.startsWith("video-workers"))!;
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const events = new QueueEvents(MEDIA_QUEUE, { connection, prefix: `{${prefix}}` });
    await events.waitUntilReady();
    const taken = new Promise<string>((resolve) => events.once("active", ({ jobId }) => resolve(jobId)));
    // The first attempt reaches one replica (as the balancer picked it) and its job one worker:
    // both die mid-publish, the worker frozen first so it dies holding the job.
    const first = publishLegacy({ restUrl: `http://127.0.0.1:${victim.restPort}` }, author!.token, file, "survives the cluster").catch(
      (error: Error) => error,
    );
    const jobId = await taken;
    worker.child.kill("SIGSTOP");
    await Promise.all([worker.kill("SIGKILL"), victim.kill("SIGKILL")]);
    assert.ok((await first) instanceof Error, "the app never heard back from the first attempt");
    // Another worker takes the job once its lock lapses; the app retries through the balancer.
    await worker.start();
    const retry = await publishLegacy(cluster, author!.token, file, "survives the cluster");
    assert.equal(retry.body.status_code, 0, JSON.stringify(retry.body));
    const list = await legacy(cluster, "/douyin/publish/list/", { user_id: author!.userId, token: author!.token });
    const videos = list.body.video_list as { id: number; title: string }[];
    assert.equal(videos.length, 1, "one video, not two");
    assert.equal(mediaJobId(videos[0]!.id), jobId, "the first attempt's video");
    await events.close();
    connection.disconnect();
    await victim.processes[0]!.start();
    await cluster.waitUntilUp(victim.index);
  });
});
