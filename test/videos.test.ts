// Videos through both front doors: publishing real media (made with ffmpeg at test time) with
// covers cut by the real media worker, the feed and its paging, publish lists, and what a
// feed page costs.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { eventually, graphql, legacy, publishLegacy, readMetric, settledMetric, uniqueName } from "./client";
import { makeEmptyFile, makeImage, makeTextFile, makeVideo, removeMedia } from "./media";
import { dropCached, stackModes, startStack, withDatabase, type Stack } from "./stack";

const MAX_UPLOAD_BYTES = 512 * 1024;

let stack: Stack;
let sampleVideo: string;

before(() => {
  sampleVideo = makeVideo("sample.mp4");
});
after(() => removeMedia());

async function register() {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName("v"), password: "pw" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

/** publishVideo through the gateway, per the GraphQL multipart request spec. */
async function publishGraphQL(token: string, file: string, title: string) {
  const form = new FormData();
  form.set(
    "operations",
    JSON.stringify({
      query: `mutation ($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id title playUrl coverUrl createdAt author { id name workCount } } }`,
      variables: { file: null, title },
    }),
  );
  form.set("map", JSON.stringify({ 0: ["variables.file"] }));
  form.set("0", new Blob([fs.readFileSync(file)], { type: "video/mp4" }), "clip.mp4");
  const response = await fetch(stack.graphqlUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "true" },
    body: form,
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

const sha256 = (bytes: Buffer | Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function objectKeys(): Promise<string[]> {
  const { Client } = await import("minio");
  const endpoint = new URL(stack.config.storage.endpoint);
  const client = new Client({
    endPoint: endpoint.hostname,
    port: Number(endpoint.port),
    useSSL: false,
    accessKey: stack.config.storage.accessKey,
    secretKey: stack.config.storage.secretKey,
    pathStyle: true,
  });
  const keys: string[] = [];
  for await (const item of client.listObjectsV2(stack.config.storage.bucket, "", true)) keys.push((item as { name: string }).name);
  return keys;
}

async function workCount(userId: number): Promise<number> {
  const answer = await legacy(stack, "/douyin/user/", { user_id: userId });
  return answer.body.user.work_count;
}

for (const mode of stackModes(["colocated", "split"])) {
  describe(`${mode} stack`, () => {
    before(async () => {
      stack = await startStack({ MEDIA_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) }, mode);
    });
    after(() => stack?.close());

    describe("publishing", () => {
      it("publishes through REST; the feed and the publish list show it with a cover, and both URLs serve the right bytes", async () => {
        const author = await register();
        const published = await publishLegacy(stack, author.token, sampleVideo, "my first clip");
        assert.deepEqual(published.body, { status_code: 0, status_msg: "success" });

        const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId, token: author.token });
        assert.equal(list.body.status_code, 0, JSON.stringify(list.body));
        assert.equal(list.body.video_list.length, 1);
        const video = list.body.video_list[0];
        assert.deepEqual(Object.keys(video).sort(), [
          "author",
          "comment_count",
          "cover_url",
          "favorite_count",
          "id",
          "is_favorite",
          "play_url",
          "title",
        ]);
        assert.equal(video.title, "my first clip");
        assert.equal(video.author.id, author.userId);
        assert.ok(Number.isSafeInteger(video.id));

        const played = await fetch(video.play_url);
        assert.equal(played.status, 200);
        assert.equal(sha256(new Uint8Array(await played.arrayBuffer())), sha256(fs.readFileSync(sampleVideo)));
        const ranged = await fetch(video.play_url, { headers: { range: "bytes=0-99" } });
        assert.equal(ranged.status, 206);
        assert.equal((await ranged.arrayBuffer()).byteLength, 100);
        const cover = Buffer.from(await (await fetch(video.cover_url)).arrayBuffer());
        assert.deepEqual([...cover.subarray(0, 2)], [0xff, 0xd8], "the cover is a JPEG");

        const feed = await legacy(stack, "/douyin/feed/", { token: author.token });
        assert.equal(feed.body.status_code, 0);
        assert.equal(feed.body.video_list[0].id, video.id);
        assert.ok(feed.body.next_time > 1e11, "next_time in milliseconds when none was sent");
        await eventually(async () => (await workCount(author.userId)) === 1, "work_count to reach 1");
      });

      it("publishes through the gateway with GraphQL multipart", async () => {
        const author = await register();
        const answer = await publishGraphQL(author.token, sampleVideo, "graphql clip");
        assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
        const video = answer.data.publishVideo;
        assert.equal(video.title, "graphql clip");
        assert.equal(video.author.id, String(author.userId));
        assert.match(video.createdAt, /^\d{4}-\d{2}-\d{2}T.*Z$/);
        assert.equal(sha256(new Uint8Array(await (await fetch(video.playUrl)).arrayBuffer())), sha256(fs.readFileSync(sampleVideo)));
        assert.equal((await fetch(video.coverUrl)).headers.get("content-type"), "image/jpeg");
        const byId = await graphql(
          stack.graphqlUrl,
          `
            query ($id: ID!) {
              video(id: $id) {
                id
                title
              }
            }
          `,
          { id: video.id },
        );
        assert.deepEqual(byId.data.video, { id: video.id, title: "graphql clip" });
      });

      it("masks sensitive words in titles and refuses empty or overlong titles and a missing token", async () => {
        const author = await register();
        assert.equal((await publishLegacy(stack, author.token, sampleVideo, "我们不赌博")).body.status_code, 0);
        const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId });
        assert.equal(list.body.video_list[0].title, "我们不**");
        assert.match((await publishLegacy(stack, author.token, sampleVideo, "")).body.status_msg, /title/);
        assert.match((await publishLegacy(stack, author.token, sampleVideo, "长".repeat(101))).body.status_msg, /title is too long/);
        const anonymous = await publishLegacy(stack, "", sampleVideo, "no token");
        assert.equal(anonymous.body.status_code, 401);
      });

      it("rejects a text file, an image, an empty file and an oversized file, leaving no object and no row", async () => {
        const author = await register();
        const keysBefore = (await objectKeys()).length;
        const oversized = makeTextFile("big.mp4");
        fs.writeFileSync(oversized, randomBytes(MAX_UPLOAD_BYTES + 1024));
        const cases: [string, RegExp][] = [
          [makeTextFile("notes.mp4"), /not a playable video/],
          [makeImage("picture.mp4"), /not a playable video|no duration/],
          [makeEmptyFile("empty.mp4"), /empty/],
          [oversized, /too large/],
        ];
        for (const [file, message] of cases) {
          const answer = await publishLegacy(stack, author.token, file, "should not exist");
          assert.equal(answer.httpStatus, 200);
          assert.notEqual(answer.body.status_code, 0, file);
          assert.match(answer.body.status_msg, message, file);
          const viaGraphQL = await publishGraphQL(author.token, file, "should not exist either");
          assert.equal(viaGraphQL.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(viaGraphQL.errors));
          assert.match(viaGraphQL.errors![0]!.message, message);
        }
        const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId });
        assert.deepEqual(list.body.video_list, []);
        assert.equal((await objectKeys()).length, keysBefore, "no object left behind");
        assert.equal(await workCount(author.userId), 0);
      });

      it("counts concurrent publishes exactly", async () => {
        const author = await register();
        // Six different files: the same file again from the same author is the same publish (below).
        const files = Array.from({ length: 6 }, (_, i) => makeVideo(`burst-${mode}-${i}.mp4`, { width: 320 + 2 * i }));
        const answers = await Promise.all(files.map((file, i) => publishLegacy(stack, author.token, file, `burst ${i}`)));
        for (const answer of answers) assert.equal(answer.body.status_code, 0, answer.body.status_msg);
        await eventually(async () => (await workCount(author.userId)) === 6, "work_count to reach 6");
        const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId });
        assert.equal(list.body.video_list.length, 6);
      });
    });

    describe("publishing the same file again", () => {
      it("answers a repeat by the same author with the first video, whatever its title; another author gets a video of their own", async () => {
        const author = await register();
        const keysBefore = (await objectKeys()).length;
        const first = await publishGraphQL(author.token, sampleVideo, "the first title");
        assert.equal(first.errors, undefined, JSON.stringify(first.errors));
        const again = await publishGraphQL(author.token, sampleVideo, "a second title");
        assert.equal(again.errors, undefined, JSON.stringify(again.errors));
        assert.equal(again.data.publishVideo.id, first.data.publishVideo.id);
        assert.equal(again.data.publishVideo.title, "the first title");
        assert.deepEqual((await publishLegacy(stack, author.token, sampleVideo, "a legacy retry")).body, {
          status_code: 0,
          status_msg: "success",
        });
        const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId });
        assert.deepEqual(
          list.body.video_list.map((video: { id: number; title: string }) => [String(video.id), video.title]),
          [[first.data.publishVideo.id, "the first title"]],
        );
        assert.equal((await objectKeys()).length, keysBefore + 2, "one video and one cover stored");

        const other = await register();
        const theirs = await publishGraphQL(other.token, sampleVideo, "the same file, another author");
        assert.equal(theirs.errors, undefined, JSON.stringify(theirs.errors));
        assert.notEqual(theirs.data.publishVideo.id, first.data.publishVideo.id);
        assert.equal((await legacy(stack, "/douyin/publish/list/", { user_id: other.userId })).body.video_list.length, 1);
        await eventually(async () => (await workCount(author.userId)) === 1 && (await workCount(other.userId)) === 1, "work counts of 1");
      });

      it("answers two simultaneous publishes of one file with one video", async () => {
        const author = await register();
        const clip = makeVideo(`twice-${mode}.mp4`, { width: 336 });
        const answers = await Promise.all([publishGraphQL(author.token, clip, "tap"), publishGraphQL(author.token, clip, "double tap")]);
        for (const answer of answers) assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
        assert.equal(answers[0].data.publishVideo.id, answers[1].data.publishVideo.id);
        const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId });
        assert.equal(list.body.video_list.length, 1);
        assert.equal(String(list.body.video_list[0].id), answers[0].data.publishVideo.id);
      });
    });

    describe("the feed", () => {
      const seeded: { id: number; createdAt: number }[] = [];
      let newest = 0;

      before(async () => {
        // 65 videos in the past, with several sharing a second and some sharing a millisecond, so
        // page boundaries fall inside such groups.
        const authors = await Promise.all([register(), register(), register()]);
        const base = Date.UTC(2025, 5, 1, 12, 0, 0) + 500;
        const times: number[] = [];
        for (let i = 0; i < 65; i++) times.push(base - Math.floor(i / 4) * 1000 - (i % 4 === 3 ? 0 : (i % 4) * 7));
        await withDatabase(stack, "video", async (client) => {
          for (const [i, createdAt] of times.entries()) {
            const id = 1_000_000 + i;
            await client.query(
              `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
             VALUES ($1, $2, $3, $4, $5, 1000, 320, 240, $6)`,
              [id, authors[i % 3]!.userId, `seeded ${i}`, `videos/${id}.mp4`, `covers/${id}.jpg`, new Date(createdAt)],
            );
            seeded.push({ id, createdAt });
          }
        });
        seeded.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
        newest = seeded[0]!.createdAt;
        // Rows written behind the stack's back: its feed cache forgets what it knew.
        await dropCached(stack, "video:newest-videos", ["newest"]);
      });

      async function walk(unit: "ms" | "s"): Promise<number[]> {
        const seen: number[] = [];
        let latest = unit === "ms" ? newest + 1 : Math.floor(newest / 1000) + 1;
        for (let page = 0; page < 10; page++) {
          const answer = await legacy(stack, "/douyin/feed/", { latest_time: latest });
          assert.equal(answer.body.status_code, 0, answer.text);
          assert.ok(answer.body.video_list.length <= 30);
          if (answer.body.video_list.length === 0) {
            assert.equal(answer.body.next_time, latest, "an empty page hands back the latest_time used");
            return seen;
          }
          seen.push(...answer.body.video_list.map((v: { id: number }) => v.id));
          assert.ok(unit === "ms" ? answer.body.next_time > 1e11 : answer.body.next_time < 1e11, `next_time in ${unit}`);
          latest = answer.body.next_time;
        }
        assert.fail("the feed did not end");
      }

      it("pages through all 65 videos newest first without gaps or duplicates, in milliseconds and in seconds", async () => {
        const expected = seeded.map((v) => v.id);
        assert.deepEqual(await walk("ms"), expected);
        assert.deepEqual(await walk("s"), expected);
      });

      it("pages the same way through GraphQL", async () => {
        const seen: string[] = [];
        let latestTime: string | null = new Date(newest + 1).toISOString();
        while (latestTime) {
          const answer: any = await graphql(
            stack.graphqlUrl,
            `
              query ($t: DateTime) {
                feed(latestTime: $t, limit: 30) {
                  nextTime
                  videos {
                    id
                    createdAt
                  }
                }
              }
            `,
            {
              t: latestTime,
            },
          );
          assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
          seen.push(...answer.data.feed.videos.map((v: { id: string }) => v.id));
          latestTime = answer.data.feed.nextTime;
        }
        assert.deepEqual(
          seen,
          seeded.map((v) => String(v.id)),
        );
      });

      it("answers bad latest_time and limits clearly", async () => {
        for (const bad of ["yesterday", "-5", "1.5", "99999999999999999"]) {
          const answer = await legacy(stack, "/douyin/feed/", { latest_time: bad });
          assert.notEqual(answer.body.status_code, 0, bad);
          assert.match(answer.body.status_msg, /latest_time/);
        }
        const negative = await graphql(
          stack.graphqlUrl,
          `
            {
              feed(limit: -1) {
                nextTime
              }
            }
          `,
        );
        assert.equal(negative.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
        const capped = await graphql(
          stack.graphqlUrl,
          `
            {
              feed(limit: 100000) {
                videos {
                  id
                }
              }
            }
          `,
        );
        assert.ok(capped.data.feed.videos.length <= stack.config.limits.listMax);
      });

      it("fetches each subgraph once for a page of 30, and runs no SQL once its entities are cached", async () => {
        const names = ["user", "video", "relation"] as const;
        const token = (await register()).token;
        const statements = () =>
          Promise.all(names.map((name) => readMetric(stack.metricsUrl(name), "db_statements_total", { database: name })));
        // Let background consumers (registration events, counters) finish before measuring.
        await Promise.all(names.map((name) => settledMetric(stack.metricsUrl(name), "db_statements_total", { database: name })));
        const fetches = () =>
          Promise.all(names.map((name) => readMetric(stack.metricsUrl("gateway"), "subgraph_fetches_total", { subgraph: name })));
        const page = async () => {
          const statementsBefore = await statements();
          const fetchesBefore = await fetches();
          const answer = await legacy(stack, "/douyin/feed/", { latest_time: newest + 1, token });
          assert.equal(answer.body.video_list.length, 28, "30 trimmed back to a whole second");
          assert.deepEqual(
            (await fetches()).map((count, i) => count - fetchesBefore[i]!),
            [1, 1, 1],
            "user, video and relation each fetched once",
          );
          return (await statements()).map((count, i) => count - statementsBefore[i]!);
        };
        const cold = await page();
        // At most: the newest videos, their rows, their authors' counters, what the caller likes.
        assert.ok(
          cold.every((count) => count <= 4),
          `statements per subgraph: ${cold}`,
        );
        assert.deepEqual(await page(), [0, 0, 0], "the same page again, all from the caches");
      });
    });
  });
}

describe("after the publish dedupe window", () => {
  before(async () => {
    stack = await startStack({ PUBLISH_DEDUPE_WINDOW_SECONDS: "1" });
  });
  after(() => stack?.close());

  it("publishes the same file from the same author as a new video", async () => {
    const author = await register();
    const first = await publishGraphQL(author.token, sampleVideo, "before");
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    // The window counts from the first publish's start; a little over it has certainly passed.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await publishGraphQL(author.token, sampleVideo, "after");
    assert.equal(second.errors, undefined, JSON.stringify(second.errors));
    assert.notEqual(second.data.publishVideo.id, first.data.publishVideo.id);
    assert.equal(second.data.publishVideo.title, "after");
    const list = await legacy(stack, "/douyin/publish/list/", { user_id: author.userId });
    assert.deepEqual(
      list.body.video_list.map((video: { title: string }) => video.title),
      ["after", "before"],
    );
  });
});
