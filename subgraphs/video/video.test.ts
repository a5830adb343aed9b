// The video subgraph on its own schema (fast tier): publishing real files (ffmpeg, an
// in-process S3 server), the feed's paging rule, likes and comments with their caches and
// exact counters.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Upload, type FileUpload } from "graphql-upload-minimal";
import { createLogger } from "../../platform/logger";
import type { RunningService } from "../../platform/http";
import { startStorageServer } from "../../media/storage-server";
import { fastConfig, signedIn, startInProcess, type InProcessStack } from "../../test/in-process";
import { makeEmptyFile, makeTextFile, makeVideo, removeMedia } from "../../test/media";
import { resolveMediaTool } from "../../media/tools";

const MAX_UPLOAD_BYTES = 200_000;
let stack: InProcessStack;
let storage: RunningService;
let storageDir: string;
/** FFPROBE_PATH of the stack: a link to the real ffprobe, which a test removes to break publishing. */
let ffprobeLink: string;
const REAL_FFPROBE = resolveMediaTool("ffprobe", { ffprobePath: process.env.FFPROBE_PATH }).path;
const video = () => stack.subgraph("video");

before(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "fast-s3-"));
  const storageConfig = fastConfig({ DATA_DIR: storageDir });
  storage = await startStorageServer(storageConfig, createLogger(storageConfig, "storage"), 0);
  ffprobeLink = path.join(storageDir, "ffprobe");
  fs.symlinkSync(REAL_FFPROBE, ffprobeLink);
  stack = await startInProcess({
    subgraphs: ["video"],
    env: {
      DATA_DIR: storageDir,
      S3_PORT: String(storage.port),
      MEDIA_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      CACHE_SECOND_DELETE_MS: "20",
      FFPROBE_PATH: ffprobeLink,
    },
  });
});
after(async () => {
  await stack.close();
  await storage.close();
  fs.rmSync(storageDir, { recursive: true, force: true });
  removeMedia();
});

/** A file just over the upload limit: refused while it streams, before anyone probes it. */
function bigFile(name: string, bytes: number): string {
  const file = path.join(storageDir, name);
  fs.writeFileSync(file, Buffer.alloc(bytes, 7));
  return file;
}

/** A file as the gateway's multipart parser hands it to the subgraph. */
function uploadOf(file: string, mimetype = "video/mp4"): Upload {
  const upload = new Upload();
  const received: FileUpload = {
    filename: path.basename(file),
    fieldName: "file",
    mimetype,
    encoding: "7bit",
    createReadStream: () => fs.createReadStream(file),
  };
  (upload as Upload & { resolve(file: FileUpload): void }).resolve(received);
  return upload;
}

const PUBLISH = `mutation ($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id title playUrl coverUrl author { id workCount } } }`;
type Published = { publishVideo: { id: string; title: string; playUrl: string; coverUrl: string } };

let nextVideoId = 5_000_000;
/** A video row written straight into the store (publishing is tested once, below). */
async function seedVideo(authorId: number, createdAt: Date): Promise<number> {
  const id = (nextVideoId += 1);
  await video().database!.withSession((session) =>
    session.query(
      `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
       VALUES ($1, $2, $3, $4, $5, 1000, 320, 240, $6)`,
      [id, authorId, `seeded ${id}`, `videos/${id}.mp4`, `covers/${id}.jpg`, createdAt],
    ),
  );
  return id;
}

describe("publishing", () => {
  it("stores the file, cuts a cover, and answers with the video; its author's work count follows", async () => {
    const clip = makeVideo("fast.mp4");
    const result = await video().execute<Published>(PUBLISH, { file: uploadOf(clip), title: "my 赌博 clip" }, signedIn(42));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const published = result.data!.publishVideo;
    assert.equal(published.title, "my ** clip", "titles pass the sensitive-word filter");
    const [play, cover] = await Promise.all([fetch(published.playUrl), fetch(published.coverUrl)]);
    assert.equal(play.status, 200);
    assert.deepEqual(Buffer.from(await play.arrayBuffer()), fs.readFileSync(clip));
    assert.equal(cover.status, 200);
    assert.equal((await cover.arrayBuffer()).byteLength > 100, true, "a JPEG cover");
    await stack.settled();
    const author = await video().execute<{ _entities: { workCount: number }[] }>(
      `{ _entities(representations: [{ __typename: "User", id: "42" }]) { ... on User { workCount } } }`,
    );
    assert.equal(author.data?._entities[0]?.workCount, 1);
  });

  it("refuses what is not a playable video, an empty file and a file over the limit, as BAD_USER_INPUT", async () => {
    const cases: [string, string, RegExp][] = [
      [makeTextFile("notes.mp4"), "text/plain", /not a playable video/],
      [makeEmptyFile("empty.mp4"), "video/mp4", /empty/],
      [bigFile("big.mp4", MAX_UPLOAD_BYTES + 1), "video/mp4", /too large/],
    ];
    for (const [file, mimetype, message] of cases) {
      const result = await video().execute(PUBLISH, { file: uploadOf(file, mimetype), title: "nope" }, signedIn(43));
      assert.equal(result.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", path.basename(file));
      assert.match(result.errors![0]!.message, message);
    }
    const anonymous = await video().execute(PUBLISH, { file: uploadOf(makeVideo("anon.mp4")), title: "t" });
    assert.equal(anonymous.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });
});

describe("publishing the same file again", () => {
  it("answers the first video while it stands, and starts afresh after a failure of ours", async () => {
    const clip = makeVideo("again.mp4");
    const first = await video().execute<Published>(PUBLISH, { file: uploadOf(clip), title: "first" }, signedIn(44));
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    const again = await video().execute<Published>(PUBLISH, { file: uploadOf(clip), title: "again" }, signedIn(44));
    // The video itself, not its author's work count, which the counter drain may have moved on between the two answers.
    const theVideo = (published: Published | null | undefined) => {
      const { id, title, playUrl, coverUrl } = published!.publishVideo;
      return { id, title, playUrl, coverUrl };
    };
    assert.deepEqual(theVideo(again.data), theVideo(first.data), "the same video, with its first title");

    // ffprobe cannot start: the job fails for good after its retries, and says nothing of the file.
    const other = makeVideo("broken-tools.mp4", { width: 336 });
    fs.rmSync(ffprobeLink);
    let failed;
    try {
      failed = await video().execute<Published>(PUBLISH, { file: uploadOf(other), title: "unlucky" }, signedIn(44));
    } finally {
      fs.symlinkSync(REAL_FFPROBE, ffprobeLink);
    }
    assert.equal(failed.errors?.[0]?.extensions?.code, "INTERNAL_SERVER_ERROR", JSON.stringify(failed.errors));
    const retried = await video().execute<Published>(PUBLISH, { file: uploadOf(other), title: "lucky" }, signedIn(44));
    assert.equal(retried.errors, undefined, JSON.stringify(retried.errors));
    assert.equal(retried.data?.publishVideo.title, "lucky");
    assert.notEqual(retried.data?.publishVideo.id, first.data?.publishVideo.id);
  });
});

describe("the feed", () => {
  it("pages newest first and never ends a page inside a second that continues on the next one", async () => {
    const base = Date.UTC(2030, 0, 1, 12, 0, 0);
    // Three videos in one second, then one per second: a page of 2 cannot split the first second.
    const ids = [
      await seedVideo(7, new Date(base + 100)),
      await seedVideo(7, new Date(base + 200)),
      await seedVideo(7, new Date(base + 300)),
      await seedVideo(7, new Date(base + 1000)),
      await seedVideo(7, new Date(base + 2000)),
    ];
    const FEED = `query ($t: DateTime, $n: Int) { feed(latestTime: $t, limit: $n) { nextTime videos { id } } }`;
    type Feed = { feed: { nextTime: string | null; videos: { id: string }[] } };
    const seen: number[] = [];
    let latest: string | null = new Date(base + 5000).toISOString();
    for (let page = 0; page < 5 && latest; page++) {
      const result: Feed = (await video().execute<Feed>(FEED, { t: latest, n: 2 })).data!;
      seen.push(...result.feed.videos.map((v) => Number(v.id)).filter((id) => ids.includes(id)));
      latest = result.feed.videos.length > 0 ? result.feed.nextTime : null;
    }
    assert.deepEqual(seen, [...ids].reverse(), "every video once, newest first");
    const negative = await video().execute(FEED, { n: -1 });
    assert.equal(negative.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const badTime = await video().execute(`{ feed(latestTime: "yesterday") { nextTime } }`);
    assert.ok(badTime.errors?.length, "a malformed DateTime is refused");
  });
});

describe("likes and comments", () => {
  const LIKE = `mutation ($id: ID!) { likeVideo(videoId: $id) { id isFavorite } }`;
  const UNLIKE = `mutation ($id: ID!) { unlikeVideo(videoId: $id) { id isFavorite } }`;
  const VIDEO = `query ($id: ID!) { video(id: $id) { favoriteCount commentCount isFavorite } }`;
  type VideoState = { video: { favoriteCount: number; commentCount: number; isFavorite: boolean } };

  it("likes idempotently: the caller sees it at once through the cache, counters settle exactly", async () => {
    const videoId = String(await seedVideo(90, new Date()));
    const read = async (userId: number) => (await video().execute<VideoState>(VIDEO, { id: videoId }, signedIn(userId))).data!.video;
    assert.equal((await read(91)).isFavorite, false, "cached as not liked");
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await video().execute<{ likeVideo: { isFavorite: boolean } }>(LIKE, { id: videoId }, signedIn(91))).data?.likeVideo.isFavorite,
        true,
      );
    await video().execute(LIKE, { id: videoId }, signedIn(92));
    await video().execute(UNLIKE, { id: videoId }, signedIn(92));
    await video().execute(UNLIKE, { id: videoId }, signedIn(92));
    await stack.settled();
    assert.deepEqual(await read(91), { favoriteCount: 1, commentCount: 0, isFavorite: true });
    assert.equal((await read(92)).isFavorite, false);
    const USER = `{ _entities(representations: [{ __typename: "User", id: "90" }, { __typename: "User", id: "91" }]) { ... on User { favoriteCount totalFavorited likedVideos { nodes { id } } } } }`;
    const users = (
      await video().execute<{ _entities: { favoriteCount: number; totalFavorited: number; likedVideos: { nodes: { id: string }[] } }[] }>(
        USER,
      )
    ).data!._entities;
    assert.equal(users[0]!.totalFavorited, 1, "the author received one like");
    assert.equal(users[1]!.favoriteCount, 1);
    assert.deepEqual(
      users[1]!.likedVideos.nodes.map((n) => n.id),
      [videoId],
    );
    assert.equal((await video().execute(LIKE, { id: "123" }, signedIn(91))).errors?.[0]?.extensions?.code, "NOT_FOUND");
  });

  it("posts, lists newest first from a cache kept exact, and deletes only the author's own", async () => {
    const videoId = String(await seedVideo(95, new Date()));
    const ADD = `mutation ($v: ID!, $c: String!) { addComment(videoId: $v, content: $c) { id content user { id } } }`;
    const LIST = `query ($id: ID!) { video(id: $id) { comments { nodes { id content } } } }`;
    const DELETE = `mutation ($id: ID!) { deleteComment(commentId: $id) }`;
    const list = async () =>
      (await video().execute<{ video: { comments: { nodes: { id: string; content: string }[] } } }>(LIST, { id: videoId })).data!.video
        .comments.nodes;
    assert.deepEqual(await list(), [], "an empty first page, now cached");
    const first = (await video().execute<{ addComment: { id: string } }>(ADD, { v: videoId, c: "first" }, signedIn(96))).data!.addComment;
    const second = (await video().execute<{ addComment: { id: string } }>(ADD, { v: videoId, c: "second" }, signedIn(97))).data!.addComment;
    assert.deepEqual(
      (await list()).map((c) => c.content),
      ["second", "first"],
      "the cache was invalidated by each post",
    );
    assert.equal((await video().execute(DELETE, { id: first.id }, signedIn(97))).errors?.[0]?.extensions?.code, "FORBIDDEN");
    assert.equal((await video().execute<{ deleteComment: boolean }>(DELETE, { id: first.id }, signedIn(96))).data?.deleteComment, true);
    assert.deepEqual(
      (await list()).map((c) => c.id),
      [second.id],
    );
    await stack.settled();
    assert.equal((await video().execute<VideoState>(VIDEO, { id: videoId })).data!.video.commentCount, 1);
    assert.equal((await video().execute(ADD, { v: videoId, c: "" }, signedIn(96))).errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });
});
