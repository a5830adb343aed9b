// One uploader cannot stall publishing for everyone. An H.264 file with its keyframes stripped
// passes ffprobe, and a decoder left alone decodes (and refuses) every frame of it: cover
// extraction is bounded in packets, so such a file is refused in bounded work. And however slow
// one uploader's files are, they hold at most MEDIA_JOBS_PER_USER media workers: another user's
// publish goes ahead of that uploader's queued jobs, which still complete in their turn. And a
// user's publishes an hour are limited.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { queuePrefix } from "../platform/queues";
import { MEDIA_QUEUE } from "../subgraphs/video/jobs";
import { eventually, legacy, publishLegacy, registerUser } from "./client";
import { makeKeyframeStrippedVideo, makeVideo, removeMedia } from "./media";
import { startStack, type Stack } from "./stack";

after(() => removeMedia());

async function publishList(stack: Stack, userId: number): Promise<{ id: number; title: string }[]> {
  const list = await legacy(stack, "/douyin/publish/list/", { user_id: userId });
  assert.equal(list.body.status_code, 0, list.text);
  return list.body.video_list;
}

/** A publish started now, with how long it took to be answered. */
async function timedPublish(stack: Stack, token: string, file: string, title: string) {
  const started = Date.now();
  const answer = await publishLegacy(stack, token, file, title);
  return { ...answer, ms: Date.now() - started, at: Date.now() };
}

describe("cover extraction of a keyframe-stripped file, and publishes per user", () => {
  // A tool deadline shorter than decoding every frame of the file takes on any machine: a
  // refusal that is not "in time" shows the work stopped on its own, bounded in packets (fewer
  // than the default here, so that the bound holds with room to spare on a loaded machine).
  const TOOL_TIMEOUT_MS = 5000;
  const PUBLISHES_PER_HOUR = 3;
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      MEDIA_TOOL_TIMEOUT_MS: String(TOOL_TIMEOUT_MS),
      MEDIA_COVER_MAX_PACKETS: "30",
      RATE_LIMIT_PUBLISHES_PER_USER_PER_HOUR: String(PUBLISHES_PER_HOUR),
    });
  });
  after(async () => stack?.close());

  it("refuses it with the legacy shape and a readable message, without decoding it to the deadline", async () => {
    // 120 s of UHD: 3,600 frames, ~17 MB; decoding them all takes ffmpeg's one thread well over
    // 5 s (7 s for half as many on the machine these tests were written on).
    const stripped = makeKeyframeStrippedVideo("no-keyframes.mp4", 120);
    const author = await registerUser(stack, "stripped");
    const refused = await timedPublish(stack, author.token, stripped, "no keyframes");
    console.log(`keyframe-stripped file refused in ${refused.ms} ms`);
    assert.equal(refused.httpStatus, 200);
    assert.deepEqual(Object.keys(refused.body).sort(), ["status_code", "status_msg"]);
    assert.equal(refused.body.status_code, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.status_msg, "the file is not a playable video (no frame could be decoded)");
    assert.ok(refused.ms < TOOL_TIMEOUT_MS, `refused in ${refused.ms} ms, within one tool deadline`);
    assert.deepEqual(await publishList(stack, author.userId), []);

    // An ordinary video still gets its first frame as the cover.
    const fine = await publishLegacy(stack, author.token, makeVideo("after-stripped.mp4"), "an ordinary one");
    assert.equal(fine.body.status_code, 0, JSON.stringify(fine.body));
    assert.equal((await publishList(stack, author.userId)).length, 1);
  });

  it("refuses a user's publishes past RATE_LIMIT_PUBLISHES_PER_USER_PER_HOUR with 429 and retry_after, and no one else's", async () => {
    const [busy, other] = await Promise.all([registerUser(stack, "busy"), registerUser(stack, "calm")]);
    // Files of different lengths: the same file again would be a retry of one publish.
    for (let i = 1; i <= PUBLISHES_PER_HOUR; i++) {
      const answer = await publishLegacy(stack, busy.token, makeVideo(`busy-${i}.mp4`, { seconds: i }), `video ${i}`);
      assert.equal(answer.body.status_code, 0, JSON.stringify(answer.body));
    }
    const refused = await publishLegacy(stack, busy.token, makeVideo("busy-over.mp4", { seconds: PUBLISHES_PER_HOUR + 1 }), "one too many");
    assert.equal(refused.body.status_code, 429, JSON.stringify(refused.body));
    assert.match(refused.body.status_msg, /too many videos published in an hour; try again in \d+ s/);
    assert.ok(Number((refused.body as { retry_after?: number }).retry_after) > 0, JSON.stringify(refused.body));
    assert.equal((await publishList(stack, busy.userId)).length, PUBLISHES_PER_HOUR);
    const calm = await publishLegacy(stack, other.token, makeVideo("calm.mp4"), "unaffected");
    assert.equal(calm.body.status_code, 0, JSON.stringify(calm.body));
  });
});

describe("media workers shared fairly between uploaders", () => {
  // The packet bound lifted, so each of the slow uploader's files takes its worker for seconds
  // (as any slow-but-valid file would): what is left to keep the other user waiting is the queue.
  let stack: Stack;
  let redis: Redis;
  let queue: Queue;
  before(async () => {
    stack = await startStack({ MEDIA_WORKER_CONCURRENCY: "2", MEDIA_JOBS_PER_USER: "1", MEDIA_COVER_MAX_PACKETS: "1000000" });
    redis = new Redis(stack.config.redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(MEDIA_QUEUE, { connection: redis, prefix: queuePrefix(stack.config) });
  });
  after(async () => {
    await queue?.close();
    redis?.disconnect();
    await stack?.close();
  });

  it("publishes another user's video ahead of one uploader's slow files, and still finishes the uploader's in turn", async () => {
    // 30 s of UHD each (900 frames, a few seconds of decoding); distinct files, so none is a retry of another.
    const slow = [makeKeyframeStrippedVideo("slow-1.mp4", 30), makeKeyframeStrippedVideo("slow-2.mp4", 31)];
    const ownQuick = makeVideo("uploader-quick.mp4");
    const [uploader, other] = await Promise.all([registerUser(stack, "hog"), registerUser(stack, "other")]);

    const uploaderPublishes = [
      ...slow.map((file, i) => timedPublish(stack, uploader.token, file, `slow ${i + 1}`)),
      timedPublish(stack, uploader.token, ownQuick, "quick, queued behind the slow ones"),
    ];
    // The other user's job is queued after all three of the uploader's.
    await eventually(async () => (await queue.getJobCountByTypes("waiting", "active", "delayed", "completed")) >= 3, "three jobs queued");
    const otherPublish = await timedPublish(stack, other.token, makeVideo("other-user.mp4"), "not stuck behind anyone");
    const [slow1, slow2, quick] = await Promise.all(uploaderPublishes);
    const firstSlowAnswer = Math.min(slow1!.at, slow2!.at);
    console.log(
      `other user's publish: ${otherPublish.ms} ms; uploader's slow ones: ${slow1!.ms} and ${slow2!.ms} ms; uploader's quick one: ${quick!.ms} ms`,
    );

    assert.equal(otherPublish.body.status_code, 0, JSON.stringify(otherPublish.body));
    assert.ok(otherPublish.at < firstSlowAnswer, "the other user's video was published before either slow file was done");
    assert.ok(otherPublish.ms < 10_000, `the other user's publish took ${otherPublish.ms} ms (bound: 10 s)`);

    // The uploader's jobs were put back, not dropped: each ends as it would have alone.
    for (const refused of [slow1!, slow2!]) {
      assert.equal(refused.body.status_code, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.status_msg, "the file is not a playable video (no frame could be decoded)");
    }
    assert.equal(quick!.body.status_code, 0, JSON.stringify(quick!.body));
    const published = await publishList(stack, uploader.userId);
    assert.deepEqual(
      published.map((video) => video.title),
      ["quick, queued behind the slow ones"],
    );
    // The app's retry of that publish answers the same video.
    const retry = await publishLegacy(stack, uploader.token, ownQuick, "quick, queued behind the slow ones");
    assert.equal(retry.body.status_code, 0, JSON.stringify(retry.body));
    assert.deepEqual(
      (await publishList(stack, uploader.userId)).map((video) => video.id),
      published.map((video) => video.id),
    );
  });
});
